"""Deleted, not gone: features removed without VACUUM or repacking still leave with the file.

The move: "mask" a derivative by deleting the features over a zone (or a share of the
detail) in a GeoPackage without VACUUM, or by flagging records deleted in a shapefile's
``.dbf``. Readers skip them; the bytes stay: SQLite keeps deleted cells in free space
and emptied pages on its freelist, and a ``.shp`` keeps the shape of a deleted record.
Claim under test: every such geometry is recovered and counted, those meeting a zone
count in the zone overlap, and the verdict is held (never ``allow``).

Truth: which deleted features meet the zone is computed with shapely on the features as
written, carried to lon/lat with pyproj; the control is the same live features written
afresh, which must get the same verdict without a leak finding.
"""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely

from compliance import Checker, Effect
from compliance.disclosure import undisclosed_verdict
from tests.measure.leak_files import (
    PLACES,
    gpkg_with_deletions,
    shapefile_with_deletions,
    squares,
    still_in_file,
    to_lonlat,
    zone_file,
    zone_pack,
)

# name: (place, geometry kind, features, vertices per square side, zone over features
# [a, b), which are deleted: "zone" those over the zone, or every k-th)
VARIANTS = {
    "oslo_polygons_zone_deleted": ("oslo_utm32", "polygon", 60, 1, (10, 20), "zone"),
    "sydney_lines_every_3rd": ("sydney_mga56", "line", 90, 1, (30, 45), 3),
    "nairobi_points_every_5th": ("nairobi_wgs84", "point", 200, 1, (100, 140), 5),
    "buenos_aires_large_polygons_every_4th": (
        "buenos_aires_webmerc",
        "polygon",
        40,
        300,
        (8, 20),
        4,
    ),
}


def _features(place: str, kind: str, n: int, detail: int) -> list[shapely.Geometry]:
    shapes = squares(place, n, side_m=20.0, step_m=50.0)
    if detail > 1:  # large blobs: more than a page each, so SQLite spills them to overflow
        shapes = [shapely.segmentize(s, (s.bounds[2] - s.bounds[0]) / detail) for s in shapes]
    if kind == "line":
        return [shapely.LineString(s.exterior.coords) for s in shapes]
    if kind == "point":
        return [s.centroid for s in shapes]
    return shapes


def _zone(name: str) -> shapely.Geometry:
    place, kind, n, detail, (a, b), _ = VARIANTS[name]
    lonlat = to_lonlat(PLACES[place][2], _features(place, kind, n, detail))
    return shapely.box(*shapely.total_bounds(lonlat[a:b]))


def _case(tmp_path, name):  # type: ignore[no-untyped-def]
    place, kind, n, detail, (a, b), deleted_by = VARIANTS[name]
    crs = PLACES[place][2]
    geoms = _features(place, kind, n, detail)
    lonlat = to_lonlat(crs, geoms)
    zone = _zone(name)
    deleted = list(range(a, b)) if deleted_by == "zone" else list(range(0, n, deleted_by))
    in_zone = sum(lonlat[i].intersects(zone) for i in deleted)
    checker = Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, zone))
    return crs, geoms, deleted, in_zone, checker


def _live_only(tmp_path, crs, geoms, deleted, suffix):  # type: ignore[no-untyped-def]
    live = [g for i, g in enumerate(geoms) if i not in set(deleted)]
    path = tmp_path / f"live{suffix}"
    gpd.GeoDataFrame({"n": range(len(live))}, geometry=live, crs=crs).to_file(path)
    return path


def _assert_held(verdict, recovered, in_zone):  # type: ignore[no-untyped-def]
    leaks = verdict.profile.leaks
    assert (leaks.deleted_geometries, leaks.deleted_geometries_unplaced) == (len(recovered), 0)
    assert leaks.deleted_geometries_in_zones == in_zone
    assert verdict.verdict != Effect.allow
    assert verdict.verdict == (Effect.deny if in_zone else Effect.review)
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-LEAK-DELETED-FEATURES")
    assert finding.effect == Effect.review
    assert finding.facts["dataset.deleted_geometries"] == len(recovered)
    assert finding.facts["zones.deleted_geometries"] == in_zone
    # A submitter learns that deleted geometries are there, not how many met a zone.
    shown = undisclosed_verdict(verdict.model_dump(mode="json"))
    leak = next(f for f in shown["findings"] if f["rule_id"] == "MAPGATE-LEAK-DELETED-FEATURES")
    assert "zones.deleted_geometries" not in leak["facts"]
    assert "deleted_geometries_in_zones" not in shown["profile"]["leaks"]


