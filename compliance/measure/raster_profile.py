"""Raster facts from the header alone: footprint, ground pixel spacing, bands, overviews.

An overview level is the image's ground at another size, and GDAL serves any size as
one, larger than the image too: a level of (w, h) pixels over an image of (W, H) maps
its pixels to the CRS as the image does, composed with a scale of (W / w, H / h). Each
level that may be finer than the image is measured with that map, as the image is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from compliance.geo.geodesy import to_lonlat
from compliance.measure.axis_warp import axis_warp, finest_step_places
from compliance.measure.pixel_lattice import AFFINE, WARPED, PixelToCrs, lattice_spacing
from compliance.readers.sources import RasterSource

__all__ = [
    "MAX_GCPS",
    "PixelMeasures",
    "ground_pixel_size",
    "ground_steps",
    "image_lonlat",
    "is_georeferenced",
    "looks_like_elevation",
    "may_hold_heights",
    "measure_pixels",
    "step_places",
]

_EDGE_POINTS = 33  # per side: enough that a projected edge's curvature is followed
_WARPED_EDGE_POINTS = 257  # per side of a GCP-warped grid, whose edges bend at any GCP
# A thin-plate spline is one dense linear system over every GCP, solved in cubic time
# (GDAL: 0.13 s for 500 GCPs, 1.4 s for 1,000), and each evaluation sums over every GCP
# (about 0.4 us per position and GCP), at about 8 positions per sample with every GCP a
# sample: 600 GCPs take about 3 s. Past this many, the raster is held as unmeasurable
# rather than the check stalled.
MAX_GCPS = 600
_GEOD = Geod(ellps="WGS84")
# Places per side where a grid's pixel steps are weighed against each other (see
# _least_spread): cheap beside a lattice measurement, and only for images with overviews.
_SPREAD_GRID = 9
# A level is skipped only when it is coarser than this, with room for the ground steps'
# departure from a straight line over one pixel.
_COARSER = 1.01


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
        if src.axis_centres is None:
            yield lambda c, r: (a.a * c + a.b * r + a.c, a.d * c + a.e * r + a.f)
            return
        # Uneven coordinate arrays: each pixel position where they put it, then the grid.
        along_c, along_r = (axis_warp(centres) for centres in src.axis_centres)

        def uneven(c: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            gc, gr = along_c(c), along_r(r)
            return a.a * gc + a.b * gr + a.c, a.d * gc + a.e * gr + a.f

        yield uneven
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
    # Finest and coarsest neighbour spacing, metres, over the image and its overview levels.
    sizes: tuple[float, float] | None
    # The (width, height) of the overview level that set the finest, when not the image.
    finer_level: tuple[int, int] | None = None


def measure_pixels(src: RasterSource) -> PixelMeasures:
    """The outline and the ground pixel spacing, through one pixel-to-CRS mapping (a GCP
    spline is solved once), over the image and every overview level that may be finer."""
    with _pixel_to_crs(src) as to_crs:
        if to_crs is None:
            return PixelMeasures(None, None)
        sizes, level = _spacing(src, to_crs), None
        if sizes is not None and src.overview_sizes:
            sizes, level = _with_levels(src, to_crs, sizes)
        return PixelMeasures(_outline(src, to_crs), sizes, level)


def image_lonlat(
    src: RasterSource, cols: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the image's geotransform or GCPs put pixel positions (column, row; (0, 0) the
    outer corner of the first pixel), as lon/lat; None when they put them nowhere."""
    if src.crs is None:
        return None
    with _pixel_to_crs(src) as to_crs:
        if to_crs is None:
            return None
        xs, ys = to_crs(np.asarray(cols, dtype=float), np.asarray(rows, dtype=float))
        return to_lonlat(src.crs, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))


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
    if src.reach is not None:
        outline = shapely.union(outline, shapely.box(*src.reach))
    return outline


