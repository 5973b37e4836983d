"""``coarsen_resolution`` for rasters: resample (average) to a ground resolution, as a COG.

The finest ground spacing of neighbouring pixel centres (as the check measures it,
geodesic) scales with the pixel grid: a grid ``f`` times coarser in both directions is
``f`` times coarser on the ground, rotation, shear and Web Mercator stretch included. So
the image is warped to the same CRS and origin with its geotransform scaled by ``f =
resolution_m / pixel_m`` (a hair more, so that round-off cannot leave it finer), through
GDAL's warper in blocks, from the full-resolution image alone: invalid pixels (nodata,
alpha, mask) do not enter the averages. Paletted data (classes) is resampled by nearest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine

from compliance.remediate.raster_stream import (
    Validity,
    blocks,
    is_paletted,
    open_source,
    staging_profile,
    validity_of,
    write_cog,
)

__all__ = ["CoarsenOutcome", "coarsen_raster"]

# The new grid is this much coarser than asked: the measured spacing then cannot fall
# under the resolution by round-off (it moves by far less, about 1e-9).
_MARGIN = 1e-4


@dataclass(frozen=True)
class CoarsenOutcome:
    """The resampling: by how much, and the new image size."""

    factor: float
    width: int
    height: int


def coarsen_raster(
    source: Path, target: Path, pixel_m: float, resolution_m: float, staging: Path
) -> CoarsenOutcome | None:
    """Write ``source`` resampled (average) so that its pixels are ``resolution_m`` apart
    on the ground, as a COG at ``target``; None when they already are.

    Parameters
    ----------
    source
        A raster placed by a geotransform.
    pixel_m
        Its finest ground pixel spacing now, metres.
    resolution_m
        The finest ground spacing allowed, metres.
    staging
        The uncompressed GeoTIFF the COG is made from.
    """
    if pixel_m >= resolution_m:
        return None
    factor = resolution_m / pixel_m * (1 + _MARGIN)
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    with open_source(source) as src:
        validity, paletted = validity_of(src), is_paletted(src)
        width = max(1, math.ceil(src.width / factor))
        height = max(1, math.ceil(src.height / factor))
        transform = src.transform * Affine.scale(factor)
        options: dict[str, Any] = {
            "crs": src.crs,
            "transform": transform,
            "width": width,
            "height": height,
            "resampling": Resampling.nearest if paletted else Resampling.average,
        }
        if validity.kind == "alpha":
            options.update(src_alpha=validity.alpha_band, dst_alpha=validity.alpha_band)
        if validity.kind == "mask":
            options.update(add_alpha=True)
        profile = staging_profile(src, validity, width=width, height=height, transform=transform)
        env = rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True)
        with env, WarpedVRT(src, **options) as vrt, rasterio.open(staging, "w", **profile) as dst:
            dst.colorinterp = src.colorinterp
            dst.update_tags(**src.tags())
            if paletted:
                dst.write_colormap(1, src.colormap(1))
            for window in blocks(width, height):
                _copy_block(vrt, dst, window, validity, src.count)
    write_cog(staging, target, nearest=paletted)
    staging.unlink(missing_ok=True)
    return CoarsenOutcome(factor, width, height)


def _copy_block(vrt: Any, dst: Any, window: Any, validity: Validity, count: int) -> None:
    data = vrt.read(window=window)
    if validity.kind == "mask":
        # The warper's alpha (the last band) carries the source mask through the averages.
        dst.write(data[:count], window=window)
        dst.write_mask(np.where(data[count] > 0, 255, 0).astype("uint8"), window=window)
    else:
        dst.write(data, window=window)
