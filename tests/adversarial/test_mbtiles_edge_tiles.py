"""Imagery kept in an MBTiles raster's edge tiles, past the extent GDAL opens.

The move: GDAL opens an MBTiles raster over its metadata's ``bounds``; the tiles along
the edge reach past them (GDAL writes those pixels transparent). Paint the east edge
tiles' pixels past the bounds opaque, over a base a hundred metres east of the image:
the file still opens over the same extent, every reader of the raster sees the same
image, and the zone is met by nothing. One edit of ``bounds`` shows the base.

Claim under test: edge tiles whose pixels past the extent are not empty (opaque where
the tile has alpha; any nonzero value in a JPEG tile beyond the 16 pixels its blocks
ring into) join the raster's outline, so the zone is met (deny under a pack that denies
any zone hit); files GDAL writes (PNG, PNG8, WebP, JPEG) with the same zone nearby stay
allowed.

Truth: GDAL's extent is rasterio's; the tile grid is computed here from the slippy-map
formula; the tiles are rewritten with rasterio and sqlite3.
"""

from __future__ import annotations

import math
import sqlite3
import struct
import zlib
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
import shapely
from pyproj import Transformer
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from compliance import Checker, Effect
from compliance.readers.mbtiles_edges import mbtiles_reach
from tests.measure.leak_files import zone_file, zone_pack

OSLO = (10.75, 59.91)  # outside every built-in pack's territory
WORLD = 40075016.68557849
ZOOM = 17


def _width() -> int:
    """Pixels across for an image from Oslo's longitude whose east edge falls 100 m (Web
    Mercator) into a zoom-17 tile: that tile reaches about 200 m past it."""
    span = WORLD / (1 << ZOOM)
    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    x0 = to_mercator.transform(*OSLO)[0]
    edge = math.ceil((x0 + 400 + WORLD / 2) / span) * span - WORLD / 2 + 100
    lon = to_mercator.transform(edge, 0, direction="INVERSE")[0]
    return round((lon - OSLO[0]) / 1e-5)


def _mbtiles(path: Path, tile_format: str) -> Path:
    """Random imagery of Oslo at 1e-5 degrees (zoom 17), written by GDAL as MBTiles."""
    source = path.with_suffix(".tif")
    width = _width()
    with rasterio.open(
        source, "w", driver="GTiff", width=width, height=300, count=3, dtype="uint8",
        crs="EPSG:4326", transform=from_origin(*OSLO, 1e-5, 1e-5),
    ) as dst:  # fmt: skip
        dst.write(np.random.default_rng(5).integers(1, 255, (3, 300, width), dtype="uint8"))
    with rasterio.open(source) as src:
        rasterio.shutil.copy(src, path, driver="MBTiles", TILE_FORMAT=tile_format)
    source.unlink()
    return path


def _east_column(bounds: rasterio.coords.BoundingBox) -> tuple[int, float]:
    """The column of the tiles holding the extent's east edge, and that column's east
    edge in Web Mercator metres."""
    span = WORLD / (1 << ZOOM)
    column = math.floor((bounds.right + WORLD / 2) / span)
    return column, (column + 1) * span - WORLD / 2


def _zone_past_the_east_edge(tmp_path: Path, path: Path) -> Checker:
    """A checker whose only zone lies between the extent's east edge and the east edge
    of the tiles there, in the middle of the image's rows."""
    with rasterio.open(path) as ds:
        bounds = ds.bounds
    _, tiles_end = _east_column(bounds)
    gap = tiles_end - bounds.right
    assert gap > 100  # metres of tile past the extent
    west, east = bounds.right + 0.4 * gap, bounds.right + 0.7 * gap
    middle = (bounds.bottom + bounds.top) / 2
    to_lonlat = Transformer.from_crs(3857, 4326, always_xy=True)
    (lon0, lon1), (lat0, lat1) = to_lonlat.transform([west, east], [middle - 30, middle + 30])
    zone = shapely.box(lon0, lat0, lon1, lat1)
    with rasterio.open(path) as ds:  # GDAL's extent does not reach the zone
        assert not shapely.box(*ds.bounds).intersects(
            shapely.box(
                *Transformer.from_crs(4326, 3857, always_xy=True).transform_bounds(*zone.bounds)
            )
        )
    return Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, zone))


