"""Tiles GDAL does not open: a GeoPackage of coarse roads beside a 0.1 m orthophoto table.

Claim: tile data in a GeoPackage holds the verdict when no reader opens it. GDAL finds a
raster table only through gpkg_contents, and opens only the zoom levels gpkg_tile_matrix
lists for it (and only rows within its limits). A 0.1 m tile table whose gpkg_contents row
was deleted (or set to ``attributes``), or whose tiles sat at zoom level 20 while the one
level listed read as 40 m, got `allow` as the coarse roads alone; one statement (putting
the row back, relabelling the level) makes GDAL open the 0.1 m pixels. Truth: the tiles
opened with rasterio after that statement, their pixel spacing on the ground computed with
pyproj.Geod.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.transform import from_origin

from compliance import Checker, Effect
from compliance.errors import UnreadableDataset
from compliance.readers.gpkg_sql import gpkg_catalogue

# (pack, EPSG code of the data, longitude and latitude of the tiles' corner, pixel size in
# the CRS's units that is about 0.1 m). Coarse roads there are allowed by the pack.
PLACES = {
    "daejeon_utm52n": ("kr", 32652, 127.38, 36.35, 0.1),
    "gwangju_korea_central_belt": ("kr", 5186, 126.85, 35.15, 0.1),
    "delhi_degrees": ("in", 4326, 77.12, 28.52, 1e-6),
}
SIDE = 256
COARSER = 400  # the listed level of the zoom tricks reads the tiles 400 times coarser


def _ground_pixel_m(path: Path, table: str) -> float:
    """The tile table's pixel spacing on the ground, as rasterio opens it: the shorter of
    its row and column steps at the image's centre, with pyproj.Geod."""
    with rasterio.open(path, TABLE=table) as ds:
        to_lonlat = Transformer.from_crs(ds.crs, 4326, always_xy=True)
        centre = ds.transform * (ds.width / 2, ds.height / 2)
        right = ds.transform * (ds.width / 2 + 1, ds.height / 2)
        down = ds.transform * (ds.width / 2, ds.height / 2 + 1)
        (lon0, lon1, lon2), (lat0, lat1, lat2) = to_lonlat.transform(
            [centre[0], right[0], down[0]], [centre[1], right[1], down[1]]
        )
    geod = Geod(ellps="WGS84")
    return min(geod.inv(lon0, lat0, lon1, lat1)[2], geod.inv(lon0, lat0, lon2, lat2)[2])


def _build(path: Path, place: str, overviews: bool = False) -> Path:
    """Coarse roads and an orthophoto table of 256 x 256 px (one tile), or of 1024 x 1024
    px with two overview levels, at ``place``."""
    _, epsg, lon, lat, pixel = PLACES[place]
    _orthophoto(path, epsg, (lon, lat), pixel, SIDE * 4 if overviews else SIDE)
    if overviews:
        with rasterio.open(path, "r+", TABLE="ortho") as ds:
            ds.build_overviews([2, 4])
    return _with_roads(path, epsg, (lon + 0.02, lat - 0.02))


def _orthophoto(path: Path, epsg: int, corner: tuple[float, float], pixel: float, side: int):
    """A table of ``side`` x ``side`` pixels whose north-west corner is at ``corner``."""
    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(*corner)
    with rasterio.open(
        path, "w", driver="GPKG", width=side, height=side, count=3, dtype="uint8",
        crs=f"EPSG:{epsg}", transform=from_origin(x0, y0, pixel, pixel),
        RASTER_TABLE="ortho", TILE_FORMAT="PNG",
    ) as ds:  # fmt: skip
        ds.write(np.random.default_rng(0).integers(1, 255, (3, side, side), dtype=np.uint8))


def _with_roads(path: Path, epsg: int, start: tuple[float, float]) -> Path:
    """Thirty roads with vertices every 40 m or so, from ``start`` (longitude, latitude)."""
    to_crs = Transformer.from_crs(4326, epsg, always_xy=True)
    step = np.arange(0, 2000, 40.0)  # metres east, and half of it north
    roads = []
    for i in range(30):
        lons = start[0] + (i * 300 + step) / 90_000
        lats = start[1] + (i * 100 + step * 0.5) / 111_000
        roads.append(shapely.LineString(np.column_stack(to_crs.transform(lons, lats))))
    pyogrio.write_dataframe(_frame(roads, epsg), path, layer="roads", driver="GPKG", append=True)
    return path


