"""Where a raster holds data near the zones: its valid pixels, read in windows around them.

A raster's outline is not its data: a masked derivative keeps its outline but holds no
pixel over the zone it was masked for. The ground a raster shows over a zone is the union
of its pixel cells that meet the zone and show ground, at the full-resolution image AND
at every overview: an overview that still holds data over the zone shows it, whatever
the full image says. A cell shows ground when GDAL's dataset mask marks it valid
(nodata, alpha band, internal or ``.msk`` mask; a pixel valid when any band is), or when
an alpha band or mask marks it invalid over values that are not blank: a mask is a hint
most readers can ignore, so an image kept under it still ships. Blank is, in every band,
the fill of the window: the value most of its masked cells there hold (0 as mapgate's
own remediation writes, or any other constant). A mask made by nodata alone needs no
such read: its invalid pixels hold the nodata values by definition.

Only windows around the zones the outline meets are read, block by block, never the
whole image. Whatever cannot be established (GCP-placed pixels, a zone not drawable in
the raster's CRS, a mask or overview that cannot be read) leaves the outline standing in,
as before: the overlap can only grow, never be lost.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import numpy as np
import shapely
from affine import Affine
from shapely.geometry.base import BaseGeometry

from compliance.readers.pixels import open_level
from compliance.readers.sources import RasterSource
from compliance.zones.area_cover import growing_index
from compliance.zones.areas import AreaSet

__all__ = ["data_over_zones"]

_CHUNK = 1024  # pixels per side of a window read at once: 1 MB of mask per band
# Pixel cell shapes kept per image before the rest are replaced by the boxes of the
# windows they lie in: a speckled mask could otherwise yield millions of polygons.
_MAX_SHAPES = 2_000


def data_over_zones(image: RasterSource, outline: BaseGeometry, areas: AreaSet) -> BaseGeometry:
    """The part of a raster that shows ground in a zone, in the raster's CRS.

    Parameters
    ----------
    image
        The raster (one image, or one placement of it) whose pixels are read.
    outline
        Its pixel-grid outline in its CRS: what stands in when the pixels cannot tell.
    areas
        The zones (buffered on the ground when first used).

    Returns
    -------
    BaseGeometry
        The pixel cells showing ground (valid, or masked over values that are not
        blank), at the full image and every overview, that meet a zone the outline meets
        (empty when none does), or ``outline`` itself when this cannot be established.
    """
    if image.crs is None or image.transform is None or image.count < 1:
        return outline  # placed by GCPs (a spline, not an affine) or not at all
    if image.axis_centres is not None:
        return outline  # uneven coordinate arrays: the pixels are not where the affine says
    cover = growing_index(areas, image.crs).covering(outline.bounds)
    index = cover.index
    if index.far_positions.size:
        return outline  # zones tested in lon/lat have no shape to rasterize here
    near = index.tree.query(outline, predicate="intersects")
    if not near.size:
        return shapely.GeometryCollection()
    with index.prepared() as prepared:
        zones = shapely.from_wkb(shapely.to_wkb(prepared[near]))
    try:
        if _every_pixel_valid(image):
            # No nodata, alpha or mask: every cell of the full image holds data, so the
            # cells that meet a zone meet it exactly where the outline does. Reading and
            # tracing them (seconds for a large sheet) would find the same ground.
            return outline
        cells = _valid_cells(image, zones)
    except Exception:  # GDAL raises CPLE_* classes for corrupt blocks, bad overviews...
        return outline
    return shapely.union_all([*cells, _past_the_grid(image)])


def _past_the_grid(image: RasterSource) -> BaseGeometry:
    """Where the file holds pixels past the grid GDAL opens (``RasterSource.reach``): no
    read tells what they show, so all of it counts as data."""
    if image.reach is None:
        return shapely.GeometryCollection()
    t, w, h = image.transform, image.width, image.height
    grid = shapely.Polygon([t * (0, 0), t * (w, 0), t * (w, h), t * (0, h)])
    return shapely.difference(shapely.box(*image.reach), grid)


def _every_pixel_valid(image: RasterSource) -> bool:
    """Whether GDAL reports every band of the full image as having no invalid pixel."""
    from rasterio.enums import MaskFlags

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_level(_gdal_name(image), image.driver, None) as ds:
            return all(flags == [MaskFlags.all_valid] for flags in ds.mask_flag_enums)


def _gdal_name(image: RasterSource) -> str:
    """The name GDAL opened the image by: its label carries the file's name in place of
    its path (``GTIFF_DIR:2:scene.tif``), or is a GeoPackage's raster table."""
    if image.label and image.label.startswith(image.path.name + " "):
        return str(image.path)  # the file's image placed by its sidecars: the same pixels
    if image.label and image.driver == "GPKG" and image.path.name not in image.label:
        return f"GPKG:{image.path}:{image.label}"
    if image.label:
        return image.label.replace(image.path.name, str(image.path), 1)
    return str(image.path)


