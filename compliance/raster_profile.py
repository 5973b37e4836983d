"""Raster facts from the header alone: footprint, ground pixel size, bands, overviews."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from compliance.geodesy import distances_m, to_lonlat
from compliance.readers.dataset import RasterSource

_EDGE_POINTS = 33  # per side: enough that a projected edge's curvature is followed
_SAMPLES = 9  # per axis, for the ground pixel size


def pixel_grid_outline(src: RasterSource) -> Polygon | None:
    """The raster's outline in its own CRS, densified along the pixel-grid edges."""
    if src.transform is None:
        return None
    t = np.linspace(0.0, 1.0, _EDGE_POINTS)
    w, h = float(src.width), float(src.height)
    cols = np.concatenate([t * w, np.full_like(t, w), (1 - t) * w, np.zeros_like(t)])
    rows = np.concatenate([np.zeros_like(t), t * h, np.full_like(t, h), (1 - t) * h])
    a = src.transform
    xs = a.a * cols + a.b * rows + a.c
    ys = a.d * cols + a.e * rows + a.f
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return None  # a damaged geotransform (NaN or infinite terms) places nothing
    return shapely.make_valid(Polygon(np.column_stack([xs, ys])))


def ground_pixel_size(src: RasterSource) -> tuple[float, float] | None:
    """Finest (min) and coarsest (max) ground pixel size in metres over the raster's extent.

    A pixel's two sides are measured as geodesic distances between neighbouring pixel
    corners at a grid of sample positions, so degrees, feet, Web Mercator stretch,
    rotation and shear all come out as true ground metres.
    """
    if src.transform is None or src.crs is None:
        return None
    a = src.transform
    cols = np.linspace(0.0, max(src.width - 1, 0), _SAMPLES)
    rows = np.linspace(0.0, max(src.height - 1, 0), _SAMPLES)
    cc, rr = (m.ravel() for m in np.meshgrid(cols, rows))

    def lonlat(c: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return to_lonlat(src.crs, a.a * c + a.b * r + a.c, a.d * c + a.e * r + a.f)  # type: ignore[arg-type]

    lon0, lat0 = lonlat(cc, rr)
    lon1, lat1 = lonlat(cc + 1, rr)
    lon2, lat2 = lonlat(cc, rr + 1)
    sizes = np.concatenate(
        [distances_m(lon0, lat0, lon1, lat1), distances_m(lon0, lat0, lon2, lat2)]
    )
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    if sizes.size == 0:
        return None
    return float(sizes.min()), float(sizes.max())


def looks_like_elevation(src: RasterSource) -> bool:
    """Heuristic for ``has_z``: a vertical CRS, height units, or one non-byte grey band."""
    if src.crs is not None and src.crs.is_vertical or (src.crs is not None and src.crs.is_compound):
        return True
    if any(
        u.lower() in {"m", "metre", "meter", "metres", "meters", "ft", "foot", "us-ft"}
        for u in src.units
    ):
        return True
    return (
        src.count == 1
        and src.dtypes[0] in {"int16", "int32", "float32", "float64"}
        and src.colorinterp[:1] in (["gray"], ["undefined"])
    )
