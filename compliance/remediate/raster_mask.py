"""``mask_zones`` for rasters: hide every pixel the mask touches, block by block, as a COG.

The mask is the one the vector side cuts with (``zone_mask.coarse_mask``: the zones with
their buffers, grown outward to a coarse grid, so the gap does not trace the secret
boundary). Every pixel whose cell meets it, however little, is hidden: its centre inside
or not. Blocks the mask does not reach are copied as they are; the overviews are then
built afresh from the masked image (``raster_stream``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from compliance.geo.geodesy import ground_areas_km2
from compliance.remediate.raster_stream import (
    Validity,
    blocks,
    coarsest_overview,
    is_paletted,
    open_source,
    staging_profile,
    validity_of,
    write_cog,
)

__all__ = ["MaskOutcome", "mask_raster"]


@dataclass(frozen=True)
class MaskOutcome:
    """What masking did: full-resolution pixels hidden and their ground area."""

    pixels_masked: int
    area_masked_km2: float


def mask_raster(source: Path, target: Path, mask: BaseGeometry, staging: Path) -> MaskOutcome:
    """Write ``source`` to ``target`` (a COG) with every pixel meeting ``mask`` hidden.

    Parameters
    ----------
    source
        A raster placed by a geotransform.
    target
        The COG to write; ``staging`` is the uncompressed GeoTIFF it is made from.
    mask
        What to hide, in the raster's CRS.
    """
    masked, area = 0, 0.0
    import rasterio

    with open_source(source) as src:
        validity, paletted = validity_of(src), is_paletted(src)
        to_pixels = ~src.transform
        in_pixels = shapely.transform(
            mask, lambda xy: np.column_stack(to_pixels * (xy[:, 0], xy[:, 1]))
        )
        # An overview pixel holds data when any pixel under it does: one straddling the
        # mask's edge reaches up to its diagonal into the mask. Grown by that (square
        # corners: the gap stays a grid), no overview pixel with data meets a zone.
        reach = in_pixels.buffer(_overview_reach(src.width, src.height), join_style="mitre")
        shapely.prepare(reach)

        env = rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True)
        with env, rasterio.open(staging, "w", **staging_profile(src, validity)) as dst:
            _copy_style(src, dst)
            for window in blocks(src.width, src.height):
                hidden = _hidden(window, reach)
                _write_block(src, dst, window, validity, hidden)
                if hidden is not None:
                    masked += int(hidden.sum())
                    area += _area_km2(hidden, window, src.transform, src.crs)
    write_cog(staging, target, nearest=paletted)
    staging.unlink(missing_ok=True)
    return MaskOutcome(masked, area)


def _overview_reach(width: int, height: int) -> float:
    """How far, in pixels, an overview pixel can reach past the last pixel it averages:
    its diagonal, plus a pixel for GDAL's rounding of odd sizes."""
    return (coarsest_overview(width, height) + 1) * math.sqrt(2.0)


def _hidden(window: Any, reach: BaseGeometry) -> np.ndarray | None:
    """The block's pixels whose cells meet the mask (in pixels); None when there are none."""
    from rasterio.features import rasterize

    col, row = window.col_off, window.row_off
    if not reach.intersects(shapely.box(col, row, col + window.width, row + window.height)):
        return None
    hidden = rasterize(
        [reach],
        out_shape=(window.height, window.width),
        transform=Affine.translation(col, row),
        all_touched=True,
        dtype="uint8",
    ).astype(bool)
    return hidden if hidden.any() else None


def _write_block(src: Any, dst: Any, window: Any, validity: Validity, hidden: Any) -> None:
    data = src.read(window=window)
    valid = src.dataset_mask(window=window) if validity.kind == "mask" else None
    if hidden is not None:
        data[:, hidden] = validity.nodata if validity.kind == "nodata" else 0
        if valid is not None:
            valid[hidden] = 0
    dst.write(data, window=window)
    if valid is not None:
        dst.write_mask(valid, window=window)


def _area_km2(hidden: np.ndarray, window: Any, transform: Affine, crs: Any) -> float:
    from rasterio.features import shapes

    at = transform * Affine.translation(window.col_off, window.row_off)
    parts = [
        shapely.geometry.shape(s)
        for s, _ in shapes(hidden.astype("uint8"), mask=hidden, transform=at)
    ]
    if not parts or crs is None:
        return 0.0
    return float(ground_areas_km2(np.array(parts, dtype=object), CRS.from_user_input(crs)).sum())


def _copy_style(src: Any, dst: Any) -> None:
    """Colour table, colour interpretation, band descriptions and tags: what the image
    means, kept; overviews and sidecars are not."""
    dst.colorinterp = src.colorinterp
    dst.update_tags(**src.tags())
    for band in range(1, src.count + 1):
        if src.descriptions[band - 1]:
            dst.set_band_description(band, src.descriptions[band - 1])
        try:
            dst.write_colormap(band, src.colormap(band))
        except ValueError:
            pass  # no colour table on this band
