"""Finer imagery kept in an MBTiles file where GDAL does not look.

The move: write Tel Aviv imagery as MBTiles at zoom 17 (1.2 m, within the 0.4 m cap
US licences put on imagery of Israel), then put 0.3 m tiles (zoom 19) in the same
``tiles`` table and leave the metadata's ``maxzoom`` at 17. GDAL opens the file at the
level ``maxzoom`` names: every reader of the raster sees 1.2 m, while one statement (or
``maxzoom`` set to 19) shows the 0.3 m tiles. Tiles outside the metadata's ``bounds``
are passed over the same way, and so are vector tiles finer than the level GDAL reads
the layers at.

Claim under test: tiles finer than the level GDAL opens, or outside the extent it opens
at a level it serves, hold the file for review, named with their zoom levels; MBTiles
files GDAL writes (PNG or JPEG tiles, 256 or 512 pixels, with overviews, and a web map's
pyramid down to zoom 0) name nothing.

Truth: the tiles are written with sqlite3; what GDAL opens is rasterio's answer, before
and after ``maxzoom`` is raised; tile numbers are computed here from the longitude and
latitude (the slippy-map formula, rows counted from the south as MBTiles does).
"""

from __future__ import annotations

import math
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import rasterio
import rasterio.shutil
import shapely
from rasterio.transform import from_origin

from compliance import Checker, Effect

TEL_AVIV = (34.78, 32.08)  # the image's north-west corner, inland
UNREAD = "MAPGATE-UNREAD-TABLES"
CAP = "KBA-ISRAEL-GSD-04M"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _mbtiles(path: Path, size: int = 700, **options: str) -> Path:
    """Random RGB imagery of Tel Aviv at 1e-5 degrees, written by GDAL as MBTiles (zoom 17:
    GDAL picks the level nearest the image's resolution)."""
    source = path.with_suffix(".tif")
    with rasterio.open(
        source, "w", driver="GTiff", width=size, height=size, count=3, dtype="uint8",
        crs="EPSG:4326", transform=from_origin(*TEL_AVIV, 1e-5, 1e-5),
    ) as dst:  # fmt: skip
        dst.write(np.random.default_rng(3).integers(0, 255, (3, size, size), dtype="uint8"))
    with rasterio.open(source) as src:
        rasterio.shutil.copy(src, path, driver="MBTiles", **options)
    source.unlink()
    return path


def _tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The tile (column, row counted from the south) holding (lon, lat) at ``zoom``."""
    n = 1 << zoom
    column = int((lon + 180.0) / 360.0 * n)
    row_from_north = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return column, n - 1 - row_from_north


def _add_tiles(path: Path, tiles: list[tuple[int, int, int]]) -> None:
    """Tiles (zoom, column, row) holding a copy of the file's first tile's image."""
    with closing(sqlite3.connect(path)) as db:
        (data,) = db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        db.executemany(
            "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)",
            [(*tile, data) for tile in tiles],
        )
        db.commit()


def _metadata(path: Path, name: str) -> str:
    with closing(sqlite3.connect(path)) as db:
        return str(db.execute("SELECT value FROM metadata WHERE name = ?", (name,)).fetchone()[0])


def _finer_tiles(zoom: int) -> list[tuple[int, int, int]]:
    """The 4x4 tiles of ``zoom`` under the zoom-17 tile at the image's middle."""
    column, row = _tile(TEL_AVIV[0] + 0.0035, TEL_AVIV[1] - 0.0035, 17)
    scale = 1 << (zoom - 17)
    return [(zoom, column * scale + i, row * scale + j) for i in range(scale) for j in range(scale)]


def _held(verdict, said: str) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(said in table for table in verdict.profile.unread_tables), (
        verdict.profile.unread_tables
    )


