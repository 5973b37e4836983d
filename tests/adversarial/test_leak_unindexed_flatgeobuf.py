"""FlatGeobuf features past the count in its header: in the file, never read.

The move: write a layer's coarse features (10 m steps) and then its fine ones (5 cm), and
lower the header's ``features_count`` to the coarse ones (a file without a spatial index),
or write the coarse ones with their spatial index and append the fine features' records
after them. GDAL reads as many features as the header counts; the rest leave with the
file. Claim under test: every feature past the count is found (by the size that leads
each feature), counted, rebuilt from its flatbuffer, placed and met with the zone, and
the verdict is held (never ``allow``).

Truth: the features are walked here from their size prefixes (struct), GDAL's reading is
pyogrio's, and which skipped features meet the zone is computed with shapely on the
features as written, carried to lon/lat with pyproj. The control is the file GDAL wrote.
"""

from __future__ import annotations

import pyogrio
import pytest

from compliance import Checker, Effect
from compliance.errors import UnreadableDataset
from tests.adversarial.unindexed_files import (
    CODE,
    assert_clean,
    assert_held,
    far_zone,
    features,
    fgb_trick,
    fgb_walk,
    header_end,
    meeting,
    with_count,
    write,
    zone_over,
)
from tests.measure.leak_files import PLACES, zone_file, zone_pack

# name: (place, kind, coarse features, fine features after them, how the fine ones are
# hidden, zone over the features [a, b] or None for a zone nothing meets)
VARIANTS = {
    "nairobi_lines_count_halved": ("nairobi_wgs84", "line", 30, 30, "count", (35, 44)),
    "sydney_points_count_one_short": ("sydney_mga56", "point", 49, 1, "count", (45, 49)),
    "oslo_polygons_indexed_appended": ("oslo_utm32", "polygon", 40, 20, "indexed", (38, 50)),
    "buenos_aires_multilines_indexed_appended": (
        "buenos_aires_webmerc",
        "multiline",
        30,
        30,
        "indexed",
        None,
    ),
}


def _case(tmp_path, name):  # type: ignore[no-untyped-def]
    place, kind, coarse, fine, how, over = VARIANTS[name]
    crs = PLACES[place][2]
    geoms = features(place, kind, [False] * coarse + [True] * fine)
    zone = zone_over(place, geoms, *over) if over else far_zone(place)
    checker = Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, zone))
    return crs, geoms, coarse, how, zone, checker


@pytest.mark.parametrize("name", VARIANTS)
def test_features_past_the_header_count_are_found(tmp_path, name):
    crs, geoms, coarse, how, zone, checker = _case(tmp_path, name)
    path = fgb_trick(tmp_path / "trick", crs, geoms, coarse, how)
    assert len(pyogrio.read_arrow(path)[1]) == coarse  # GDAL reads the coarse ones
    if how == "count":  # no index: the features follow the header, all of them
        assert len(fgb_walk(path, header_end(path))) == len(geoms)
    skipped = geoms[coarse:]
    in_zone = len(meeting(crs, skipped, zone))
    met = bool(meeting(crs, geoms, zone))
    if VARIANTS[name][5] is not None:
        assert in_zone > 0
    verdict = checker.check(path)
    assert_held(verdict, len(skipped), in_zone, coarse, met)

    control = write(tmp_path / "control.fgb", crs, geoms, driver="FlatGeobuf")
    assert_clean(checker.check(control), met)


@pytest.mark.parametrize("index", ["YES", "NO"])
@pytest.mark.parametrize("name", list(VARIANTS)[:2])
def test_a_flatgeobuf_written_whole_has_no_unindexed_feature(tmp_path, name, index):
    crs, geoms, _, _, zone, checker = _case(tmp_path, name)
    path = write(tmp_path / "whole.fgb", crs, geoms, driver="FlatGeobuf", SPATIAL_INDEX=index)
    assert_clean(checker.check(path), bool(meeting(crs, geoms, zone)))


def test_a_header_counting_none_has_gdal_read_them_all(tmp_path):
    """A count of 0 is "unknown": GDAL reads to the end of the file, so nothing is hidden."""
    crs, geoms, _, _, zone, checker = _case(tmp_path, "nairobi_lines_count_halved")
    path = write(tmp_path / "f.fgb", crs, geoms, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    with_count(path, len(geoms), 0)
    assert len(pyogrio.read_arrow(path)[1]) == len(geoms)
    assert_clean(checker.check(path), bool(meeting(crs, geoms, zone)))


@pytest.mark.parametrize("count", [30, 59])
def test_a_count_lowered_under_its_index_cannot_be_read(tmp_path, count):
    """With a spatial index, the index GDAL skips is sized by the count: lowering it alone
    has GDAL read the index as features, and the file is refused, not allowed."""
    crs, geoms, _, _, _, checker = _case(tmp_path, "nairobi_lines_count_halved")
    path = write(tmp_path / "f.fgb", crs, geoms, driver="FlatGeobuf")
    with_count(path, len(geoms), count)
    with pytest.raises(UnreadableDataset):
        checker.check(path)


@pytest.mark.parametrize(
    "stray",
    [b"\1\0", b"\xff\xff\0\0" + b"\0" * 12, b"\0\0\0\0"],
    ids=["2_bytes", "size_past_the_end", "size_0"],
)
def test_bytes_after_the_last_feature_hold_the_verdict(tmp_path, stray):
    """A walk that cannot follow the file to its end says where: what lies past it is
    unknown (2 stray bytes, a size longer than the rest, a size of 0)."""
    crs, geoms, _, _, _, _ = _case(tmp_path, "sydney_points_count_one_short")
    path = write(tmp_path / "f.fgb", crs, geoms, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    with path.open("ab") as f:
        f.write(stray)
    place = VARIANTS["sydney_points_count_one_short"][0]
    checker = Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, far_zone(place)))
    verdict = checker.check(path)
    leaks = verdict.profile.leaks
    assert leaks.unindexed_records == 0
    assert len(leaks.unindexed_damaged) == 1 and leaks.unindexed_damaged[0].startswith("f.fgb")
    assert verdict.verdict == Effect.review
    assert CODE in {f.rule_id for f in verdict.findings}