def _frame(roads: list, epsg: int):
    import geopandas as gpd

    return gpd.GeoDataFrame({"name": [f"r{i}" for i in range(len(roads))]}, geometry=roads,
                            crs=f"EPSG:{epsg}")  # fmt: skip


def _sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)


def _drop_triggers(path: Path, *tables: str) -> None:
    with sqlite3.connect(path) as db:
        names = [
            n
            for (n,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                f"({', '.join('?' * len(tables))})",
                tables,
            )
        ]
    _sql(path, *[f'DROP TRIGGER "{n}"' for n in names])


def _rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def _put_back(path: Path, saved: dict[str, list[tuple]]) -> None:
    """The receiver's repair: the catalogue rows the trick removed, inserted again."""
    with sqlite3.connect(path) as db:
        for table, rows in saved.items():
            for row in rows:
                db.execute(
                    f"INSERT OR REPLACE INTO {table} VALUES ({', '.join('?' * len(row))})", row
                )


def _catalogue(path: Path) -> dict[str, list[tuple]]:
    return {
        table: _rows(path, f"SELECT * FROM {table} WHERE table_name = 'ortho'")
        for table in ("gpkg_contents", "gpkg_tile_matrix_set", "gpkg_tile_matrix")
    }


def _unregistered(path: Path) -> Callable[[Path], None]:
    saved = _catalogue(path)
    _sql(path, "DELETE FROM gpkg_contents WHERE table_name = 'ortho'")
    return lambda copy: _put_back(copy, {"gpkg_contents": saved["gpkg_contents"]})


def _unregistered_and_unnamed(path: Path) -> Callable[[Path], None]:
    saved = _catalogue(path)
    _drop_triggers(path, "gpkg_tile_matrix", "gpkg_tile_matrix_set")
    _sql(
        path,
        "DELETE FROM gpkg_contents WHERE table_name = 'ortho'",
        "DELETE FROM gpkg_tile_matrix WHERE table_name = 'ortho'",
        "DELETE FROM gpkg_tile_matrix_set WHERE table_name = 'ortho'",
    )
    return lambda copy: _put_back(copy, saved)


def _unnamed_beside_a_broken_view(path: Path) -> Callable[[Path], None]:
    """As ``_unregistered_and_unnamed``, with a view of a table not there: SQLite cannot
    list that view's columns, so no statement listing every table's columns succeeds."""
    repair = _unregistered_and_unnamed(path)
    _sql(
        path, "CREATE TABLE gone (x)", "CREATE VIEW broken AS SELECT x FROM gone", "DROP TABLE gone"
    )
    return repair


def _registered_as_attributes(path: Path) -> Callable[[Path], None]:
    _sql(path, "UPDATE gpkg_contents SET data_type = 'attributes' WHERE table_name = 'ortho'")
    return lambda copy: _sql(
        copy, "UPDATE gpkg_contents SET data_type = 'tiles' WHERE table_name = 'ortho'"
    )


def _moved_to(level: int) -> Callable[[Path], Callable[[Path], None]]:
    """The tiles moved to ``level``, which gpkg_tile_matrix does not list (or lists past
    GDAL's limit of 65536); the listed level 0 gets the same tiles read 400 times coarser."""

    def trick(path: Path) -> Callable[[Path], None]:
        _drop_triggers(path, "ortho", "gpkg_tile_matrix")
        _sql(
            path,
            f"UPDATE ortho SET zoom_level = {level} WHERE zoom_level = 0",
            "INSERT INTO ortho (zoom_level, tile_column, tile_row, tile_data) "
            f"SELECT 0, tile_column, tile_row, tile_data FROM ortho WHERE zoom_level = {level}",
            f"UPDATE gpkg_tile_matrix SET pixel_x_size = pixel_x_size * {COARSER}, "
            f"pixel_y_size = pixel_y_size * {COARSER} WHERE table_name = 'ortho'",
        )
        if level > 65536:  # listed, but past what GDAL reads
            _sql(
                path,
                "INSERT INTO gpkg_tile_matrix SELECT table_name, "
                f"{level}, matrix_width, matrix_height, tile_width, tile_height, "
                f"pixel_x_size / {COARSER}, pixel_y_size / {COARSER} FROM gpkg_tile_matrix "
                "WHERE table_name = 'ortho' AND zoom_level = 0",
            )

        def relabel(copy: Path) -> None:
            _sql(
                copy,
                "DELETE FROM ortho WHERE zoom_level = 0",
                f"DELETE FROM gpkg_tile_matrix WHERE zoom_level = {level}",
                f"UPDATE gpkg_tile_matrix SET zoom_level = {min(level, 20)}, "
                f"pixel_x_size = pixel_x_size / {COARSER}, "
                f"pixel_y_size = pixel_y_size / {COARSER} WHERE table_name = 'ortho'",
                f"UPDATE ortho SET zoom_level = {min(level, 20)}",
            )

        return relabel

    return trick


