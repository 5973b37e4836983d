"""Tiles of an MBTiles file that GDAL does not open.

GDAL opens an MBTiles file at the zoom level its metadata's ``maxzoom`` names, with a
few overviews below it, over the extent its ``bounds`` give: tiles at a finer level (a
0.3 m orthophoto kept under a ``maxzoom`` of 1.2 m) or outside the bounds are in the
file but in no reader's view of it, and one statement (or an edited ``maxzoom``) shows
them to whoever receives the file. Levels coarser than GDAL's overviews are not named:
a web map's pyramid holds them down to zoom 0. The levels GDAL opened are told from the
raster it describes (its pixel size, tile size and overview count), not from the
metadata read again, so what is compared is what was measured.

Vector tiles alike: GDAL reads the layers at one zoom level (its ``ZOOM_LEVEL``
metadata item, the file's ``maxzoom``), and finer tiles hold finer geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from compliance.readers.gpkg_sql import SQLITE_BIG, TILE_EDGE, gpkg_rows, levels_said

__all__ = [
    "MOST_ZOOM",
    "levels_past",
    "mbtiles_unread_tiles",
    "mbtiles_unread_vector_tiles",
    "tile_box",
    "tile_span",
]

_WORLD = 40075016.68557849  # Web Mercator's width, metres: zoom 0 is one tile across it
_HALF = _WORLD / 2
MOST_ZOOM = 30  # Web Mercator tiles of 4 cm at the equator: no map goes further


def mbtiles_unread_tiles(
    path: Path,
    tile: int,
    pixel: float,
    bounds: tuple[float, float, float, float],
    overviews: int,
) -> tuple[list[str], list[int]]:
    """The tiles of the MBTiles raster at ``path`` that the raster GDAL opened does not
    show, said in words (``tiles: why``), and the zoom levels it serves: ``tile``, its
    tile side in pixels; ``pixel``, its pixel size and ``bounds`` its extent, in Web
    Mercator metres; ``overviews``, how many levels below its own it serves."""
    exact = math.log2(_WORLD / (tile * pixel)) if tile > 0 and pixel > 0 else math.nan
    if not math.isfinite(exact) or abs(exact - round(exact)) > 1e-6:
        return [f"tiles: the raster's pixels ({pixel:g} m) are no zoom level of its tiles"], []
    finest = round(exact)
    found, levels = levels_past(_levels(path), finest)
    # Levels below the coarsest GDAL serves are a web map's pyramid (GDAL serves a few
    # overviews whatever ``minzoom`` says): coarser than what was measured, not finer.
    served = [z for z in levels if finest - overviews <= z <= finest]
    beyond = [z for z in served if _any_outside(path, z, bounds)]
    if beyond:
        found.append(f"tiles: tiles at {levels_said(beyond)} outside the extent GDAL opens")
    return found, served


def mbtiles_unread_vector_tiles(path: Path, metadata: dict[str, str]) -> list[str]:
    """The vector tiles of the MBTiles file at ``path`` finer than the zoom level GDAL
    reads its layers at (its ``ZOOM_LEVEL`` metadata item, the file's ``maxzoom``)."""
    try:
        finest = int(metadata.get("ZOOM_LEVEL", ""))
    except ValueError:
        return ["tiles: the zoom level GDAL reads the layers at is not known"]
    return levels_past(_levels(path), finest)[0]


def _levels(path: Path) -> list[object]:
    """The zoom levels of the tiles table, as stored (SQLite keeps any value in a column)."""
    return [row[0] for row in gpkg_rows(path, "SELECT DISTINCT zoom_level FROM tiles")]


def levels_past(levels: Sequence[object], finest: int) -> tuple[list[str], list[int]]:
    """Said in words, the tiles at zoom levels of ``levels`` finer than ``finest`` (the
    level GDAL reads) or at no zoom level; and the levels up to ``finest``, ascending."""
    whole = sorted(z for z in levels if isinstance(z, int) and 0 <= z <= MOST_ZOOM)
    found = []
    odd = sorted((z for z in levels if z not in whole), key=str)
    if odd:
        found.append(f"tiles: tiles at {levels_said(odd)}, which is no zoom level GDAL opens")
    finer = [z for z in whole if z > finest]
    if finer:
        found.append(f"tiles: tiles at {levels_said(finer)} finer than GDAL opens")
    return found, [z for z in whole if z <= finest]


def tile_span(zoom: int, bounds: tuple[float, float, float, float]) -> tuple[int, ...]:
    """The first and last column, and first and last row (from the south, as MBTiles
    numbers them), of the tiles of ``zoom`` that reach into ``bounds``."""
    span = _WORLD / (1 << zoom)
    min_x, min_y, max_x, max_y = bounds
    return tuple(
        max(min(key, SQLITE_BIG), -SQLITE_BIG)
        for key in (
            math.floor((min_x + _HALF) / span + TILE_EDGE),
            math.ceil((max_x + _HALF) / span - TILE_EDGE) - 1,
            math.floor((min_y + _HALF) / span + TILE_EDGE),
            math.ceil((max_y + _HALF) / span - TILE_EDGE) - 1,
        )
    )


def tile_box(zoom: int, column: int, row: int) -> tuple[float, float, float, float]:
    """A tile's extent in Web Mercator metres (its row counted from the south)."""
    span = _WORLD / (1 << zoom)
    return (
        column * span - _HALF, row * span - _HALF, (column + 1) * span - _HALF,
        (row + 1) * span - _HALF,
    )  # fmt: skip


def _any_outside(path: Path, zoom: int, bounds: tuple[float, float, float, float]) -> bool:
    """Whether a tile of ``zoom`` lies wholly outside ``bounds``, or has no column or row
    to place it by."""
    first_column, last_column, first_row, last_row = tile_span(zoom, bounds)
    rows = gpkg_rows(
        path,
        f"SELECT 1 FROM tiles WHERE zoom_level = {zoom} AND (tile_column < {first_column} "
        f"OR tile_column > {last_column} OR tile_row < {first_row} OR tile_row > {last_row} "
        "OR tile_column IS NULL OR tile_row IS NULL) LIMIT 1",
    )
    return bool(rows)