def _paint_east_tiles(path: Path, tile_format: str) -> None:
    """The east edge tiles at zoom 17 made opaque imagery all over, in their format."""
    with rasterio.open(path) as ds:
        column, _ = _east_column(ds.bounds)
    driver = {"PNG": "PNG", "JPEG": "JPEG"}[tile_format]
    rng = np.random.default_rng(8)
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT tile_row, tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ?",
            (ZOOM, column),
        ).fetchall()
        assert rows
        for row, data in rows:
            with MemoryFile(data) as memory, memory.open() as tile:
                count, height, width = tile.count, tile.height, tile.width
            pixels = rng.integers(1, 255, (count, height, width), dtype="uint8")
            if count == 4:
                pixels[3] = 255
            with MemoryFile() as out:
                with out.open(
                    driver=driver, width=width, height=height, count=count, dtype="uint8"
                ) as dst:
                    dst.write(pixels)
                db.execute(
                    "UPDATE tiles SET tile_data = ? WHERE zoom_level = ? AND tile_column = ? "
                    "AND tile_row = ?",
                    (out.read(), ZOOM, column, row),
                )
        db.commit()


@pytest.mark.parametrize("tile_format", ["PNG", "JPEG"])
def test_imagery_past_the_extent_meets_the_zone(tmp_path, tile_format):
    path = _mbtiles(tmp_path / "oslo.mbtiles", tile_format)
    checker = _zone_past_the_east_edge(tmp_path, path)
    assert checker.check(path).verdict == Effect.allow
    with rasterio.open(path) as ds:
        before = ds.bounds
    _paint_east_tiles(path, tile_format)
    with rasterio.open(path) as ds:
        assert ds.bounds == before  # the same extent opens: the paint is in no reader's view
    verdict = checker.check(path)
    assert verdict.verdict == Effect.deny
    assert "ZD-1" in {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("tile_format", ["PNG", "PNG8", "WEBP", "JPEG"])
def test_files_gdal_writes_stay_allowed_beside_the_zone(tmp_path, tile_format):
    path = _mbtiles(tmp_path / "oslo.mbtiles", tile_format)
    verdict = _zone_past_the_east_edge(tmp_path, path).check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]


def _huge_png() -> bytes:
    """A PNG whose header declares 100,000 x 100,000 RGBA pixels (CRC correct)."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk
        + struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )  # fmt: skip


@pytest.mark.parametrize("blob", [b"not a picture", b"", "_huge"], ids=["text", "empty", "huge"])
def test_an_edge_tile_that_is_not_read_counts_whole(tmp_path, blob):
    """A tile at the east edge that GDAL does not decode (or that declares more pixels
    than a tile holds) is not verified empty: its whole extent joins the reach."""
    path = _mbtiles(tmp_path / "oslo.mbtiles", "PNG")
    with rasterio.open(path) as ds:
        bounds, column = tuple(ds.bounds), _east_column(ds.bounds)[0]
    with closing(sqlite3.connect(path)) as db:
        (row,) = db.execute(
            "SELECT tile_row FROM tiles WHERE zoom_level = ? AND tile_column = ? LIMIT 1",
            (ZOOM, column),
        ).fetchone()
        data = _huge_png() if blob == "_huge" else blob
        db.execute(
            "UPDATE tiles SET tile_data = ? WHERE zoom_level = ? AND tile_column = ? "
            "AND tile_row = ?",
            (data, ZOOM, column, row),
        )
        db.commit()
    reach = mbtiles_reach(path, [ZOOM], bounds)
    span = WORLD / (1 << ZOOM)
    assert reach is not None and reach[2] == pytest.approx((column + 1) * span - WORLD / 2)
    assert mbtiles_reach(path, [], bounds) is None  # no level served: nothing decoded
