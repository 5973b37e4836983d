"""A dataset's outline carried to lon/lat so that it stays where it is on the Earth.

PROJ returns longitudes in -180..180. An outline that crosses the antimeridian in its own
CRS (a UTM zone 60 raster reaching past 180°, a Pacific-centred Mercator) would come back
with vertices on both edges of the map: a band round the whole Earth instead of the data,
with the wrong area, and a territory share of almost nothing. Each ring is therefore kept
continuous (179.5 .. 180.5), and a ring that goes round a pole takes in the polar cap.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from compliance.arrays import finite_rows
from compliance.geo.crs_identity import WGS84, is_wgs84
from compliance.geo.geodesy import geometries_to_wgs84, geometry_to_wgs84, on_the_earth, transformer

__all__ = ["footprint_to_wgs84", "shapes_to_wgs84"]

# Edges are densified to this length (1 km on the ground in a projected CRS, 0.01° in a
# geographic one) before they are carried to lon/lat: a straight 10 km edge in UTM or in
# Korea's TM CRSs drifts about 3 m from the lon/lat straight line between its ends, a 1 km
# one about 3 cm, well inside the zones' 0.5 m tolerance.
_DENSIFY_M = 1_000.0
_DENSIFY_DEG = 0.01


def footprint_to_wgs84(outline: BaseGeometry, crs: CRS) -> BaseGeometry | None:
    """``outline`` (densified, in ``crs``) in lon/lat, or None when it cannot be placed."""
    if is_wgs84(crs):
        return outline if on_the_earth(outline) else None
    lonlat = geometry_to_wgs84(outline, crs)
    if not on_the_earth(lonlat) or not _round_trips(outline, lonlat, crs):
        return None
    parts = []
    for part in shapely.get_parts(lonlat):
        placed = _continuous(part, lambda: _poles_inside(outline, crs))
        if placed is None:
            return None
        parts.append(placed)
    footprint = shapely.union_all(shapely.make_valid(np.array(parts, dtype=object)))
    return footprint if on_the_earth(footprint) else None


def shapes_to_wgs84(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Zones or territory polygons in ``crs`` carried to lon/lat: edges densified first so
    that a long straight edge stays where it was drawn, and each shape kept in one piece
    across the antimeridian. None where a shape cannot be placed on the Earth."""
    geoms = np.asarray(geoms, dtype=object)
    if is_wgs84(crs) or geoms.size == 0:
        return geoms.copy()
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    step = _DENSIFY_DEG if crs.is_geographic else _DENSIFY_M / unit
    dense = shapely.segmentize(geoms, step)
    out = geometries_to_wgs84(dense, crs)
    bounds = shapely.bounds(out)
    # Wrapped round the Earth by PROJ's -180..180 longitudes, or not placeable at all.
    suspect = ~finite_rows(bounds) | (bounds[:, 2] - bounds[:, 0] > 180.0)
    suspect |= ~_each_round_trips(dense, out, crs)
    for i in np.flatnonzero(suspect):
        out[i] = footprint_to_wgs84(dense[i], crs)
    return out


def _each_round_trips(given: np.ndarray, lonlat: np.ndarray, crs: CRS) -> np.ndarray:
    """Per shape, whether it round-trips (see ``_round_trips``), in one pass over every
    coordinate; longitudes past ±180° in a geographic CRS are kept as they are."""
    ok = np.ones(given.size, dtype=bool)
    if crs.is_geographic or given.size == 0:
        return ok
    xy, owner = shapely.get_coordinates(given, return_index=True)
    lon, lat = shapely.get_coordinates(lonlat).T
    back_x, back_y = transformer(WGS84, crs).transform(lon, lat, errcheck=False)
    error = np.maximum(np.abs(back_x - xy[:, 0]), np.abs(back_y - xy[:, 1]))
    error[~np.isfinite(error)] = np.inf
    worst = np.zeros(given.size)
    np.maximum.at(worst, owner, error)
    box = shapely.bounds(given)
    span = np.nan_to_num(np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]))
    size = np.zeros(given.size)
    np.maximum.at(size, owner, np.abs(xy).max(axis=1))
    return worst <= _tolerance(size, span)


def _tolerance(magnitude: np.ndarray, span: np.ndarray) -> np.ndarray:
    # Far looser than PROJ's round trip, even for approximate inverses far from a
    # projection's centre (55 m on a Laborde grid 3,000 km off Madagascar), and far tighter
    # than a wrap (a whole world's width): 1e-4 of the coordinates plus 1% of the extent.
    return 1e-4 * magnitude + 1e-2 * span + 1e-3


def _round_trips(outline: BaseGeometry, lonlat: BaseGeometry, crs: CRS) -> bool:
    """True when the lon/lat positions project back onto the coordinates they came from.

    Projections wrap: Web Mercator's inverse turns x = 1e15 into some longitude, which
    projects forward to a quite different x. Such coordinates name no position on the Earth,
    and placing them where the wrap happens to land would test the wrong territory.
    """
    one = np.array([outline], dtype=object)
    return bool(_each_round_trips(one, np.array([lonlat], dtype=object), crs)[0])


def _continuous(part: BaseGeometry, poles: Callable[[], list[float]]) -> BaseGeometry | None:
    if isinstance(part, shapely.Point):
        return part
    if isinstance(part, shapely.LineString):
        return shapely.LineString(_recentred(_unwrapped(np.asarray(part.coords))))
    if not isinstance(part, shapely.Polygon) or part.is_empty:
        return part
    shell = _unwrapped(np.asarray(part.exterior.coords))
    if abs(shell[-1, 0] - shell[0, 0]) > 180.0:
        # The ring went round a pole: close it over the pole it holds.
        held = poles()
        if len(held) != 1:
            return None
        lat = held[0]
        shell = np.vstack([shell, [[shell[-1, 0], lat], [shell[0, 0], lat], shell[0]]])
    shell = _recentred(shell)
    middle = (shell[:, 0].min() + shell[:, 0].max()) / 2
    holes = []
    for ring in part.interiors:
        hole = _unwrapped(np.asarray(ring.coords))
        # A hole in the same turn as its shell.
        hole[:, 0] += 360.0 * np.round((middle - hole[:, 0].mean()) / 360.0)
        holes.append(hole)
    return shapely.Polygon(shell, holes)


def _unwrapped(coords: np.ndarray) -> np.ndarray:
    """Longitudes made continuous along the ring: no step of more than half a turn."""
    out = np.array(coords[:, :2], dtype=float)
    out[:, 0] = np.unwrap(out[:, 0], period=360.0)
    return out


def _recentred(coords: np.ndarray) -> np.ndarray:
    """Shifted by whole turns so that the middle of its longitudes lies within ±180°."""
    middle = (coords[:, 0].min() + coords[:, 0].max()) / 2
    coords[:, 0] -= 360.0 * np.round(middle / 360.0)
    return coords


def _poles_inside(outline: BaseGeometry, crs: CRS) -> list[float]:
    """The latitudes (90, -90) of the poles that lie inside ``outline`` in its own CRS."""
    x, y = transformer(WGS84, crs).transform([0.0, 0.0], [90.0, -90.0], errcheck=False)
    held = []
    for px, py, lat in zip(np.atleast_1d(x), np.atleast_1d(y), (90.0, -90.0), strict=True):
        if np.isfinite(px) and np.isfinite(py) and outline.covers(shapely.Point(px, py)):
            held.append(lat)
    return held
