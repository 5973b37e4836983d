"""Every line and ring of a batch of geometries, each one's shortest segment on the ground,
and the finest of all their segments.

Lines, polygon rings and the parts of multi-geometries and (nested) geometry collections
are all measured: a part left out is a place for fine detail to hide. A line or ring whose
every segment is of zero length is a position, handed on as a point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from compliance.arrays import rows_all
from compliance.geo.segment_metres import GroundMaps, exact_lengths_m

__all__ = [
    "BatchCoordinates",
    "Candidates",
    "Cutoffs",
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


@dataclass(frozen=True)
class Cutoffs:
    """What a run of lines need not hand over: a line whose shortest segment, or a segment,
    longer than ``line`` or ``segment`` (the longest of the finest kept so far) cannot join
    them, and no more than ``keep`` segments can (None: no limit)."""

    line: float = np.inf
    segment: float = np.inf
    keep: int | None = None


@dataclass
class Candidates:
    """Approximate ground lengths that may be among the finest, with each one's ends in the
    CRS, so that the finest can be measured again exactly."""

    metres: np.ndarray
    ends: np.ndarray  # (n, 4): x1, y1, x2, y2

    @classmethod
    def none(cls) -> Candidates:
        return cls(np.empty(0), np.empty((0, 4)))


@dataclass
class ShortestSegments:
    """A run of lines and rings measured: each measured line's shortest non-zero segment
    (its approximate ground length), the candidates among those and among every segment,
    how many non-zero segments were measured, and the positions of the lines and rings
    that measure nothing because every segment is of zero length (a point drawn as a
    line or a collapsed ring)."""

    metres: np.ndarray  # every measured line's
    lines: Candidates  # of ``metres``, those no longer than the line cutoff
    segments: int  # non-zero segments with finite ends
    fine: Candidates  # the finest of those segments no longer than the segment cutoff
    positions: np.ndarray  # (n, 2): one per line or ring drawn as one position

    @classmethod
    def none(cls) -> ShortestSegments:
        return cls(np.empty(0), Candidates.none(), 0, Candidates.none(), np.empty((0, 2)))


def shortest_segments(
    coords: np.ndarray, owner: np.ndarray, grounds: GroundMaps, cutoffs: Cutoffs | None = None
) -> ShortestSegments:
    """The shortest non-zero segment of each line (``owner`` numbers the line of each
    coordinate, in order), with the ends of those within the ``cutoffs``; the finest
    segments of all the lines, with their ends; lengths on the ground of ``grounds``' CRS.
    Segments with a non-finite end are not measured. A line or ring with a finite vertex
    but no segment measured (all its finite vertices one position) gives that position."""
    cutoffs = cutoffs or Cutoffs()
    if owner.size == 0:
        return ShortestSegments.none()
    metres = _segment_metres(coords, owner, grounds)
    if metres is None:
        return ShortestSegments.none()
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    least = np.minimum.reduceat(metres, first)
    counts = np.diff(np.r_[first, owner.size])
    measured = np.isfinite(least)
    wanted = np.flatnonzero(measured & (least <= cutoffs.line))
    # Each wanted line's coordinates, and the first that starts its least segment.
    at = _coordinates_of(first, counts, wanted)
    at_least = at[metres[at] == np.repeat(least[wanted], counts[wanted])]
    pick = _first_of_each(at_least, owner)
    segments, fine = _finest_segments(coords, metres, cutoffs)
    # A line of one vertex never gets here from a file (GEOS refuses to decode it).
    idle = np.flatnonzero(~measured & (counts > 1))
    positions = (
        _positions(coords, owner, _coordinates_of(first, counts, idle))
        if idle.size
        else np.empty((0, 2))
    )
    return ShortestSegments(
        least[measured], Candidates(metres[pick], _ends(coords, pick)), segments, fine, positions
    )


def _coordinates_of(first: np.ndarray, counts: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The index of every coordinate of ``lines`` (numbers of lines in the run, ascending),
    line after line, given each line's first coordinate and count."""
    taken = counts[lines]
    return np.repeat(first[lines], taken) + (
        np.arange(int(taken.sum())) - np.repeat(np.cumsum(taken) - taken, taken)
    )


def _first_of_each(at: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Of coordinate indices ``at`` (ascending), the first on each line."""
    if at.size == 0:
        return at
    line = owner[at]
    return at[np.r_[True, line[1:] != line[:-1]]]


def _ends(coords: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The ends of the segments that coordinates ``at`` start: x1, y1, x2, y2."""
    x, y = coords[:, 0], coords[:, 1]
    return np.column_stack([x[at], y[at], x[at + 1], y[at + 1]])


def _finest_segments(
    coords: np.ndarray, metres: np.ndarray, cutoffs: Cutoffs
) -> tuple[int, Candidates]:
    """How many segments are measured, and the finest within the cutoffs with their ends.

    Fine lines chained into one line count as one line but keep every segment: ranked
    among segments, their detail shows whatever the number of lines."""
    count = int(np.count_nonzero(metres < np.inf))
    limit = min(cutoffs.segment, np.finfo(float).max)  # never the +inf of no segment
    at = np.flatnonzero(metres <= limit)
    if cutoffs.keep is not None and at.size > cutoffs.keep:
        at = at[np.argpartition(metres[at], cutoffs.keep - 1)[: cutoffs.keep]]
    return count, Candidates(metres[at], _ends(coords, at))


def _positions(coords: np.ndarray, owner: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The first finite vertex of each line among coordinates ``at`` (lines that measure
    nothing): a point, whatever type the line is stored as."""
    finite = at[rows_all(np.isfinite(coords[at]))]
    return coords[_first_of_each(finite, owner)]


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
