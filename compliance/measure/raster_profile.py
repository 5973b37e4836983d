"""Raster facts from the header alone: footprint, ground pixel spacing, bands, overviews."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from compliance.measure.pixel_lattice import AFFINE, WARPED, PixelToCrs, lattice_spacing
from compliance.readers.sources import RasterSource

__all__ = [
    "MAX_GCPS",
    "PixelMeasures",
    "ground_pixel_size",
    "is_georeferenced",
    "looks_like_elevation",
    "measure_pixels",
]

_EDGE_POINTS = 33  # per side: enough that a projected edge's curvature is followed
_WARPED_EDGE_POINTS = 257  # per side of a GCP-warped grid, whose edges bend at any GCP
# A thin-plate spline is one dense linear system over every GCP, solved in cubic time
# (GDAL: 0.13 s for 500 GCPs, 1.4 s for 1,000), and each evaluation sums over every GCP
# (about 0.4 us per position and GCP), at about 8 positions per sample with every GCP a
# sample: 600 GCPs take about 3 s. Past this many, the raster is held as unmeasurable
# rather than the check stalled.
MAX_GCPS = 600


def is_georeferenced(src: RasterSource) -> bool:
    """A geotransform, or enough GCPs to map pixels to the CRS."""
    return src.transform is not None or len(src.gcps) >= 3


@contextmanager
def _pixel_to_crs(src: RasterSource) -> Iterator[PixelToCrs | None]:
    """The mapping from pixel positions to the raster's CRS, or None when there is none.

    A geotransform is an affine map. GCPs are never reduced to one best-fit affine: GDAL's
    GCP transformer interpolates them with a thin-plate spline, so a warp's local spacing
    and its real outline are followed. GCPs the spline cannot be solved through (all on
    one line, one pixel tied to two places) give no mapping: a polynomial fit there would
    be one global fit again, smoothing the warp a contradicting GCP was added to hide.
    """
    if src.transform is not None:
        a = src.transform
        if not _spans_a_plane_affine(a):
            yield None
            return
        yield lambda c, r: (a.a * c + a.b * r + a.c, a.d * c + a.e * r + a.f)
        return
    if not 3 <= len(src.gcps) <= MAX_GCPS or not _spans_a_plane(src.gcps):
        yield None
        return
    import rasterio
    from rasterio.control import GroundControlPoint
    from rasterio.transform import GCPTransformer

    points = [GroundControlPoint(row=r, col=c, x=x, y=y) for c, r, x, y in src.gcps]
    with rasterio.Env():  # GDAL's solver messages go to logging, not stderr
        try:
            spline = GCPTransformer(points, tps=True)
        except Exception:  # GDAL's solver errors (a singular system) are CPLE_* classes
            yield None
            return
        with spline:
            yield lambda c, r: _gcp_xy(spline, c, r)


def _spans_a_plane_affine(a: Any) -> bool:
    """Whether a geotransform's column and row steps span a plane: parallel steps put
    every pixel centre on one line, where no spacing describes the grid."""
    area = abs(a.a * a.e - a.b * a.d)
    return bool(area > 1e-9 * np.hypot(a.a, a.d) * np.hypot(a.b, a.e))


def _spans_a_plane(gcps: list[tuple[float, float, float, float]]) -> bool:
    """Whether the GCPs' pixel positions and their map positions each span a plane: ties
    all on one line leave the other direction to the solver's whim (GDAL then returns a
    spline that squeezes it to nothing)."""
    ties = np.asarray(gcps, dtype=float)
    if not np.isfinite(ties).all():
        return False
    for pair in (ties[:, :2], ties[:, 2:]):
        centred = pair - pair.mean(axis=0)
        singular = np.linalg.svd(centred, compute_uv=False)
        if singular[-1] <= 1e-9 * singular[0]:
            return False
    return True


def _gcp_xy(spline: Any, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cols, rows = np.atleast_1d(cols).astype(float), np.atleast_1d(rows).astype(float)
    try:
        xs, ys = spline.xy(rows, cols, offset="ul")
    except Exception:  # GDAL reports a point it cannot transform as a CPLE_* error
        return np.full(cols.shape, np.nan), np.full(cols.shape, np.nan)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


@dataclass
class PixelMeasures:
    outline: BaseGeometry | None  # in the raster's CRS
    sizes: tuple[float, float] | None  # finest and coarsest neighbour spacing, metres


def measure_pixels(src: RasterSource) -> PixelMeasures:
    """The outline and the ground pixel spacing, through one pixel-to-CRS mapping (a GCP
    spline is solved once)."""
    with _pixel_to_crs(src) as to_crs:
        if to_crs is None:
            return PixelMeasures(None, None)
        return PixelMeasures(_outline(src, to_crs), _spacing(src, to_crs))


def ground_pixel_size(src: RasterSource) -> tuple[float, float] | None:
    """Finest and coarsest ground spacing of neighbouring pixel centres, in metres.

    The pixel lattice's shortest vectors are measured geodesically over the whole extent,
    far edges included (see ``compliance.measure.pixel_lattice``), so degrees, feet, Web Mercator
    stretch, rotation, shear and GCP warps all come out as true ground metres.
    """
    return measure_pixels(src).sizes


def _outline(src: RasterSource, to_crs: PixelToCrs) -> BaseGeometry | None:
    """The pixel grid's edges, densified, carried through the pixel-to-CRS mapping; for a
    GCP-placed raster, also every GCP, so the outline never stops short of a point the
    file itself places."""
    warped = src.transform is None
    t = np.linspace(0.0, 1.0, _WARPED_EDGE_POINTS if warped else _EDGE_POINTS)
    w, h = float(src.width), float(src.height)
    cols = np.concatenate([t * w, np.full_like(t, w), (1 - t) * w, np.zeros_like(t)])
    rows = np.concatenate([np.zeros_like(t), t * h, np.full_like(t, h), (1 - t) * h])
    xs, ys = to_crs(cols, rows)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return None  # a damaged geotransform (NaN or infinite terms) places nothing
    outline: BaseGeometry = shapely.make_valid(Polygon(np.column_stack([xs, ys])))
    if warped:
        gcps = shapely.multipoints(np.asarray(src.gcps, dtype=float)[:, 2:4])
        outline = shapely.union(outline, shapely.convex_hull(gcps))
    return outline


def _spacing(src: RasterSource, to_crs: PixelToCrs) -> tuple[float, float] | None:
    if src.crs is None or src.width < 1 or src.height < 1:
        return None
    if src.transform is not None:
        return lattice_spacing(to_crs, src.crs, src.width, src.height, AFFINE)
    # A warp bends at its GCPs: every one is a sample too, besides the grid, so a dip
    # around a single GCP between grid nodes is found and refined.
    ties = np.asarray(src.gcps, dtype=float)
    at = (ties[:, 0], ties[:, 1])
    return lattice_spacing(to_crs, src.crs, src.width, src.height, WARPED, also_at=at)


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
