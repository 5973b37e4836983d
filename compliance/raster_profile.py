"""Raster facts from the header alone: footprint, ground pixel spacing, bands, overviews."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from compliance.pixel_lattice import PixelToCrs, lattice_spacing
from compliance.readers.dataset import RasterSource

_EDGE_POINTS = 33  # per side: enough that a projected edge's curvature is followed
_WARPED_EDGE_POINTS = 257  # per side of a GCP-warped grid, whose edges bend at any GCP
# A thin-plate spline is solved as one dense system over every GCP (cubic time): past
# this many, the raster is not measured rather than the check stalled.
MAX_GCPS = 2000


def is_georeferenced(src: RasterSource) -> bool:
    """A geotransform, or enough GCPs to map pixels to the CRS."""
    return src.transform is not None or len(src.gcps) >= 3


@contextmanager
def pixel_to_crs(src: RasterSource) -> Iterator[PixelToCrs | None]:
    """The mapping from pixel positions to the raster's CRS, or None when there is none.

    A geotransform is an affine map. GCPs are never reduced to one best-fit affine: GDAL's
    GCP transformer interpolates them with a thin-plate spline, so a warp's local spacing
    and its real outline are followed (a polynomial fit only when GDAL cannot solve the
    spline, such as for collinear points).
    """
    if src.transform is not None:
        a = src.transform
        yield lambda c, r: (a.a * c + a.b * r + a.c, a.d * c + a.e * r + a.f)
        return
    gcp_transformer = _gcp_transformer(src)
    if gcp_transformer is None:
        yield None
        return
    with gcp_transformer:
        yield lambda c, r: _gcp_xy(gcp_transformer, c, r)


def _gcp_transformer(src: RasterSource) -> Any:
    if not 3 <= len(src.gcps) <= MAX_GCPS:
        return None
    from rasterio.control import GroundControlPoint
    from rasterio.errors import RasterioError
    from rasterio.transform import GCPTransformer

    points = [GroundControlPoint(row=r, col=c, x=x, y=y) for c, r, x, y in src.gcps]
    for tps in (True, False):
        try:
            return GCPTransformer(points, tps=tps)
        except (RasterioError, ValueError):
            continue
    return None


def _gcp_xy(
    gcp_transformer: Any, cols: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from rasterio.errors import RasterioError

    cols, rows = np.atleast_1d(cols).astype(float), np.atleast_1d(rows).astype(float)
    try:
        xs, ys = gcp_transformer.xy(rows, cols, offset="ul")
    except (RasterioError, ValueError):
        return np.full(cols.shape, np.nan), np.full(cols.shape, np.nan)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def pixel_grid_outline(src: RasterSource) -> BaseGeometry | None:
    """The raster's outline in its own CRS: the pixel grid's edges, densified, carried
    through the pixel-to-CRS mapping; for a GCP-placed raster, also every GCP, so the
    outline never stops short of a point the file itself places."""
    warped = src.transform is None
    t = np.linspace(0.0, 1.0, _WARPED_EDGE_POINTS if warped else _EDGE_POINTS)
    w, h = float(src.width), float(src.height)
    cols = np.concatenate([t * w, np.full_like(t, w), (1 - t) * w, np.zeros_like(t)])
    rows = np.concatenate([np.zeros_like(t), t * h, np.full_like(t, h), (1 - t) * h])
    with pixel_to_crs(src) as to_crs:
        if to_crs is None:
            return None
        xs, ys = to_crs(cols, rows)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return None  # a damaged geotransform (NaN or infinite terms) places nothing
    outline: BaseGeometry = shapely.make_valid(Polygon(np.column_stack([xs, ys])))
    if warped:
        gcps = shapely.multipoints(np.asarray(src.gcps, dtype=float)[:, 2:4])
        outline = shapely.union(outline, shapely.convex_hull(gcps))
    return outline


def ground_pixel_size(src: RasterSource) -> tuple[float, float] | None:
    """Finest and coarsest ground spacing of neighbouring pixel centres, in metres.

    The pixel lattice's shortest vectors are measured geodesically over the whole extent,
    far edges included (see ``compliance.pixel_lattice``), so degrees, feet, Web Mercator
    stretch, rotation, shear and GCP warps all come out as true ground metres.
    """
    if src.crs is None or src.width < 1 or src.height < 1:
        return None
    with pixel_to_crs(src) as to_crs:
        if to_crs is None:
            return None
        return lattice_spacing(to_crs, src.crs, src.width, src.height)


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
