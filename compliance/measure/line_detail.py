"""Every line and ring of a batch of geometries, and each one's shortest segment on the ground.

Lines, polygon rings and the parts of multi-geometries and (nested) geometry collections
are all measured: a part left out is a place for fine detail to hide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from compliance.geo.segment_metres import GroundMaps, exact_lengths_m

__all__ = [
    "BatchCoordinates",
    "ShortestSegments",
    "linework_coordinates",
    "point_coordinates",
    "shortest_segments",
]

_POINT, _LINESTRING, _LINEARRING, _POLYGON, _MULTIPOINT, _COLLECTION = 0, 1, 2, 3, 4, 7
_MULTI_LINEWORK = (5, 6, _COLLECTION)  # MultiLineString, MultiPolygon, GeometryCollection
# Segments shorter than this are repeated vertices, not detail.
_ZERO_LENGTH_M = 1e-9
# A batch of up to this many vertices has its segments measured exactly, as geodesics:
# below it that costs less than drawing the ground map (about 0.1 ms), and it is exact.
_EXACT_UP_TO = 64


def _linework(geoms: np.ndarray) -> np.ndarray:
    """The lines and rings of every geometry, collections and multi-parts opened."""
    if geoms.size == 0:
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(geoms)
    types = shapely.get_type_id(parts)
    lines = parts[(types == _LINESTRING) | (types == _LINEARRING)]
    polygons = parts[types == _POLYGON]
    rings = shapely.get_rings(polygons) if polygons.size else np.empty(0, dtype=object)
    # get_parts opens one level: multi-parts inside a collection, collections inside one.
    nested = parts[np.isin(types, _MULTI_LINEWORK)]
    return np.concatenate([lines, rings, _linework(nested)])


@dataclass
class BatchCoordinates:
    """What the detail measure needs of a batch: every coordinate, the coordinates of each
    run of lines and rings with the number of the line of each, and those of the points."""

    coords: np.ndarray
    lines: list[tuple[np.ndarray, np.ndarray]]
    points: np.ndarray


def linework_coordinates(
    geoms: np.ndarray, coords: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of every line and ring, with the number of the line each belongs to.

    ``coords`` and ``owner`` are the geometries' own coordinates, already read."""
    types = shapely.get_type_id(geoms)
    simple_lines = np.isin(types, (_LINESTRING, _LINEARRING)).all()
    # A polygon without holes is one ring: its coordinates are already that ring's.
    simple_polygons = (types == _POLYGON).all() and not shapely.get_num_interior_rings(geoms).any()
    if simple_lines or simple_polygons:
        return coords, owner
    return shapely.get_coordinates(_linework(geoms), return_index=True)


def point_coordinates(geoms: np.ndarray) -> np.ndarray:
    """The coordinates of the points (of Point and MultiPoint parts, in collections too)."""
    if geoms.size == 0:
        return np.empty((0, 2))
    types = shapely.get_type_id(geoms)
    points = geoms[(types == _POINT) | (types == _MULTIPOINT)]
    nested = geoms[types == _COLLECTION]
    found = shapely.get_coordinates(points)
    return (
        np.concatenate([found, point_coordinates(shapely.get_parts(nested))])
        if nested.size
        else found
    )


@dataclass
class ShortestSegments:
    """Each measured line's shortest non-zero segment, its approximate ground length; and
    for those of them no longer than the caller's cutoff, the two ends in the CRS, so that
    the finest can be measured again exactly."""

    metres: np.ndarray  # every measured line's
    candidates: np.ndarray  # the lengths no longer than the cutoff
    ends: np.ndarray  # (n, 4) of the candidates: x1, y1, x2, y2

    @classmethod
    def none(cls) -> ShortestSegments:
        return cls(np.empty(0), np.empty(0), np.empty((0, 4)))


def shortest_segments(
    coords: np.ndarray, owner: np.ndarray, grounds: GroundMaps, cutoff: float = np.inf
) -> ShortestSegments:
    """The shortest non-zero segment of each line (``owner`` numbers the line of each
    coordinate, in order), with the ends of those no longer than ``cutoff``; lengths on
    the ground of ``grounds``' CRS. Segments with a non-finite end are not measured."""
    if owner.size < 2:
        return ShortestSegments.none()
    metres = _segment_metres(coords, owner, grounds)
    if metres is None:
        return ShortestSegments.none()
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    least = np.minimum.reduceat(metres, first)
    counts = np.diff(np.r_[first, owner.size])
    measured = np.isfinite(least)
    wanted = np.flatnonzero(measured & (least <= cutoff))
    # Each wanted line's coordinates, and the first that starts its least segment.
    taken = counts[wanted]
    at = np.repeat(first[wanted], taken) + (
        np.arange(int(taken.sum())) - np.repeat(np.cumsum(taken) - taken, taken)
    )
    at_least = at[metres[at] == np.repeat(least[wanted], taken)]
    line = owner[at_least]
    pick = at_least[np.r_[True, line[1:] != line[:-1]]] if at_least.size else at_least
    x, y = coords[:, 0], coords[:, 1]
    ends = np.column_stack([x[pick], y[pick], x[pick + 1], y[pick + 1]])
    return ShortestSegments(least[measured], metres[pick], ends)


def _segment_metres(
    coords: np.ndarray, owner: np.ndarray, grounds: GroundMaps
) -> np.ndarray | None:
    """One entry per coordinate: the ground length of the segment it starts, +inf where it
    starts none (the last vertex of a line, a non-finite end, a zero length), so that each
    line's minimum is a reduction. None when no coordinate is finite."""
    x, y = coords[:, 0], coords[:, 1]
    steps = coords[1:] - coords[:-1]  # both axes in one pass: a column's np.diff is strided
    finite = np.isfinite(x) & np.isfinite(y)
    everywhere = bool(finite.all())
    if not everywhere and not finite.any():
        return None
    metres = np.empty(owner.size)
    metres[-1] = np.inf
    joined = owner[1:] == owner[:-1]
    if owner.size <= _EXACT_UP_TO:
        metres[:-1] = np.inf
        at = np.flatnonzero(finite[:-1] & finite[1:] & joined)
        ends = np.column_stack([x[at], y[at], x[at + 1], y[at + 1]])
        metres[at] = exact_lengths_m(grounds.crs, ends)
        metres[~(metres > _ZERO_LENGTH_M)] = np.inf  # NaN too
        return metres
    fx, fy = (x, y) if everywhere else (x[finite], y[finite])
    ground = grounds.over((fx.min(), fy.min(), fx.max(), fy.max()))
    if everywhere:
        metres[:-1] = ground.lengths_m(coords[:-1], steps)
        metres[:-1][~joined] = np.inf
        ok = joined
    else:
        ok = finite[:-1] & finite[1:] & joined
        metres[:-1] = np.inf
        metres[:-1][ok] = ground.lengths_m(
            coords[:-1].compress(ok, axis=0), steps.compress(ok, axis=0)
        )
    lost = np.flatnonzero(ok & np.isnan(metres[:-1]))
    if lost.size:  # the CRS gives no position at a grid node nearby: measure these exactly
        ends = np.column_stack([x[lost], y[lost], x[lost + 1], y[lost + 1]])
        metres[lost] = exact_lengths_m(grounds.crs, ends)
    metres[~(metres > _ZERO_LENGTH_M)] = np.inf  # NaN too
    return metres