def _spacing(
    src: RasterSource, to_crs: PixelToCrs, level: tuple[int, int] | None = None
) -> tuple[float, float] | None:
    """The image's spacing, or an overview level's (its width and height) through the
    image's mapping scaled to it."""
    width, height = level or (src.width, src.height)
    if src.crs is None or width < 1 or height < 1:
        return None
    if level is not None:
        to_crs = _scaled(to_crs, src.width / width, src.height / height)
    if src.transform is not None and src.axis_centres is None:
        return lattice_spacing(to_crs, src.crs, width, height, AFFINE)
    if src.axis_centres is not None:
        # Uneven axes: their finest steps are samples too, wherever they fall between
        # grid nodes (a run of a few fine columns among thousands).
        cols, rows = finest_step_places(src.axis_centres, src.width, src.height, AFFINE.grid)
        at = (cols * (width / src.width), rows * (height / src.height))
        return lattice_spacing(to_crs, src.crs, width, height, AFFINE, also_at=at)
    # A warp bends at its GCPs: every one is a sample too, besides the grid, so a dip
    # around a single GCP between grid nodes is found and refined.
    ties = np.asarray(src.gcps, dtype=float)
    at = (ties[:, 0], ties[:, 1])
    if level is not None:
        at = (at[0] * (width / src.width), at[1] * (height / src.height))
    return lattice_spacing(to_crs, src.crs, width, height, WARPED, also_at=at)


def _scaled(to_crs: PixelToCrs, sx: float, sy: float) -> PixelToCrs:
    return lambda cols, rows: to_crs(cols * sx, rows * sy)


def _with_levels(
    src: RasterSource, to_crs: PixelToCrs, sizes: tuple[float, float]
) -> tuple[tuple[float, float] | None, tuple[int, int] | None]:
    """The image's spacing with that of each overview level that may be finer: the finest
    over them all, and the level that set it (None: the image); no spacing when such a
    level cannot be measured (its pixels' fineness is then unknown)."""
    finest, coarsest = sizes
    found: tuple[int, int] | None = None
    for level in _may_be_finer(src, to_crs):
        measured = _spacing(src, to_crs, level)
        if measured is None:
            return None, None
        coarsest = max(coarsest, measured[1])
        if measured[0] < finest:
            finest, found = measured[0], level
    return (finest, coarsest), found


def _may_be_finer(src: RasterSource, to_crs: PixelToCrs) -> list[tuple[int, int]]:
    """The overview levels that may be finer than the image somewhere.

    A level s times the image's pixel on both axes (s = the lesser of W / w and H / h)
    has neighbours at least s times the least singular value of the image's ground pixel
    steps apart; the image's nearest neighbours are at most its shorter step apart. So a
    level is certainly not finer where s times their ratio (``_least_spread``: 1 for
    steps square on the ground) is at least 1, as for every level of an ordinary pyramid.
    Not so for a level larger than the image on either axis, nor on a grid sheared so far
    that a level with fewer pixels each way brings rows closer than the image's.
    """
    # A level of no pixels on an axis (a damaged header) is measured: it cannot be.
    scales = [
        min(src.width / w, src.height / h) if w >= 1 and h >= 1 else 0.0
        for w, h in src.overview_sizes
    ]
    spread = _least_spread(src, to_crs) if max(scales) >= _COARSER else 0.0
    return [
        level
        for level, scale in zip(src.overview_sizes, scales, strict=True)
        if scale * spread < _COARSER
    ]


