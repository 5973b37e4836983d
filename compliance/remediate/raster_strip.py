"""``strip_coordinates`` for rasters: the pixels without any georeferencing, as a COG.

The derivative is written from the pixels alone: no CRS, geotransform, GCPs or RPCs, no
dataset or band metadata (GDAL and TIFF tags, XMP, EXIF GPS, descriptions: any of them
may hold coordinates), no sidecar. What is kept describes the pixels only: size, bands,
data type, colour interpretation and table, nodata, and the alpha band or mask.

The remediation keeps the original's CRS and geotransform (``Placement``); its
``restore`` (``place_raster``) writes a copy placed there for the re-check, which says so.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

from affine import Affine
from pyproj import CRS

from compliance.remediate.actions import Placement
from compliance.remediate.raster_stream import (
    blocks,
    open_source,
    staging_profile,
    validity_of,
    write_cog,
)

__all__ = ["place_raster", "strip_raster"]


def strip_raster(source: Path, target: Path, staging: Path, even: bool = True) -> Placement | None:
    """Write ``source``'s pixels to ``target`` (a COG) without any georeferencing.

    Returns
    -------
    Placement | None
        How to place a copy where the original lies, or None when it had no CRS and
        geotransform (GCPs alone, or nothing), or its geotransform does not place its
        pixels (``even`` False: its coordinate arrays are uneven).
    """
    import rasterio

    with open_source(source) as src:
        validity = validity_of(src)
        placement = None
        if even and src.crs is not None and not src.transform.is_identity:
            crs, transform = CRS.from_user_input(src.crs.to_wkt()), src.transform
            placement = Placement(
                restore=lambda derivative, target: place_raster(derivative, target, crs, transform)
            )
        profile = staging_profile(src, validity, crs=None, transform=None)
        env = rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, GDAL_PAM_ENABLED="NO")
        with env, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotGeoreferencedWarning: the point
            with rasterio.open(staging, "w", **profile) as dst:
                dst.colorinterp = src.colorinterp
                _copy_colormap(src, dst)
                for window in blocks(src.width, src.height):
                    dst.write(src.read(window=window), window=window)
                    if validity.kind == "mask":
                        dst.write_mask(src.dataset_mask(window=window), window=window)
    write_cog(staging, target)
    staging.unlink(missing_ok=True)
    return placement


def _copy_colormap(src: Any, dst: Any) -> None:
    for band in range(1, src.count + 1):
        try:
            dst.write_colormap(band, src.colormap(band))
        except ValueError:
            pass  # no colour table on this band


def place_raster(derivative: Path, target: Path, crs: CRS, transform: Affine) -> None:
    """Write a copy of a stripped raster placed where the original lies (for the re-check)."""
    import rasterio

    shutil.copyfile(derivative, target)
    _unmark_cog(target)
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(target, "r+") as dst:
            dst.crs = crs.to_wkt()
            dst.transform = transform


_COG_MARK = b"GDAL_STRUCTURAL_METADATA_SIZE="


def _unmark_cog(path: Path) -> None:
    """Blank the COG layout note GDAL keeps between the TIFF header and the first IFD (no
    TIFF structure points there), so the copy is a plain GeoTIFF that GDAL lets us place
    in place; edited as a COG, every later open of it would warn of a broken layout."""
    with path.open("r+b") as f:
        head = f.read(512)
        at = head.find(_COG_MARK)
        if at < 0 or at > 16:
            return
        size = int(head[at + len(_COG_MARK) : at + len(_COG_MARK) + 6])
        end = head.index(b"\n", at) + 1 + size
        f.seek(at)
        f.write(b" " * (end - at))
