"""Vector facts measured from the coordinates: ground detail, quantisation, validity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS

from compliance.geodesy import distances_m, to_lonlat

# Finer rounding than this is ordinary float output (7 decimals of a degree ~ 1 cm), not a
# statement about the data's accuracy, so points stored that way have no measurable detail.
MIN_DELIBERATE_ROUNDING_M = 0.1


def _linework(geoms: np.ndarray) -> np.ndarray:
    if np.all(shapely.get_type_id(geoms) == 0):
        return np.empty(0, dtype=object)  # points only
    parts = shapely.get_parts(geoms)
    types = shapely.get_type_id(parts)
    polygons = parts[types == 3]
    lines = parts[(types == 1) | (types == 2)]
    rings = shapely.get_rings(polygons) if polygons.size else np.empty(0, dtype=object)
    nested = parts[types == 7]  # geometry collections inside collections
    extra = _linework(shapely.get_parts(nested)) if nested.size else np.empty(0, dtype=object)
    return np.concatenate([lines, rings, extra])


def ring_segments_m(geoms: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Each line or ring's shortest and median non-zero segment, in ground metres."""
    lines = _linework(geoms)
    if lines.size == 0:
        return np.empty(0), np.empty(0)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    if len(coords) < 2:
        return np.empty(0), np.empty(0)
    lon, lat = to_lonlat(crs, coords[:, 0], coords[:, 1])
    same = index[1:] == index[:-1]
    seg = distances_m(lon[:-1][same], lat[:-1][same], lon[1:][same], lat[1:][same])
    owner = index[1:][same]
    keep = np.isfinite(seg) & (seg > 1e-9)
    seg, owner = seg[keep], owner[keep]
    if seg.size == 0:
        return np.empty(0), np.empty(0)
    order = np.lexsort((seg, owner))  # by line, then by length
    seg, owner = seg[order], owner[order]
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    counts = np.diff(np.r_[first, owner.size])
    return seg[first], seg[first + counts // 2]


def coordinate_quantum(coords: np.ndarray) -> float | None:
    """The coarsest power-of-ten grid every coordinate sits on, in CRS units, if any.

    Coordinates rounded to 5 decimals sit on a 1e-5 grid; full-precision floats sit on
    none coarser than 1e-9 and return None.
    """
    values = coords[np.isfinite(coords)].ravel()
    if values.size == 0:
        return None
    values = values[:50_000]
    for exponent in range(4, -10, -1):
        step = 10.0**exponent
        ratio = values / step
        # A double on a k·step grid is within a few ulps of it; anything looser admits noise.
        if np.all(np.abs(ratio - np.round(ratio)) <= 1e-11 * np.abs(ratio) + 1e-9):
            return step
    return None


def quantum_on_ground_m(step: float, coords: np.ndarray, crs: CRS) -> float | None:
    """Ground size in metres of one quantisation step, at the middle of the data."""
    x, y = np.nanmedian(coords[:, 0]), np.nanmedian(coords[:, 1])
    lon, lat = to_lonlat(crs, np.array([x, x + step, x]), np.array([y, y, y + step]))
    d = distances_m(lon[[0, 0]], lat[[0, 0]], lon[[1, 2]], lat[[1, 2]])
    d = d[np.isfinite(d) & (d > 0)]
    return float(d.min()) if d.size else None


# A layer mixes detail levels when at least this share of its sampled lines and rings are
# drawn wholly (by their median segment) this many times finer than its typical detail.
# A layer's detail is a median, so a minority of fine features cannot move it: padding a
# 1:5,000 layer with coarse shapes would otherwise pass it as a small-scale map.
MIXED_SHARE = 0.05
MIXED_FACTOR = 5.0


@dataclass
class Detail:
    resolution_m: float | None
    method: str
    # When the layer mixes detail levels: the share of lines and rings drawn much finer than
    # the rest, and their own typical shortest segment.
    finer_share: float | None = None
    finer_m: float | None = None


def measure_detail(geoms: np.ndarray, crs: CRS | None) -> Detail:
    """The ground size of the finest detail in a sample of geometries.

    The typical shortest segment (median over lines and rings of each one's shortest
    segment) bounded below by the coordinate quantisation: detail cannot be finer than
    the grid the coordinates are stored on.
    """
    if crs is None or geoms.size == 0:
        return Detail(None, "not measurable: no CRS or no geometry")
    shortest, middle = ring_segments_m(geoms, crs)
    coords = shapely.get_coordinates(geoms)
    step = coordinate_quantum(coords)
    quantum_m = quantum_on_ground_m(step, coords, crs) if step is not None else None
    segment_m = float(np.median(shortest)) if shortest.size else None
    n = geoms.size
    if segment_m is not None:
        value = max(segment_m, quantum_m or 0.0)
        method = (
            f"median of each line/ring's shortest segment over {n} sampled geometries "
            f"({segment_m:.3g} m, geodesic)"
        )
        if quantum_m is not None and quantum_m > segment_m:
            method += f", raised to the coordinate quantisation ({quantum_m:.3g} m)"
        finer = middle < segment_m / MIXED_FACTOR
        share = float(finer.mean())
        if share >= MIXED_SHARE:
            finer_m = max(float(np.median(shortest[finer])), quantum_m or 0.0)
            return Detail(value, method, round(share, 4), finer_m)
        return Detail(value, method)
    if quantum_m is not None and quantum_m >= MIN_DELIBERATE_ROUNDING_M:
        return Detail(
            quantum_m,
            f"coordinate quantisation {step:g} CRS units = {quantum_m:.3g} m on the ground (points only)",
        )
    return Detail(None, "not measurable: points stored at full precision carry no detail measure")
