"""Records a shapefile's .shx leaves out: in the .shp, never read.

The move: write a layer with its fine features (5 cm steps) beside its coarse ones (10 m),
then give the .shp a .shx (and .dbf) that points GDAL at the coarse records alone: the
.shx and .dbf of a file of the coarse features, a .shx listing them wherever they are, a
.shx header counting fewer entries than it holds, a .dbf cut after the coarse records, or
.shx entries pointing again at records already read. Every reader shows the coarse layer;
the fine one leaves with the file. Claim under test: every record GDAL does not read is
found (by the record headers of the .shp), counted, placed and met with the zone, and the
verdict is held (never ``allow``).

Truth: the records are walked here from the .shp's own headers (struct), GDAL's reading
is pyogrio's, and which skipped features meet the zone is computed with shapely on the
features as written, carried to lon/lat with pyproj. The control is the same .shp with
the .shx and .dbf GDAL wrote for it.
"""

from __future__ import annotations

import zipfile

import pyogrio
import pytest

from compliance import Checker, Effect
from tests.adversarial.unindexed_files import (
    CODE,
    assert_clean,
    assert_held,
    far_zone,
    features,
    meeting,
    shapefile_trick,
    shp_walk,
    write,
    zone_over,
)
from tests.measure.leak_files import PLACES, zone_file, zone_pack

# name: (place, kind, pattern of fine (True) and coarse features, how the .shx hides the
# fine ones, zone over the features [a, b] or None for a zone nothing meets)
VARIANTS = {
    "oslo_lines_appended_short_shx": (
        "oslo_utm32",
        "line",
        [False] * 30 + [True] * 30,
        "short",
        (35, 44),
    ),
    "sydney_polygons_interleaved_skipping_shx": (
        "sydney_mga56",
        "polygon",
        [i % 3 == 2 for i in range(45)],
        "skip",
        (10, 20),
    ),
    "nairobi_points_shx_header_counts_fewer": (
        "nairobi_wgs84",
        "point",
        [False] * 40 + [True] * 10,
        "shx_header",
        None,
    ),
    "buenos_aires_multilines_dbf_cut_short": (
        "buenos_aires_webmerc",
        "multiline",
        [False] * 20 + [True] * 20,
        "dbf_cut",
        (18, 25),
    ),
    "oslo_lines_shx_repeating_entries": (
        "oslo_utm32",
        "line",
        [False] * 30 + [True] * 25,
        "repeats",
        (28, 40),
    ),
}


def _case(tmp_path, name):  # type: ignore[no-untyped-def]
    place, kind, fine, how, over = VARIANTS[name]
    crs = PLACES[place][2]
    geoms = features(place, kind, fine)
    zone = zone_over(place, geoms, *over) if over else far_zone(place)
    checker = Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, zone))
    return crs, geoms, fine, how, zone, checker


@pytest.mark.parametrize("name", VARIANTS)
def test_records_the_shx_leaves_out_are_found(tmp_path, name):
    crs, geoms, fine, how, zone, checker = _case(tmp_path, name)
    read = [i for i, f in enumerate(fine) if not f]
    if how == "skip":
        assert read != list(range(len(read)))  # the fine records sit between the coarse
    shp = shapefile_trick(tmp_path / "trick", crs, geoms, read, how)
    walked = shp_walk(shp)
    assert len(walked) == len(geoms)  # the .shp holds them all
    gdal_reads = len(pyogrio.read_arrow(shp)[1])
    # GDAL reads the coarse records (the repeated entries read them a second time).
    assert gdal_reads == (len(geoms) if how == "repeats" else len(read))
    skipped = [i for i, f in enumerate(fine) if f]
    in_zone = len(meeting(crs, [geoms[i] for i in skipped], zone))
    met = bool(meeting(crs, geoms, zone))
    if name != "nairobi_points_shx_header_counts_fewer":
        assert in_zone > 0
    verdict = checker.check(shp)
    assert_held(verdict, len(skipped), in_zone, gdal_reads, met)

    control = checker.check(write(tmp_path / "control.shp", crs, geoms))
    assert_clean(control, met)
    assert control.profile.feature_count == len(geoms)


@pytest.mark.parametrize("name", list(VARIANTS)[:3])
def test_a_shapefile_written_whole_has_no_unindexed_record(tmp_path, name):
    crs, geoms, _, _, zone, checker = _case(tmp_path, name)
    verdict = checker.check(write(tmp_path / "whole.shp", crs, geoms))
    assert_clean(verdict, bool(meeting(crs, geoms, zone)))


@pytest.mark.parametrize(
    "stray",
    [b"\0" * 3, b"\0" * 100, b"\x00\x00\x00\x07\x7f\xff\xff\xff"],
    ids=["3_bytes", "length_0", "length_past_the_end"],
)
def test_bytes_after_the_last_record_hold_the_verdict(tmp_path, stray):
    """A walk that cannot follow the .shp to its end says where: what lies past it is
    unknown (here 3 bytes, a record of length 0, a record longer than the file)."""
    place = "oslo_utm32"
    crs = PLACES[place][2]
    geoms = features(place, "line", [False] * 10)
    shp = write(tmp_path / "roads.shp", crs, geoms)
    with shp.open("ab") as f:
        f.write(stray)
    assert len(pyogrio.read_arrow(shp)[1]) == len(geoms)  # GDAL reads every feature
    verdict = Checker(
        packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, far_zone(place))
    ).check(shp)
    leaks = verdict.profile.leaks
    assert leaks.unindexed_records == 0
    assert len(leaks.unindexed_damaged) == 1 and leaks.unindexed_damaged[0].startswith("roads.shp")
    assert verdict.verdict == Effect.review
    assert CODE in {f.rule_id for f in verdict.findings}


def test_a_zipped_shapefile_with_a_short_shx_is_held(tmp_path):
    crs, geoms, fine, how, zone, checker = _case(tmp_path, "oslo_lines_appended_short_shx")
    read = [i for i, f in enumerate(fine) if not f]
    shp = shapefile_trick(tmp_path / "trick", crs, geoms, read, how)
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.parent.glob("roads.*"):
            z.write(part, part.name)
    skipped = [geoms[i] for i, f in enumerate(fine) if f]
    assert_held(
        checker.check(archive),
        len(skipped),
        len(meeting(crs, skipped, zone)),
        len(read),
        bool(meeting(crs, geoms, zone)),
    )