def test_finer_tiles_under_a_coarser_maxzoom_hold_the_file(tmp_path, checker):
    path = _mbtiles(tmp_path / "tlv.mbtiles")
    assert _metadata(path, "maxzoom") == "17"
    before = checker.check(path)
    assert before.verdict == Effect.allow and before.profile.resolution_m > 1.0
    assert {pack.name for pack in before.packs if pack.applies} == {"us-kba"}
    _add_tiles(path, _finer_tiles(19))
    with rasterio.open(path) as ds:
        assert ds.res[0] == pytest.approx(_WORLD_M / (256 << 17))  # GDAL opens zoom 17
    _held(checker.check(path), "tiles at zoom level 19 finer than GDAL opens")

    # The tiles are there to be read: with maxzoom raised, GDAL opens them at 0.3 m and
    # the cap on imagery of Israel applies.
    raised = tmp_path / "raised.mbtiles"
    shutil.copy(path, raised)
    with closing(sqlite3.connect(raised)) as db:
        db.execute("UPDATE metadata SET value = '19' WHERE name = 'maxzoom'")
        db.commit()
    with rasterio.open(raised) as ds:
        assert ds.res[0] == pytest.approx(_WORLD_M / (256 << 19))
    opened = checker.check(raised)
    assert opened.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert CAP in {f.rule_id for f in opened.findings}


def test_tiles_outside_the_bounds_hold_the_file(tmp_path, checker):
    """Tiles at the level GDAL opens, a kilometre east of the metadata's bounds."""
    path = _mbtiles(tmp_path / "tlv.mbtiles")
    column, row = _tile(TEL_AVIV[0] + 0.017, TEL_AVIV[1] - 0.0035, 17)
    _add_tiles(path, [(17, column + i, row) for i in range(3)])
    with rasterio.open(path) as ds:
        assert ds.bounds.right < -20037508.342789244 + column * _WORLD_M / (1 << 17)
    _held(checker.check(path), "tiles at zoom level 17 outside the extent GDAL opens")


_WORLD_M = 40075016.68557849  # Web Mercator's width, metres


@pytest.mark.parametrize(
    "options",
    [{}, {"TILE_FORMAT": "JPEG", "BLOCKSIZE": "512"}, {"ZOOM_LEVEL_STRATEGY": "UPPER"}],
    ids=["png-256", "jpeg-512", "upper"],
)
@pytest.mark.parametrize("overviews", [False, True])
def test_mbtiles_gdal_writes_name_nothing(tmp_path, checker, options, overviews):
    path = _mbtiles(tmp_path / "tlv.mbtiles", **options)
    if overviews:
        with rasterio.open(path, "r+") as ds:
            ds.build_overviews([2, 4, 8])
    verdict = checker.check(path)
    assert verdict.profile.unread_tables == []
    assert UNREAD not in {f.rule_id for f in verdict.findings}


def test_a_web_maps_pyramid_down_to_zoom_0_names_nothing(tmp_path, checker):
    """A tile at every coarser level (as a web map's MBTiles holds, ``minzoom`` 0):
    coarser than what GDAL serves, not finer."""
    path = _mbtiles(tmp_path / "tlv.mbtiles")
    _add_tiles(
        path, [(z, *_tile(TEL_AVIV[0] + 0.0035, TEL_AVIV[1] - 0.0035, z)) for z in range(15)]
    )
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE metadata SET value = '0' WHERE name = 'minzoom'")
        db.commit()
    verdict = checker.check(path)
    assert verdict.profile.unread_tables == []
    assert verdict.verdict == Effect.allow


@pytest.mark.parametrize("zoom", [-1, 18.5, 40])
def test_tiles_at_no_zoom_level_hold_the_file(tmp_path, checker, zoom):
    """Tiles keyed by a zoom level no reader opens (negative, fractional, past any map):
    named, never a traceback."""
    path = _mbtiles(tmp_path / "tlv.mbtiles")
    _add_tiles(path, [(zoom, 0, 0)])
    _held(checker.check(path), "which is no zoom level GDAL opens")