def _least_spread(src: RasterSource, to_crs: PixelToCrs) -> float:
    """The least, over a grid of places across the image, of its ground pixel steps' least
    singular value over the shorter step: 1 where the column and row steps are square to
    each other on the ground, less the more they lean; 0 where a place cannot be
    measured."""
    if src.crs is None:
        return 0.0
    cols, rows = step_places(src.width, src.height, _SPREAD_GRID)
    xs, ys = to_crs(cols, rows)
    lon, lat = to_lonlat(src.crs, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    least, shorter = ground_steps(lon, lat)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = least / shorter
    return float(np.where(np.isfinite(ratio), ratio, 0.0).min())


def step_places(width: int, height: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions (columns, rows) of a ``grid`` x ``grid`` grid of places spanning
    the image (the last kept a pixel inside), then each place moved a column, then a row:
    what ``ground_steps`` takes, once carried to lon/lat."""
    t = np.linspace(0.0, 1.0, grid)
    cols = np.minimum(np.tile(t, grid) * width, max(width - 1.0, 0.0))
    rows = np.minimum(np.repeat(t, grid) * height, max(height - 1.0, 0.0))
    return np.concatenate([cols, cols + 1, cols]), np.concatenate([rows, rows, rows + 1])


def ground_steps(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At each place of ``step_places`` (its positions as lon/lat): the least singular
    value of the ground column and row steps, in metres (no two pixel centres there are
    closer), and the shorter step's length (the nearest are no farther apart). NaN where
    a place cannot be measured."""
    n = lon.size // 3
    with np.errstate(invalid="ignore", divide="ignore"):
        az, _, dist = _GEOD.inv(np.tile(lon[:n], 2), np.tile(lat[:n], 2), lon[n:], lat[n:])
        az = np.radians(az)
        east, north = dist * np.sin(az), dist * np.cos(az)
        (ue, ve), (un, vn) = np.split(east, 2), np.split(north, 2)
        det, uu, vv = np.abs(ue * vn - un * ve), ue * ue + un * un, ve * ve + vn * vn
        total = uu + vv
        least = 2 * det * det / (total + np.sqrt(np.maximum(total * total - 4 * det * det, 0)))
    return np.sqrt(least), np.sqrt(np.minimum(uu, vv))


# The number types heights are stored in (signed: below the datum too).
_HEIGHT_TYPES = frozenset({"int16", "int32", "float32", "float64"})


def looks_like_elevation(src: RasterSource) -> bool:
    """Heuristic for ``has_z``: a vertical CRS, height units, or one grey band of signed
    integers or floats (``_grey_band``)."""
    if src.crs is not None and src.crs.is_vertical or (src.crs is not None and src.crs.is_compound):
        return True
    if any(
        u.lower() in {"m", "metre", "meter", "metres", "meters", "ft", "foot", "us-ft"}
        for u in src.units
    ):
        return True
    return _grey_band(src) in _HEIGHT_TYPES


def may_hold_heights(src: RasterSource) -> bool:
    """Whether the raster may be a DEM that ``looks_like_elevation`` does not take for one:
    one grey band of unsigned 16- or 32-bit integers holds heights as readily (in
    decimetres, say, or offset above a datum) as a panchromatic image's brightness, and
    nothing in the file need say which; and a band of signed integers or floats in any
    other make-up (three labelled red, green and blue, one labelled a palette) is how an
    image is seldom stored and a DEM may be, labelled as one. A sensor model (RPCs) marks
    an image."""
    if src.has_rpc:
        return False
    if _grey_band(src) in {"uint16", "uint32"}:
        return True
    roles = src.colorinterp or ["undefined"] * src.count
    return any(
        kind in _HEIGHT_TYPES
        for kind, role in zip(src.dtypes, roles, strict=False)
        if role != "alpha"
    )


def _grey_band(src: RasterSource) -> str | None:
    """The data type of the raster's one grey band (an alpha band beside it aside: a
    warped DEM often carries one), or None when it has another make-up."""
    bands = [
        (kind, role)
        for kind, role in zip(
            src.dtypes, src.colorinterp or ["undefined"] * src.count, strict=False
        )
        if role != "alpha"
    ]
    if len(bands) != 1 or bands[0][1] not in ("gray", "undefined"):
        return None
    return bands[0][0]
