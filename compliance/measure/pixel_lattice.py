"""Ground spacing of a pixel lattice: the shortest distance between neighbouring pixel centres.

A pixel's side is not its spacing. Pixel vectors (0.5, 0) and (0.45, -0.3) m span a
lattice whose neighbouring centres are 0.30 m apart (along their difference), although
both sides measure 0.45 m or more. The lattice is reduced (Lagrange/Gauss) in the local
ground plane wherever it is sampled, and its shortest vectors are then measured again as
geodesics between the two pixel positions they join, so projection stretch (Web
Mercator, degrees near the poles, UTM far from its central meridian) and a warped GCP
grid are all measured where they are finest.

The lattice is sampled on a grid that spans the raster's whole extent, its far edges
(the last row and column, the far corner) included, and then refined around its finest
samples, so a finer spot between grid nodes is found too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import numpy as np
from pyproj import CRS, Geod

from compliance.geo.geodesy import to_lonlat

__all__ = [
    "AFFINE",
    "PixelToCrs",
    "Sampling",
    "WARPED",
    "lattice_spacing",
]

# Maps pixel positions (column, row; (0, 0) is the outer corner of the first pixel) to
# coordinates in the raster's CRS.
PixelToCrs = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_GEOD = Geod(ellps="WGS84")
_REFINE_SEEDS = 4  # the finest samples refined in each round


@dataclass(frozen=True)
class Sampling:
    """How densely the lattice is sampled: a first grid of ``grid`` x ``grid`` nodes over
    the whole extent, then ``rounds`` finer ``refine`` x ``refine`` grids around the
    finest samples, each over a cell a quarter the size of the last."""

    grid: int = 17
    refine: int = 7
    rounds: int = 3


# Through a geotransform, the spacing varies only with the projection's scale, smoothly:
# its extremes lie on the edges, at corners or on a line (a central meridian), which
# the grid's edge nodes and three refinements (to 1/64 of a grid step) reach. A GCP
# spline costs about 0.4 us per position and GCP (GDAL's evaluator): two refinements,
# plus samples at the GCPs themselves (see raster_profile).
AFFINE = Sampling()
WARPED = Sampling(rounds=2)
_MAX_REDUCTION_STEPS = 64  # Gauss reduction converges in O(log) steps; a cap guards NaN


def lattice_spacing(
    to_crs: PixelToCrs,
    crs: CRS,
    width: int,
    height: int,
    sampling: Sampling = AFFINE,
    also_at: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float] | None:
    """Finest and coarsest ground spacing in metres between neighbouring pixel centres.

    The finest is the shortest lattice vector at the finest place in the raster; the
    coarsest is the longer of the two reduced lattice vectors at the coarsest place.
    None when no sample can be measured (positions outside the CRS, a degenerate grid).
    ``also_at`` adds pixel positions to the first grid (a warp's GCPs, where it bends).
    """
    # Positions between pixel corners count too: a small raster's lattice is sampled as
    # densely as a large one's (a one-pixel raster from pole to pole has no spacing at
    # its corners, which are the poles, but has one at every latitude between).
    cols = np.linspace(0.0, float(width), sampling.grid)
    rows = np.linspace(0.0, float(height), sampling.grid)
    cc, rr = np.tile(cols, rows.size), np.repeat(rows, cols.size)  # a meshgrid's nodes
    if also_at is not None:
        cc = np.concatenate([cc, np.clip(also_at[0], 0.0, width)])
        rr = np.concatenate([rr, np.clip(also_at[1], 0.0, height)])
    shortest, longest = _measure(to_crs, crs, width, height, cc, rr)
    if not np.isfinite(shortest).any():
        return None
    finest = float(np.nanmin(shortest))
    coarsest = float(np.nanmax(longest))
    step_c, step_r = cols[1] - cols[0], rows[1] - rows[0]
    for _ in range(sampling.rounds):
        seeds = np.argsort(np.where(np.isfinite(shortest), shortest, np.inf))[:_REFINE_SEEDS]
        cc, rr = _around(cc[seeds], rr[seeds], step_c, step_r, width, height, sampling.refine)
        shortest, _ = _measure(to_crs, crs, width, height, cc, rr)
        if np.isfinite(shortest).any():
            finest = min(finest, float(np.nanmin(shortest)))
        step_c, step_r = step_c / 4, step_r / 4
    return finest, max(coarsest, finest)


def _around(
    cc: np.ndarray,
    rr: np.ndarray,
    step_c: float,
    step_r: float,
    width: int,
    height: int,
    nodes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """A finer grid over the cell of +-one step around each seed, kept inside the raster."""
    dc, dr = _refine_offsets(nodes)
    cols = _clip((cc[:, None] + (dc * step_c)[None, :]).ravel(), 0.0, width)
    rows = _clip((rr[:, None] + (dr * step_r)[None, :]).ravel(), 0.0, height)
    return cols, rows


@cache
def _refine_offsets(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The refine grid's node offsets, in steps: columns vary fastest (as a meshgrid's)."""
    t = np.linspace(-1.0, 1.0, nodes)
    dc, dr = np.tile(t, nodes), np.repeat(t, nodes)
    dc.flags.writeable = dr.flags.writeable = False  # shared by every call
    return dc, dr


def _measure(
    to_crs: PixelToCrs, crs: CRS, width: int, height: int, cc: np.ndarray, rr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """At each sample position: the shortest and the longer reduced lattice vector's
    ground length (NaN where unmeasurable)."""
    n = cc.size
    geodesics = partial(_geodesics, to_crs, crs, width, height)
    # The column step and the row step, carried through PROJ and measured in one call each.
    (az, dist) = geodesics(cc, rr, [(1.0, 0.0), (0.0, 1.0)])
    az = np.radians(az)
    east, north = dist * np.sin(az), dist * np.cos(az)
    u = (east[:n], north[:n])
    v = (east[n:], north[n:])
    # A reduced basis holds a shortest lattice vector and the shortest one independent of
    # it (|b1| <= |b2| <= |b1 +- b2|); each is measured again as a geodesic between the
    # two pixel positions it joins, and the shorter of the two counts.
    (m1, n1), (m2, n2) = _reduce(u, v)
    lengths = _step_lengths(
        geodesics, np.concatenate([cc, cc]), np.concatenate([rr, rr]),
        (np.concatenate([m1, m2]), np.concatenate([n1, n2])), dist,
    )  # fmt: skip
    lengths = np.where(np.isfinite(lengths) & (lengths > 0), lengths, np.nan)
    first, second = lengths[:n], lengths[n:]
    # Pixel steps along one line (a singular geotransform or spline) span no lattice:
    # centres coincide, and no spacing describes the grid.
    with np.errstate(invalid="ignore", divide="ignore"):
        sine = np.abs(u[0] * v[1] - u[1] * v[0]) / (np.hypot(*u) * np.hypot(*v))
    flat = ~(sine > 1e-6)  # past a million columns per row: no grid either
    shortest, longest = np.fmin(first, second), np.fmax(first, second)
    shortest[flat], longest[flat] = np.nan, np.nan
    return shortest, longest


def _step_lengths(
    geodesics: Callable[..., tuple[np.ndarray, np.ndarray]],
    cc: np.ndarray,
    rr: np.ndarray,
    steps: tuple[np.ndarray, np.ndarray],
    unit: np.ndarray,
) -> np.ndarray:
    """Ground length of each reduced pixel step (m, n) at its sample. Where the reduction
    kept a unit step, (1, 0) or (0, 1), its length is the one ``unit`` (every sample's
    column step, then every sample's row step) already holds for that sample (the same two
    pixel positions, so the same numbers): an unsheared raster's steps go through PROJ and
    the geodesic once, not twice."""
    m, n = steps
    along_row = (m == 1) & (n == 0)
    along_column = (m == 0) & (n == 1)
    half = unit.size // 2
    # Both bases' steps, sample after sample: the column step's length, then the row's.
    column_steps, row_steps = unit[:half], unit[half:]
    lengths = np.where(along_row, np.concatenate([column_steps, column_steps]), np.nan)
    lengths = np.where(along_column, np.concatenate([row_steps, row_steps]), lengths)
    rest = ~(along_row | along_column)
    if rest.any():
        _, measured = geodesics(cc[rest], rr[rest], [(m[rest], n[rest])])
        lengths[rest] = measured
    return np.abs(lengths)


def _lonlat(
    to_crs: PixelToCrs, crs: CRS, cols: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = to_crs(cols, rows)
    return to_lonlat(crs, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))


def _geodesics(
    to_crs: PixelToCrs,
    crs: CRS,
    width: int,
    height: int,
    cc: np.ndarray,
    rr: np.ndarray,
    steps: list[tuple[np.ndarray | float, np.ndarray | float]],
) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth (degrees) and geodesic length of each pixel step (m, n) centred on each
    sample, one list of samples after another. A step is moved inwards where the raster is
    wide enough, so that a step at an edge runs along the edge (a step past a raster that
    ends at a pole or its CRS's edge would have no ground)."""
    starts_c, starts_r, ends_c, ends_r = [], [], [], []
    for m, n in steps:
        mid_c = _inside(cc, np.abs(m) / 2, width)
        mid_r = _inside(rr, np.abs(n) / 2, height)
        starts_c.append(mid_c - m / 2)
        starts_r.append(mid_r - n / 2)
        ends_c.append(mid_c + m / 2)
        ends_r.append(mid_r + n / 2)
    lon, lat = _lonlat(
        to_crs, crs, np.concatenate(starts_c + ends_c), np.concatenate(starts_r + ends_r)
    )
    half = lon.size // 2
    with np.errstate(invalid="ignore"):
        az, _, dist = _GEOD.inv(lon[:half], lat[:half], lon[half:], lat[half:])
    return np.asarray(az, dtype=float), np.asarray(dist, dtype=float)


def _reduce(
    u: tuple[np.ndarray, np.ndarray], v: tuple[np.ndarray, np.ndarray]
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Lagrange/Gauss reduction of each 2-D basis (u, v), given by their east and north
    components; returns the integer pixel steps (column, row) of the reduced vectors, the
    shorter first."""
    (ux, uy), (vx, vy) = (u[0].copy(), u[1].copy()), (v[0].copy(), v[1].copy())
    n = ux.size
    cu_c, cu_r, cv_c, cv_r = np.ones(n), np.zeros(n), np.zeros(n), np.ones(n)
    active = np.isfinite(ux) & np.isfinite(uy) & np.isfinite(vx) & np.isfinite(vy)
    for _ in range(_MAX_REDUCTION_STEPS):
        swap = active & (vx * vx + vy * vy < ux * ux + uy * uy)
        if swap.any():
            for a, b in ((ux, vx), (uy, vy), (cu_c, cv_c), (cu_r, cv_r)):
                a[swap], b[swap] = b[swap], a[swap].copy()
        uu = ux * ux + uy * uy
        active &= uu > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.where(active, np.round((ux * vx + uy * vy) / np.where(active, uu, 1.0)), 0.0)
        active &= mu != 0
        if not active.any():
            break
        vx -= mu * ux
        vy -= mu * uy
        cv_c -= mu * cu_c
        cv_r -= mu * cu_r
    return (cu_c, cu_r), (cv_c, cv_r)


def _inside(pos: np.ndarray, half: np.ndarray | float, size: int) -> np.ndarray:
    """Each position, moved so that +-half stays within 0..size (the middle if it cannot)."""
    low, high = half, size - half
    if isinstance(low, float):  # one step for every sample: the unit steps
        return _clip(pos, low, high) if low <= high else np.full(pos.shape, size / 2)
    return np.where(low <= high, _clip(pos, low, np.maximum(low, high)), size / 2)


def _clip(x: np.ndarray, low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
    """``np.clip`` without its dispatch (documented as this very expression), which costs
    more than the arithmetic on the few hundred samples a call holds."""
    return np.minimum(np.maximum(x, low), high)
