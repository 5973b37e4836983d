"""Pixels of an MBTiles raster's edge tiles that lie past the extent GDAL opens.

GDAL opens an MBTiles raster over its metadata's ``bounds``, and tiles rarely end there:
the tiles along the edge hold pixels past it (transparent, or black in a JPEG tile, as
GDAL writes them). What they hold there is in the file and in no reader's view: imagery
of a base a few hundred metres past the bounds would leave with the file, unmet by any
zone. Each edge tile at a level GDAL serves is decoded; where its pixels past the extent
are not empty, the tile's whole extent joins the raster's outline (``RasterSource.reach``),
so zones and territories are met there too.

Empty is transparent where a tile has an alpha band (PNG, WebP). A tile without one
(JPEG) is empty past the extent where its pixels are 0 in every band, beyond the ring of
16 pixels next to the extent: its blocks' cosine waves ring there, so that ring is always
taken into the reach.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from compliance.readers.gpkg_sql import gpkg_rows
from compliance.readers.mbtiles_tiles import tile_box, tile_span

__all__ = ["mbtiles_reach"]

Box = tuple[float, float, float, float]
_RING = 16  # pixels: a JPEG MCU, its colour halved (4:2:0), rings this far
_PICTURES = ("PNG", "JPEG", "WEBP")  # the tile formats of MBTiles: no other driver reads one
_LARGEST = 4096 * 4096 * 4  # samples: four times the largest tile GDAL writes


def mbtiles_reach(path: Path, served: list[int], bounds: Box) -> Box | None:
    """The box (Web Mercator metres) of the extent GDAL opens (``bounds``) and of the
    edge tiles of the ``served`` zoom levels whose pixels past it are not empty; None when
    none is."""
    reach: list[Box] = []
    for zoom in served:
        for column, row, data in _edge_tiles(path, zoom, bounds):
            box = tile_box(zoom, column, row)
            if not _within(box, bounds):
                reach += _held_past(data, box, bounds)
    if not reach:
        return None
    boxes = np.array([bounds, *reach])
    return (*boxes[:, :2].min(axis=0).tolist(), *boxes[:, 2:].max(axis=0).tolist())


def _edge_tiles(path: Path, zoom: int, bounds: Box) -> list[tuple[int, int, bytes]]:
    first_column, last_column, first_row, last_row = tile_span(zoom, bounds)
    return [
        row
        for row in gpkg_rows(
            path,
            f"SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = {zoom} "
            f"AND tile_column BETWEEN {first_column} AND {last_column} "
            f"AND tile_row BETWEEN {first_row} AND {last_row} "
            f"AND (tile_column IN ({first_column}, {last_column}) "
            f"OR tile_row IN ({first_row}, {last_row}))",
        )
        if isinstance(row[0], int) and isinstance(row[1], int)
    ]


def _within(box: Box, bounds: Box) -> bool:
    span = box[2] - box[0]
    edge = span * 1e-9  # a tile that ends at the extent's edge, to float rounding
    return (
        box[0] >= bounds[0] - edge and box[1] >= bounds[1] - edge
        and box[2] <= bounds[2] + edge and box[3] <= bounds[3] + edge
    )  # fmt: skip


def _held_past(data: object, box: Box, bounds: Box) -> list[Box]:
    """The parts of the tile at ``box`` whose pixels past ``bounds`` may hold something."""
    image = _decoded(data)
    if image is None:
        return [box]  # not a picture GDAL reads: nothing about it is verified
    pixels, mask, transparent = image
    rows, columns = mask.shape
    xs = box[0] + (np.arange(columns) + 0.5) * (box[2] - box[0]) / columns
    ys = box[3] - (np.arange(rows) + 0.5) * (box[3] - box[1]) / rows
    past = (
        ~((xs >= bounds[0]) & (xs <= bounds[2]))[None, :]
        | ~((ys >= bounds[1]) & (ys <= bounds[3]))[:, None]
    )
    if transparent:
        return [box] if bool(mask[past].any()) else []
    pixel = (box[2] - box[0]) / columns
    ring = _RING * pixel
    far = (
        ~((xs >= bounds[0] - ring) & (xs <= bounds[2] + ring))[None, :]
        | ~((ys >= bounds[1] - ring) & (ys <= bounds[3] + ring))[:, None]
    )
    if bool(pixels[:, far].any()):
        return [box]
    near = past & ~far
    if not near.any():
        return []
    grown = (bounds[0] - ring, bounds[1] - ring, bounds[2] + ring, bounds[3] + ring)
    return [(
        max(box[0], grown[0]), max(box[1], grown[1]), min(box[2], grown[2]),
        min(box[3], grown[3]),
    )]  # fmt: skip


def _decoded(data: object) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """A tile's pixels, its mask (nonzero: a pixel is there) and whether the mask says
    anything (an alpha band, a transparent palette entry, nodata); None when GDAL does
    not read it as a picture."""
    from rasterio.io import MemoryFile

    if not isinstance(data, bytes) or not data:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with MemoryFile(data) as memory, memory.open(driver=list(_PICTURES)) as image:
                if image.width * image.height * image.count > _LARGEST:
                    return None  # a header declaring more than a tile: not decoded
                pixels = image.read()
                mask = image.dataset_mask()
                flags = {flag for band in image.mask_flag_enums for flag in band}
    except Exception:  # noqa: BLE001 - any failure to decode leaves the tile unverified
        return None
    from rasterio.enums import MaskFlags

    transparent = bool(flags - {MaskFlags.all_valid})
    return pixels, mask, transparent