def _valid_cells(image: RasterSource, zones: np.ndarray) -> list[BaseGeometry]:
    """Valid pixel cells meeting ``zones`` (in the raster's CRS), at every level."""
    to_pixels = ~image.transform
    in_pixels = shapely.transform(
        zones, lambda xy: np.column_stack(to_pixels * (xy[:, 0], xy[:, 1]))
    )
    cells: list[BaseGeometry] = []
    name = _gdal_name(image)
    with warnings.catch_warnings(), ExitStack() as stack:
        warnings.simplefilter("ignore")
        full = stack.enter_context(open_level(name, image.driver, None))
        levels = len(full.overviews(1))
        datasets = [full] + [
            stack.enter_context(open_level(name, image.driver, i)) for i in range(levels)
        ]
        for ds in datasets:
            # An overview covers the image's ground with fewer, larger pixels.
            scale = Affine.scale(image.width / ds.width, image.height / ds.height)
            zones_here = shapely.transform(
                in_pixels, lambda xy, s=scale: np.column_stack(~s * (xy[:, 0], xy[:, 1]))
            )
            cells += _level_cells(ds, zones_here, image.transform * scale, _MAX_SHAPES)
    return cells


def _windows(ds: Any, zone: BaseGeometry) -> Iterator[tuple[int, int, int, int]]:
    """Windows (col, row, width, height) of at most ``_CHUNK`` pixels per side covering
    the zone's box (in this level's pixels) within the image."""
    minx, miny, maxx, maxy = zone.bounds
    col0, row0 = max(0, math.floor(minx) - 1), max(0, math.floor(miny) - 1)
    col1, row1 = min(ds.width, math.ceil(maxx) + 1), min(ds.height, math.ceil(maxy) + 1)
    for row in range(row0, row1, _CHUNK):
        for col in range(col0, col1, _CHUNK):
            yield col, row, min(_CHUNK, col1 - col), min(_CHUNK, row1 - row)


def _level_cells(ds: Any, zones: np.ndarray, to_crs: Affine, budget: int) -> list[BaseGeometry]:
    """At one level: the cells that meet a zone and show ground, as shapes in the
    raster's CRS."""
    from rasterio.features import rasterize, shapes
    from rasterio.windows import Window

    hides_values = _mask_hides_values(ds)
    found: list[BaseGeometry] = []
    for zone in zones:
        for col, row, width, height in _windows(ds, zone):
            at = Affine.translation(col, row)
            # Every cell the zone touches, however little: it shows ground in the zone.
            touched = rasterize(
                [zone], out_shape=(height, width), transform=at, all_touched=True, dtype="uint8"
            ).astype(bool)
            if not touched.any():
                continue
            hit = _showing(ds, Window(col, row, width, height), touched, hides_values)
            if not hit.any():
                continue
            window_cells: list[BaseGeometry] = []
            for shape, _ in shapes(hit.astype("uint8"), mask=hit, transform=to_crs * at):
                if len(found) + len(window_cells) >= budget:
                    # Speckled data: the box of the window's valid cells stands in for them.
                    rows, cols = np.nonzero(hit)
                    box = shapely.box(cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
                    window_cells = [_carry(box, to_crs * at)]
                    break
                window_cells.append(shapely.geometry.shape(shape))
            found += window_cells
    return found


def _mask_hides_values(ds: Any) -> bool:
    """Whether this level's mask can mark invalid a pixel that holds other values than
    nodata: an alpha band or a mask (internal or ``.msk``) can, nodata alone cannot."""
    from rasterio.enums import MaskFlags

    return not all(MaskFlags.nodata in flags for flags in ds.mask_flag_enums)


def _showing(ds: Any, window: Any, touched: np.ndarray, hides_values: bool) -> np.ndarray:
    """The touched cells of ``window`` that show ground: valid in GDAL's dataset mask
    (the alpha band or a mask, else any band not nodata), or masked over values that are
    not blank."""
    valid = ds.dataset_mask(window=window) != 0
    hit = valid & touched
    masked = touched & ~valid
    if hides_values and masked.any():
        hit |= _not_blank(ds, window, masked)
    return hit


def _not_blank(ds: Any, window: Any, masked: np.ndarray) -> np.ndarray:
    """The ``masked`` cells whose value, in some band, is not the band's fill: the value
    most of them hold there. A blanked area holds one value; an image kept under the mask
    differs from it nearly everywhere. Read a band at a time, over the masked cells' box."""
    from rasterio.windows import Window

    rows, cols = np.nonzero(masked)
    row0, row1, col0, col1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    inner = masked[row0:row1, col0:col1]
    box = Window(window.col_off + col0, window.row_off + row0, col1 - col0, row1 - row0)
    differs = np.zeros(int(inner.sum()), dtype=bool)
    for band in range(1, ds.count + 1):
        values = ds.read(band, window=box)[inner]
        differs |= ~_equal_to(values, _most_common(values))
        if differs.all():
            break  # every masked cell already shows ground: the other bands cannot undo it
    shown = np.zeros_like(masked)
    shown[row0:row1, col0:col1][inner] = differs
    return shown


def _most_common(values: np.ndarray) -> Any:
    """The value ``values`` (one band's masked cells, at least one) hold most often."""
    if values.dtype.kind in "ui" and values.dtype.itemsize <= 2:
        low = int(values.min())  # counted in a table: no sort for 8- and 16-bit imagery
        return low + int(np.bincount(values.astype(np.int32) - low).argmax())
    kinds, counts = np.unique(values, return_counts=True)
    return kinds[counts.argmax()]


def _equal_to(values: np.ndarray, fill: Any) -> np.ndarray:
    """Where ``values`` hold ``fill``, a NaN fill held by NaNs (never equal to itself)."""
    if values.dtype.kind in "fc" and np.isnan(fill):
        return np.isnan(values)
    return np.asarray(values == fill)


def _carry(geom: BaseGeometry, affine: Affine) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(affine * (xy[:, 0], xy[:, 1])))