@pytest.mark.parametrize("name", VARIANTS)
def test_features_deleted_without_vacuum_are_recovered(tmp_path, name):
    crs, geoms, deleted, _, checker = _case(tmp_path, name)
    place = VARIANTS[name][0]
    path = gpkg_with_deletions(tmp_path / "d.gpkg", place, geoms, deleted, "keep")
    srs_id = 4326 if crs == "EPSG:4326" else int(crs.split(":")[1])
    # SQLite moves cells when it rebalances pages: some deleted cells are overwritten,
    # and copies of live ones may be left; the truth is what the bytes still hold.
    recovered = still_in_file(path, geoms, deleted, srs_id)
    zone = _zone(name)
    lonlat = to_lonlat(crs, geoms)
    in_zone = sum(lonlat[i].intersects(zone) for i in recovered)
    verdict = checker.check(path)
    if recovered:
        assert in_zone > 0
        _assert_held(verdict, recovered, in_zone)
    # A large geometry's cell may be gone while its overflow pages, the bulk of its
    # coordinates, wait on the freelist: they hold the verdict too.
    assert verdict.profile.leaks.free_pages_with_data > 0 or recovered
    assert verdict.verdict != Effect.allow
    assert "MAPGATE-LEAK-DELETED-FEATURES" in {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("how", ["vacuum", "secure"])
@pytest.mark.parametrize("name", VARIANTS)
def test_vacuumed_or_zeroed_deletions_are_clean(tmp_path, name, how):
    crs, geoms, deleted, _, checker = _case(tmp_path, name)
    path = gpkg_with_deletions(tmp_path / "d.gpkg", VARIANTS[name][0], geoms, deleted, how)
    verdict = checker.check(path)
    control = checker.check(_live_only(tmp_path, crs, geoms, deleted, ".gpkg"))
    assert verdict.profile.leaks.deleted_geometries == 0
    assert verdict.verdict == control.verdict
    assert not [f for f in verdict.findings if f.rule_id.startswith("MAPGATE-LEAK")]


@pytest.mark.parametrize("name", VARIANTS)
def test_shapes_of_deleted_dbf_records_are_recovered(tmp_path, name):
    crs, geoms, deleted, in_zone, checker = _case(tmp_path, name)
    path = shapefile_with_deletions(tmp_path / "d.shp", crs, geoms, deleted)
    verdict = checker.check(path)
    assert verdict.profile.feature_count == len(geoms) - len(deleted)  # the reader skips them
    _assert_held(verdict, deleted, in_zone)  # a .shp keeps every deleted shape
    control = checker.check(_live_only(tmp_path, crs, geoms, deleted, ".shp"))
    assert control.verdict == Effect.allow if not control.zones.count else Effect.deny
    assert not [f for f in control.findings if f.rule_id.startswith("MAPGATE-LEAK")]


def test_a_zipped_shapefile_with_deleted_records_is_held(tmp_path):
    crs, geoms, deleted, in_zone, checker = _case(tmp_path, "oslo_polygons_zone_deleted")
    shp = shapefile_with_deletions(tmp_path / "roads.shp", crs, geoms, deleted)
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.parent.glob("roads.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    _assert_held(checker.check(archive), deleted, in_zone)


@pytest.mark.parametrize("stride", [2, 5, 9])
def test_rules_read_the_deleted_geometry_facts(tmp_path, stride):
    """A pack may decide on its own what deleted geometries mean: here, deny."""
    pack = tmp_path / "no-deleted.yaml"
    pack.write_text(
        'pack: no-deleted\nversion: "1"\ntitle: t\njurisdiction: XX\nrules:\n'
        "  - id: ND-1\n    title: deleted data\n    when: dataset.deleted_geometries > 0 "
        "|| dataset.free_pages_with_data > 0\n    effect: deny\n    reference: Test Act\n"
    )
    geoms = squares("oslo_utm32", 90, 20.0, 50.0)
    deleted = list(range(0, 90, stride))
    path = gpkg_with_deletions(tmp_path / "d.gpkg", "oslo_utm32", geoms, deleted, "keep")
    recovered = still_in_file(path, geoms, deleted, 25832)
    verdict = Checker(packs=[str(pack)]).check(path)
    assert verdict.profile.leaks.deleted_geometries == len(recovered) > 0
    assert verdict.verdict == Effect.deny
    fired = next(f for f in verdict.findings if f.rule_id == "ND-1")
    assert fired.effect == Effect.deny
