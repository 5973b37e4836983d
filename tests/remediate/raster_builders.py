"""Rasters for the remediation tests, written with rasterio around the conftest's zone, and
what the tests read back from them (rasterio, pyproj and shapely alone).

Kinds of validity: ``nodata`` (one band with a nodata value), ``alpha`` (RGBA), ``mask``
(RGB with an internal mask), ``none`` (RGB, every pixel valid).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import Affine

from tests.remediate.conftest import CENTRE, LOCAL

KINDS = ("nodata", "alpha", "mask", "none")
BANDS = {"nodata": 1, "alpha": 4, "mask": 3, "none": 3}


def grid(epsg: int, side_m: float, pixels: int) -> Affine:
    """A north-up grid of ``pixels`` x ``pixels`` centred on the zone, about ``side_m``
    ground metres a pixel (degrees and Web Mercator metres scaled to the ground)."""
    lon, lat = CENTRE
    if epsg == 4326:
        dy = side_m / 110_950.0
        dx = side_m / (111_320.0 * np.cos(np.radians(lat)))
        x, y = lon, lat
    else:
        x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
        scale = 1 / np.cos(np.radians(lat)) if epsg == 3857 else 1.0
        dx = dy = side_m * scale
    half = pixels / 2
    return Affine(dx, 0.0, x - half * dx, 0.0, -dy, y + half * dy)


def pattern(count: int, pixels: int) -> np.ndarray:
    """Pixel values that differ from block to block and band to band, never 0."""
    rows, cols = np.mgrid[0:pixels, 0:pixels]
    return np.stack([((rows * 7 + cols * 13 + b * 31) % 250 + 1) for b in range(count)]).astype(
        "uint8"
    )


def write_raster(
    path: Path,
    epsg: int,
    kind: str,
    side_m: float = 10.0,
    pixels: int = 600,
    overviews: str | None = "internal",
    **extra: object,
) -> Path:
    """A tiled GeoTIFF of ``kind`` validity; overviews internal, in a .ovr, or none."""
    count = BANDS[kind]
    profile: dict[str, object] = {
        "driver": "GTiff",
        "width": pixels,
        "height": pixels,
        "count": count,
        "dtype": "uint8",
        "crs": f"EPSG:{epsg}",
        "transform": grid(epsg, side_m, pixels),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if kind == "nodata":
        profile["nodata"] = 0
    if kind in ("alpha", "mask", "none"):
        profile["photometric"] = "RGB"
    if kind == "alpha":
        profile["alpha"] = "YES"
    profile.update(extra)
    data = pattern(count, pixels)
    valid = np.ones((pixels, pixels), dtype=bool)
    valid[:40, :40] = False  # a corner without data
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        if kind == "nodata":
            data[0][~valid] = 0
        if kind == "alpha":
            data[3] = np.where(valid, 255, 0)
        dst.write(data)
        if kind == "mask":
            dst.write_mask(np.where(valid, 255, 0).astype("uint8"))
    if overviews:
        env = rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, TIFF_USE_OVR=overviews == "ovr")
        with env, rasterio.open(path, "r+") as ds, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no mask overviews in a .ovr: not the point here
            ds.build_overviews([2, 4, 8], Resampling.average)
    return path


def levels(path: Path) -> list[tuple[np.ndarray, np.ndarray, Affine]]:
    """Each level of a raster (full image first): its pixels, validity and geotransform."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as ds:
            count, a, w, h = len(ds.overviews(1)), ds.transform, ds.width, ds.height
        for level in [None, *range(count)]:
            options = {} if level is None else {"overview_level": level}
            with rasterio.open(path, **options) as ds:
                cell = a * Affine.scale(w / ds.width, h / ds.height)
                out.append((ds.read(), ds.dataset_mask() != 0, cell))
    return out


def centres_in(area_local: shapely.Geometry, shape: tuple[int, int], a: Affine, epsg: int):
    """Per pixel of a level: whether its centre lies in ``area_local`` (the conftest's local
    metric frame), the centre carried there from the raster's CRS with pyproj."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    xs, ys = a * (cols.ravel() + 0.5, rows.ravel() + 0.5)
    lx, ly = Transformer.from_crs(epsg, LOCAL, always_xy=True).transform(xs, ys)
    return shapely.contains_xy(area_local, lx, ly).reshape(shape)