# trick: (how it is done, why the table is named, the place it is tried at)
TRICKS = {
    "unregistered": (
        _unregistered,
        "a table the tile matrix names that gpkg_contents does not list as raster data",
        "daejeon_utm52n",
    ),
    "unregistered_and_unnamed": (
        _unregistered_and_unnamed,
        "a table of tiles that gpkg_contents does not list as raster data",
        "gwangju_korea_central_belt",
    ),
    "registered_as_attributes": (
        _registered_as_attributes,
        "a table the tile matrix names that gpkg_contents does not list as raster data",
        "delhi_degrees",
    ),
    "zoom_20_unlisted": (
        _moved_to(20),
        "tiles at zoom level 20 that gpkg_tile_matrix does not list",
        "gwangju_korea_central_belt",
    ),
    "zoom_past_gdal_limit": (
        _moved_to(70_000),
        "tiles at zoom level 70000 that gpkg_tile_matrix does not list",
        "delhi_degrees",
    ),
    "zoom_20_unlisted_in_degrees": (
        _moved_to(20),
        "tiles at zoom level 20 that gpkg_tile_matrix does not list",
        "delhi_degrees",
    ),
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_tiles_gdal_does_not_open_hold_the_verdict(tmp_path: Path, trick: str) -> None:
    do, why, place = TRICKS[trick]
    pack = PLACES[place][0]
    path = _build(tmp_path / "roads.gpkg", place)
    repair = do(path)
    # Truth: the tiles are still there, 0.1 m on the ground once one statement is undone.
    repaired = tmp_path / "repaired.gpkg"
    shutil.copy(path, repaired)
    repair(repaired)
    assert _ground_pixel_m(repaired, "ortho") == pytest.approx(0.1, rel=0.05)

    verdict = Checker(packs=[pack]).check(path)
    assert verdict.profile.unread_tables == [f"ortho: {why}"]
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNREAD-TABLES")
    assert finding.facts["unread_tables"] == [f"ortho: {why}"]
    assert verdict.verdict == Effect.review
    # Nothing measured them: the finest detail is the roads' (or the listed 40 m level's).
    assert verdict.profile.resolution_m > 30


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("overviews", [False, True], ids=["one_level", "all_levels_listed"])
def test_control_a_registered_tile_table_is_measured(
    tmp_path: Path, place: str, overviews: bool
) -> None:
    path = _build(tmp_path / "roads.gpkg", place, overviews=overviews)
    levels = _rows(path, "SELECT DISTINCT zoom_level FROM ortho ORDER BY zoom_level")
    listed = _rows(path, "SELECT zoom_level FROM gpkg_tile_matrix ORDER BY zoom_level")
    assert levels == listed and len(levels) == (3 if overviews else 1)
    truth = _ground_pixel_m(path, "ortho")
    verdict = Checker(packs=[PLACES[place][0]]).check(path)
    assert verdict.profile.unread_tables == []
    assert verdict.profile.imagery_resolution_m == pytest.approx(truth, rel=0.01)
    assert verdict.verdict == Effect.deny


# (pack, EPSG code, north-west corner, pixel size in the CRS's units, the zone the whole
# table meets, and the part of its 4 x 4 tiles gpkg_contents' bounds are cut down to:
# (columns, rows) kept from the north-west). What is kept stays clear of the zone.
EXTENTS = {
    "kr_military_utm52n": ("kr", 32652, (126.95, 37.52), 10.0, "DEMO-KR-MIL-01", (1, 1)),
    "kr_energy_east_belt": ("kr", 5187, (129.22, 35.36), 10.0, "DEMO-KR-NRG-01", (4, 1)),
    "in_airfield_degrees": ("in", 4326, (77.07, 28.59), 4e-5, "DEMO-IN-AIR-01", (2, 4)),
}


def _zone(zone_id: str):
    import json

    from tests.builders import REPO

    zones = json.loads((REPO / "rules" / "zones" / "demo_zones.geojson").read_text())
    (feature,) = [f for f in zones["features"] if f["properties"]["zone_id"] == zone_id]
    return shapely.geometry.shape(feature["geometry"])


def _footprint(path: Path) -> shapely.Polygon:
    """The table's outline in longitude and latitude, as rasterio opens it."""
    with rasterio.open(path, TABLE="ortho") as ds:
        to_lonlat = Transformer.from_crs(ds.crs, 4326, always_xy=True)
        west, south, east, north = ds.bounds
        lons, lats = to_lonlat.transform([west, east, east, west], [north, north, south, south])
    return shapely.Polygon(zip(lons, lats, strict=True))


def _cut_bounds(path: Path, kept: tuple[int, int], pixel: float) -> None:
    """gpkg_contents' bounds cut to the north-west ``kept`` columns and rows of tiles."""
    span = SIDE * pixel
    _sql(
        path,
        f"UPDATE gpkg_contents SET max_x = min_x + {kept[0] * span}, "
        f"min_y = max_y - {kept[1] * span} WHERE table_name = 'ortho'",
    )


@pytest.mark.parametrize("case", sorted(EXTENTS))
def test_tiles_outside_the_extent_gdal_opens_hold_the_verdict(tmp_path: Path, case: str):
    pack, epsg, corner, pixel, zone_id, kept = EXTENTS[case]
    roads_at = (corner[0] - 0.3, corner[1] - 0.3)  # far from any zone
    control = _with_roads(
        _orthophoto_file(tmp_path / "control.gpkg", epsg, corner, pixel), epsg, roads_at
    )
    path = tmp_path / "cut.gpkg"
    shutil.copy(control, path)
    _cut_bounds(path, kept, pixel)
    # Truth: the tiles meet the zone; what GDAL opens of the cut file does not.
    zone = _zone(zone_id)
    assert _footprint(control).intersects(zone) and not _footprint(path).intersects(zone)
    assert _rows(path, "SELECT COUNT(*) FROM ortho") == [(16,)]

    checker = Checker(packs=[pack])
    strict = checker.check(control)
    assert strict.zones.count > 0 and strict.profile.unread_tables == []
    assert strict.verdict in (Effect.deny, Effect.allow_with_conditions)
    verdict = checker.check(path)
    why = "tiles at zoom level 2 outside the extent GDAL opens"
    assert verdict.zones.count == 0
    assert verdict.profile.unread_tables == [f"ortho: {why}"]
    assert verdict.verdict == Effect.review


def _orthophoto_file(path: Path, epsg: int, corner: tuple[float, float], pixel: float) -> Path:
    _orthophoto(path, epsg, corner, pixel, SIDE * 4)
    return path


@pytest.mark.parametrize("level", [20, 70_000])
@pytest.mark.parametrize("place", ["gwangju_korea_central_belt", "delhi_degrees"])
def test_a_geopackage_of_tiles_alone_holds_its_hidden_tiles(
    tmp_path: Path, place: str, level: int
) -> None:
    # No vector layer: GDAL opens the file as a raster, and its hidden tiles still count.
    _, epsg, lon, lat, pixel = PLACES[place]
    path = tmp_path / "ortho.gpkg"
    _orthophoto(path, epsg, (lon, lat), pixel, SIDE)
    repair = _moved_to(level)(path)
    repaired = tmp_path / "repaired.gpkg"
    shutil.copy(path, repaired)
    repair(repaired)
    assert _ground_pixel_m(repaired, "ortho") == pytest.approx(0.1, rel=0.05)
    verdict = Checker(packs=[PLACES[place][0]]).check(path)
    assert verdict.profile.kind == "raster"
    why = f"tiles at zoom level {level} that gpkg_tile_matrix does not list"
    assert verdict.profile.unread_tables == [f"ortho: {why}"]
    assert verdict.verdict == Effect.review


def test_a_broken_view_neither_hides_the_tiles_nor_passes(tmp_path: Path) -> None:
    """Tables of tiles are told by their columns, listed for all tables in one statement;
    a view of a table not there fails that statement, and each table is then asked alone.
    The check itself refuses the file: the view cannot be read."""
    path = _build(tmp_path / "roads.gpkg", "gwangju_korea_central_belt")
    _unnamed_beside_a_broken_view(path)
    why = "a table of tiles that gpkg_contents does not list as raster data"
    assert ("ortho", why) in gpkg_catalogue(path).unread_tiles
    with pytest.raises(UnreadableDataset, match="'broken' cannot be read"):
        Checker(packs=["kr"]).check(path)