def _vector_mbtiles(path: Path, maxzoom: int) -> Path:
    """200 survey points in Tel Aviv as Mapbox Vector Tiles in MBTiles, zoom 10 up to
    ``maxzoom``, written by GDAL."""
    rng = np.random.default_rng(11)
    points = shapely.points(
        TEL_AVIV[0] + rng.random(200) * 0.01, TEL_AVIV[1] - rng.random(200) * 0.01
    )
    table = pa.table({"id": np.arange(200), "geometry": shapely.to_wkb(points)})
    pyogrio.write_arrow(
        table, path, driver="MBTiles", geometry_name="geometry", geometry_type="Point",
        crs="EPSG:4326", dataset_options={"MINZOOM": "10", "MAXZOOM": str(maxzoom)},
    )  # fmt: skip
    return path


def test_finer_vector_tiles_under_a_coarser_maxzoom_hold_the_file(tmp_path, checker):
    """The same points tiled to zoom 18 (positions to centimetres), their tiles finer
    than 14 copied into a file tiled to 14: GDAL reads the layer at zoom 14 only."""
    coarse = _vector_mbtiles(tmp_path / "coarse.mbtiles", 14)
    fine = _vector_mbtiles(tmp_path / "fine.mbtiles", 18)
    assert pyogrio.read_info(coarse)["dataset_metadata"]["ZOOM_LEVEL"] == "14"
    assert checker.check(coarse).profile.unread_tables == []
    with closing(sqlite3.connect(fine)) as db:
        finer = db.execute("SELECT * FROM tiles WHERE zoom_level > 14").fetchall()
    with closing(sqlite3.connect(coarse)) as db:
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", finer)
        db.commit()
    assert {row[0] for row in finer} == {15, 16, 17, 18}
    assert pyogrio.read_info(coarse)["dataset_metadata"]["ZOOM_LEVEL"] == "14"
    _held(checker.check(coarse), "tiles at zoom levels 15, 16, 17, 18 finer than GDAL opens")
    assert checker.check(fine).profile.unread_tables == []


INSIDE = "inside"  # the key of the tile at the image's middle


@pytest.mark.parametrize(
    ("column", "row"), [("east", INSIDE), (INSIDE, "north"), (None, INSIDE), (INSIDE, None)]
)
def test_tiles_without_a_place_hold_the_file(tmp_path, checker, column, row):
    """A tile at the level GDAL opens keyed by text or by nothing (its table made
    without GDAL's NOT NULL) in place of a column or a row number, the other key that
    of a tile inside the extent, is placed nowhere GDAL reads."""
    path = _mbtiles(tmp_path / "tlv.mbtiles")
    with closing(sqlite3.connect(path)) as db:
        db.executescript(
            "CREATE TABLE loose (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
            "tile_data BLOB); INSERT INTO loose SELECT * FROM tiles; DROP TABLE tiles; "
            "ALTER TABLE loose RENAME TO tiles;"
        )
    middle = _tile(TEL_AVIV[0] + 0.0035, TEL_AVIV[1] - 0.0035, 17)
    column = middle[0] if column == INSIDE else column
    row = middle[1] if row == INSIDE else row
    _add_tiles(path, [(17, column, row)])
    _held(checker.check(path), "tiles at zoom level 17 outside the extent GDAL opens")


def test_a_vector_tile_outside_the_bounds_is_read_not_hidden(tmp_path, checker):
    """GDAL reads every vector tile of its level, whatever the metadata's ``bounds`` say:
    a copy of the file's tiles twenty tiles away is measured, so it is not named."""
    path = _vector_mbtiles(tmp_path / "points.mbtiles", 14)
    assert len(pyogrio.read_dataframe(path)) == 200
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "INSERT INTO tiles SELECT zoom_level, tile_column + 20, tile_row + 20, tile_data "
            "FROM tiles WHERE zoom_level = 14"
        )
        db.commit()
    assert len(pyogrio.read_dataframe(path)) == 400
    verdict = checker.check(path)
    assert verdict.profile.unread_tables == [] and verdict.profile.feature_count >= 400
