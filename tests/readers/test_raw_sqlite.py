"""The SQLite free-space reader and the GeoPackage blob walker behind deleted-feature leaks."""

from __future__ import annotations

import sqlite3
import struct
from contextlib import closing

import geopandas as gpd
import numpy as np
import pytest
import shapely

from compliance import Checker
from compliance.measure.leaks.deleted_gpkg import deleted_gpkg_geometries
from compliance.readers.raw.gpkg_blobs import find_blobs, wkb_end
from compliance.readers.raw.sqlite_pages import unallocated_regions
from compliance.zones.zone_set import ZoneSet
from tests.measure.leak_files import (
    PLACES,
    gpkg_with_deletions,
    squares,
    still_in_file,
    to_lonlat,
    zone_file,
)

SHAPES = [
    "POINT Z (1 2 3)",
    "LINESTRING M (0 0 1, 1 1 2, 2 0 3)",
    "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
    "GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 1 1))",
    "MULTIPOINT ZM ((0 0 0 0), (1 1 1 1))",
]


def _gpkg_functions(db: sqlite3.Connection) -> None:
    """The SQL functions a GeoPackage's R-tree triggers call (GDAL registers its own)."""

    def shape(blob: bytes) -> shapely.Geometry:
        envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(blob[3] >> 1) & 7]
        return shapely.from_wkb(blob[8 + envelope :])

    db.create_function("ST_IsEmpty", 1, lambda b: int(shape(b).is_empty))
    for i, name in enumerate(["ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY"]):
        db.create_function(name, 1, lambda b, i=i: shape(b).bounds[i])


def _blobs_in_free_space(path) -> int:  # type: ignore[no-untyped-def]
    return sum(len(list(find_blobs(r.data))) for r in unallocated_regions(path))


@pytest.mark.parametrize("wkt", SHAPES)
@pytest.mark.parametrize("order", [0, 1])
def test_the_walker_finds_the_exact_end_of_wkb(wkt, order):
    wkb = shapely.to_wkb(shapely.from_wkt(wkt), flavor="iso", byte_order=order, output_dimension=4)
    assert wkb_end(wkb + b"trailing bytes", 0) == len(wkb)
    assert wkb_end(wkb[:-1], 0) is None


def test_a_blob_is_read_with_its_envelope_and_srs():
    geom = shapely.from_wkt("POLYGON ((10 20, 30 20, 30 50, 10 20))")
    wkb = shapely.to_wkb(geom, byte_order=1)
    head = b"GP\x00\x03" + struct.pack("<i4d", 5186, 10, 30, 20, 50)
    (blob,) = find_blobs(b"\x00junk GP" + head + wkb + b"\x00" * 8)
    assert (blob.srs_id, blob.envelope, blob.wkb) == (5186, (10.0, 20.0, 30.0, 50.0), wkb)
    # Bytes that only look like a header at first are no blob.
    assert list(find_blobs(b"GP\x00\x03" + b"\xff" * 60)) == []


def test_a_file_never_deleted_from_has_no_blob_in_free_space(tmp_path):
    geoms = squares("oslo_utm32", 500, 20.0, 50.0)
    path = tmp_path / "a.gpkg"
    gpd.GeoDataFrame({"n": range(500)}, geometry=geoms, crs="EPSG:25832").to_file(path)
    assert _blobs_in_free_space(path) == 0


def test_rows_updated_in_place_are_no_deleted_geometries(tmp_path):
    """An UPDATE leaves the row's old cell behind: a copy of a live geometry, not a leak."""
    geoms = squares("oslo_utm32", 300, 20.0, 50.0)
    path = gpkg_with_deletions(tmp_path / "u.gpkg", "oslo_utm32", geoms, [], "keep")
    with closing(sqlite3.connect(path)) as db:
        _gpkg_functions(db)
        db.execute("PRAGMA secure_delete = OFF")
        db.execute("UPDATE features SET n = n + 100000 WHERE n % 3 = 0")
        db.commit()
    assert _blobs_in_free_space(path) > 0
    found = deleted_gpkg_geometries(path, ZoneSet.load(), None)
    assert (found.count, found.unplaced) == (0, 0)


def test_a_large_deleted_geometry_is_placed_by_its_envelope(tmp_path):
    """A geometry larger than a page keeps only its start in the cell (the rest in
    overflow pages): its envelope stands for it, so it meets a zone its box meets."""
    x, y = 597_000.0, 6_643_000.0
    ell = shapely.Polygon(
        [(x, y), (x + 400, y), (x + 400, y + 20), (x + 20, y + 20), (x + 20, y + 400), (x, y + 400)]
    )
    ell = shapely.segmentize(ell, 0.5)  # about 3,000 vertices: 48 kB
    small = squares("oslo_utm32", 40, 5.0, 30.0)
    geoms = [*small, ell]
    path = gpkg_with_deletions(tmp_path / "l.gpkg", "oslo_utm32", geoms, [len(small)], "keep")
    assert still_in_file(path, geoms, [len(small)], 25832) == [len(small)]
    # A zone in the crook of the L: inside its box, away from the L itself.
    crook = to_lonlat("EPSG:25832", [shapely.box(x + 300, y + 300, x + 350, y + 350)])[0]
    assert not to_lonlat("EPSG:25832", [ell])[0].intersects(crook)
    zones = ZoneSet.load(zone_file(tmp_path, crook))
    found = deleted_gpkg_geometries(path, zones, None)
    assert (found.count, found.in_zones, found.unplaced) == (1, 1, 0)


def test_deleted_geometries_with_an_undefined_srs_cannot_be_placed(tmp_path):
    geoms = squares("oslo_utm32", 30, 20.0, 50.0)
    path = gpkg_with_deletions(tmp_path / "s.gpkg", "oslo_utm32", geoms, [], "keep")
    with closing(sqlite3.connect(path)) as db:
        _gpkg_functions(db)
        db.execute("PRAGMA secure_delete = OFF")
        # Re-tag every blob with GeoPackage's undefined cartesian SRS (0), then delete some.
        db.create_function("untagged", 1, lambda b: b[:4] + struct.pack("<i", 0) + b[8:])
        db.execute("UPDATE features SET geom = untagged(geom)")
        db.execute("DELETE FROM features WHERE n IN (3, 7, 11)")
        db.commit()
    found = deleted_gpkg_geometries(path, ZoneSet.load(), None)
    assert (found.count, found.unplaced) == (3, 3)


@pytest.mark.parametrize("cut", [4096, 4096 * 3 + 100, 20_000])
def test_a_truncated_geopackage_gives_a_verdict_or_a_clean_error(tmp_path, cut):
    from compliance import ComplianceError

    geoms = squares("oslo_utm32", 400, 20.0, 50.0)
    path = gpkg_with_deletions(
        tmp_path / "t.gpkg", "oslo_utm32", geoms, list(range(0, 400, 3)), "keep"
    )
    damaged = tmp_path / "damaged.gpkg"
    damaged.write_bytes(path.read_bytes()[:cut])
    try:
        verdict = Checker().check(damaged)
    except ComplianceError:
        return
    assert verdict.verdict.value != "allow"


def test_only_the_sqlite_magic_opens_the_reader(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(
        b"SQLite format 3\x00"
        + bytes(np.random.default_rng(1).integers(0, 255, 9000, dtype=np.uint8))
    )
    assert list(unallocated_regions(junk)) == [] or all(
        isinstance(r.data, bytes) for r in unallocated_regions(junk)
    )
    assert PLACES  # the shared places are importable beside the builders
