"""Numbers that follow their rows' positions, in whatever unit they are written.

A position kept beside coarse geometry need not be written as the geometry is. A
southern latitude can lose its sign, a longitude can be an integer of 1e-7 degrees (as
OpenStreetMap stores them), seconds of arc or radians; an easting can be written in
kilometres, centimetres or feet. Each is the position to anyone who knows the unit, and
the unit is the sender's choice. So each series of numbers (a column, or the k-th number
written in a text column) is met with each row's box along each axis in every unit of
``DEGREE_UNITS`` or ``LINEAR_UNITS``, with either sign (``FrameTracks``); one track
(``AxisTrack``) per series, axis and unit, started only once the unit brings a batch's
numbers near the rows' boxes, so a column of ids or counts costs two comparisons a unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

__all__ = [
    "DEGREE_UNITS",
    "LINEAR_UNITS",
    "REACH",
    "AxisTrack",
    "FrameTracks",
    "bowed",
    "divisors",
    "union",
]

_LEAST_ROWS = 3  # rows before numbers can be said to follow their intervals
# Rows among others: this many values near their own row, this many times as many as
# near another row's.
_MANY_NEAR = 10
_NEAR_RATIO = 4
_SCATTER = 7919  # a prime: row i is paired with row 7919 i + n/3 (mod n)
# How far a number may lie from its row and still follow it (about a kilometre), and the
# round-off of a number written in decimals (6 decimals of a degree, a decimetre).
REACH = {True: 0.01, False: 1000.0}
_ROOM = {True: 1e-6, False: 0.1}

# How many of each unit make one degree: degrees, 1e-1 to 1e-9 degrees (integers of
# 1e-7 degrees are OpenStreetMap's), minutes and seconds of arc, radians.
DEGREE_UNITS = (1.0, *(10.0**k for k in range(1, 10)), 60.0, 3600.0, math.pi / 180.0)
# Each unit's length in metres: the metre, tenths of a millimetre to decimetres, tens of
# metres to kilometres, the international and the US survey foot.
LINEAR_UNITS = (1.0, 1e-4, 1e-3, 1e-2, 0.1, 10.0, 100.0, 1e3, 0.3048, 1200.0 / 3937.0)


@dataclass
class AxisTrack:
    """Numbers met with an interval each (a row's box along one axis), added batch by
    batch: whether they follow it.

    They follow it when every value lies within about a kilometre of its own row's box
    and some lie off it; or, since a sender can add rows whose values lie anywhere (the
    rule of every row then fails), when many more values lie within that reach of their
    own row's box, and off it, than of the box of another row (in a fixed scattered
    order). A value that has nothing to do with the rows' places (an elevation, a count)
    lies near the one as often as near the other."""

    rows: int = 0  # rows with a value and a box
    off: int = 0  # of them, off their box (past the round-off)
    farthest: float = 0.0  # the farthest a value lay from its row's box
    least: float = np.inf  # the series' own values
    most: float = -np.inf
    near_own: int = 0  # values within reach of their own row's box, and off it
    near_other: int = 0  # values within reach of another row's box

    def add(
        self,
        values: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        degrees: bool,
        rows: np.ndarray | None = None,
    ) -> None:
        """``values`` beside their rows' intervals [``low``, ``high``] (NaN where none),
        in degrees or in a projected CRS's units; ``rows``: the row of each value, when a
        row writes several (ascending), which are then met together (``_add_written``)."""
        room, reach = _ROOM[degrees], REACH[degrees]
        given = np.isfinite(values) & np.isfinite(low) & np.isfinite(high)
        if not given.any():
            return
        v, lo, hi = values[given], low[given], high[given]
        if rows is not None:
            self._add_written(v, lo, hi, rows[given], room, reach)
            return
        least, most = float(v.min()), float(v.max())
        if most < float(lo.min()) - reach or least > float(hi.max()) + reach:
            self.skip(len(v), least, most)
            return
        gap = np.maximum(lo - v, 0.0) + np.maximum(v - hi, 0.0)
        self.rows += len(v)
        self.off += int((gap > room).sum())
        self.farthest = max(self.farthest, float(gap.max()))
        self.least, self.most = min(self.least, least), max(self.most, most)
        near = int(((gap <= reach) & (gap > room)).sum())
        self.near_own += near
        # Nothing near its own row (an id, a count): the comparison cannot tip.
        if near and len(v) > 1:
            # Another row for each, in a fixed scattered order (a shift by half the rows
            # would pair each with itself in a file that holds its features twice).
            other_row = (np.arange(len(v)) * _SCATTER + len(v) // 3 + 1) % len(v)
            lo, hi = lo[other_row], hi[other_row]
            other = np.maximum(lo - v, 0.0) + np.maximum(v - hi, 0.0)
            self.near_other += int((other <= reach).sum())

    def _add_written(
        self,
        v: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        rows: np.ndarray,
        room: float,
        reach: float,
    ) -> None:
        """Rows that write several numbers each: a row lies within reach of its box when
        one of its numbers does, and off it when none lies on it or one lies near it and
        off it. The others are what else the row writes (ids, the other axis, decoys
        put before the position), which neither help nor hide it. The numbers near
        their rows must vary, as a column's values must."""
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        gap = np.maximum(lo - v, 0.0) + np.maximum(v - hi, 0.0)
        nearest = np.minimum.reduceat(gap, starts)
        beside = (gap <= reach) & (gap > room)
        row_beside = np.logical_or.reduceat(beside, starts)
        self.rows += len(starts)
        self.off += int(np.count_nonzero((nearest > room) | row_beside))
        self.farthest = max(self.farthest, float(nearest.max()))
        if (close := v[gap <= reach]).size:
            self.least = min(self.least, float(close.min()))
            self.most = max(self.most, float(close.max()))
        near = int(np.count_nonzero(row_beside))
        self.near_own += near
        if near and len(starts) > 1:
            n = len(starts)
            other_row = (np.arange(n) * _SCATTER + n // 3 + 1) % n
            which = np.repeat(other_row, np.diff(np.r_[starts, len(v)]))
            olo, ohi = lo[starts][which], hi[starts][which]
            other = np.maximum(olo - v, 0.0) + np.maximum(v - ohi, 0.0)
            self.near_other += int(np.count_nonzero(np.logical_or.reduceat(other <= reach, starts)))

    def skip(self, rows: int, least: float, most: float) -> None:
        """``rows`` values, none near any row's box (an id, a count), among values from
        ``least`` to ``most``: nothing can follow from them, and every row no longer can."""
        self.least, self.most = min(self.least, float(least)), max(self.most, float(most))
        if rows:
            self.rows += rows
            self.off += rows
            self.farthest = np.inf

    def follows(self, degrees: bool) -> bool:
        """Whether the values follow their rows' boxes (see the class)."""
        if self.rows < _LEAST_ROWS or self.off == 0 or self.most <= self.least:
            return False
        every_row = self.farthest <= REACH[degrees]
        return every_row or (
            self.near_own >= _MANY_NEAR and self.near_own > _NEAR_RATIO * self.near_other
        )


@dataclass
class _Given:
    """What a series has given so far (rows with a value and a box), for a unit whose
    track starts in a later batch: those rows were all far from every box in it."""

    rows: int = 0
    least: float = np.inf
    most: float = -np.inf


Key = TypeVar("Key", bound=Hashable)


class FrameTracks(Generic[Key]):
    """Series of numbers (each named by a key) met with their rows' boxes in one frame
    (degrees, or a projected CRS's units), along both axes, in every unit and sign."""

    def __init__(self, degrees: bool, unit_m: float = 1.0) -> None:
        """``unit_m``: the length of a projected frame's unit (a CRS's metre or foot)."""
        self.degrees = degrees
        self.unit_m = unit_m
        self._units = divisors(degrees, unit_m)
        self._tracks: dict[tuple[Key, int], dict[int, AxisTrack]] = {}  # by key, axis; unit
        self._given: dict[Key, _Given] = {}

    def add(
        self,
        series: dict[Key, np.ndarray],
        boxes: np.ndarray | Callable[[np.ndarray], np.ndarray],
        placed: np.ndarray,
        extent: tuple[float, float, float, float] | None = None,
        rows: dict[Key, np.ndarray] | None = None,
    ) -> None:
        """One batch: each series' numbers (NaN where none) beside each row's box in the
        frame (min x, min y, max x, max y; NaN where none); ``placed``: the rows that
        have one. ``boxes`` may be a function that makes the boxes of the rows it is
        given, asked only for rows some unit brings near ``extent`` (the boxes' union,
        which it then needs). ``rows``: for a series of the numbers rows write (several
        a row, or none), the row of each (ascending)."""
        if extent is None:
            assert isinstance(boxes, np.ndarray), "made boxes need their extent"
            extent = union(boxes, placed)
        with np.errstate(over="ignore", invalid="ignore"):  # NaN, and units past the floats
            self._add(series, boxes, placed, extent, rows or {})

    def _add(
        self,
        series: dict[Key, np.ndarray],
        boxes: np.ndarray | Callable[[np.ndarray], np.ndarray],
        placed: np.ndarray,
        extent: tuple[float, float, float, float],
        written: dict[Key, np.ndarray],
    ) -> None:
        keys, ranges = [], []
        for key, values in series.items():
            on = placed if key not in written else placed[written[key]]
            given = on & np.isfinite(values)
            # Rows given, for numbers rows write: a row may write none, or several.
            count = int(
                np.count_nonzero(given) if key not in written else _distinct(written[key][given])
            )
            if count:
                keys.append(key)
                lo = float(np.min(values, where=given, initial=np.inf))
                ranges.append((count, lo, float(np.max(values, where=given, initial=-np.inf))))
        if not keys:
            return
        counts, least, most = (np.array(c) for c in zip(*ranges, strict=True))
        ends = (least[:, None] / self._units, most[:, None] / self._units)
        span_low, span_high = np.fmin(*ends), np.fmax(*ends)  # each series' range, each unit
        # What a row writes besides its position (ids, the other axis) says nothing of
        # whether its numbers vary: their range counts only as they come near (``add``).
        low, high = span_low.copy(), span_high.copy()
        apart = np.array([k in written for k in keys])
        low[apart], high[apart] = np.inf, -np.inf
        reach = REACH[self.degrees]
        rows_boxes = boxes if callable(boxes) else (lambda rows: boxes[rows])
        for axis in (0, 1):
            window = (extent[axis] - reach, extent[axis + 2] + reach)
            near = (span_high >= window[0]) & (span_low <= window[1])
            for at, key in enumerate(keys):
                tracks = self._tracks.setdefault((key, axis), {})
                row_of = written.get(key)
                for unit in np.flatnonzero(near[at]).tolist():
                    track = self._started(tracks, key, unit)
                    # Only a value inside the window can be near its own row's box, or
                    # another's: the others count as far, without a look at their boxes.
                    coordinates = series[key] / self._units[unit]
                    on = placed if row_of is None else placed[row_of]
                    inside = on & (coordinates >= window[0]) & (coordinates <= window[1])
                    at_values = np.flatnonzero(inside)
                    rows = at_values if row_of is None else row_of[at_values]
                    met = rows.size if row_of is None else _distinct(rows)
                    track.skip(int(counts[at]) - met, low[at, unit], high[at, unit])
                    if rows.size:
                        found = rows_boxes(rows)
                        track.add(
                            coordinates[at_values],
                            found[:, axis],
                            found[:, axis + 2],
                            self.degrees,
                            None if row_of is None else rows,
                        )
                # Units started in an earlier batch and far from every box in this one.
                for unit, track in tracks.items():
                    if not near[at, unit]:
                        track.skip(int(counts[at]), low[at, unit], high[at, unit])
        for key, (count, lo, hi) in zip(keys, ranges, strict=True):
            given = self._given.setdefault(key, _Given())
            given.rows += count
            if key not in written:
                given.least, given.most = min(given.least, lo), max(given.most, hi)

    def following(self) -> set[Key]:
        """The keys of the series that follow an axis in some unit, and in none repeat
        the geometry: numbers that lie on every row's box in one unit (the drawn
        positions in feet, say) say nothing more in another that is close to it (the
        US survey foot's two parts in a million put them off the boxes)."""
        found = set()
        for (key, _), tracks in self._tracks.items():
            if any(t.follows(self.degrees) for t in tracks.values()):
                found.add(key)
        return found - self.repeating()

    def repeating(self) -> set[Key]:
        """The keys of the series that lie on every row's box in some unit."""
        return {
            key
            for (key, _), tracks in self._tracks.items()
            if any(t.rows == self._given[key].rows and t.off == 0 for t in tracks.values())
        }

    def _started(self, tracks: dict[int, AxisTrack], key: Key, unit: int) -> AxisTrack:
        """The series' track in ``unit``, started with the rows it has given before."""
        track = tracks.get(unit)
        if track is None:
            track = tracks[unit] = AxisTrack()
            if (given := self._given.get(key)) is not None:
                ends = (given.least / self._units[unit], given.most / self._units[unit])
                if given.least > given.most:  # numbers rows write: no range of their own
                    track.skip(given.rows, np.inf, -np.inf)
                else:
                    track.skip(given.rows, min(ends), max(ends))
        return track


def _distinct(rows: np.ndarray) -> int:
    """How many rows ``rows`` (ascending) name."""
    return int(rows.size and 1 + np.count_nonzero(rows[1:] != rows[:-1]))


def divisors(degrees: bool, unit_m: float = 1.0) -> np.ndarray:
    """What a value is divided by to give a frame's coordinate (degrees, or a projected
    unit ``unit_m`` metres long), for each unit a position may be written in and either
    sign."""
    per = np.array(DEGREE_UNITS) if degrees else unit_m / np.array(LINEAR_UNITS)
    return np.concatenate([per, -per])


def union(boxes: np.ndarray, rows: np.ndarray) -> tuple[float, float, float, float]:
    """The box that holds ``boxes`` (rows of min x, min y, max x, max y) where ``rows``."""
    return (
        float(np.min(boxes[:, 0], where=rows, initial=np.inf)),
        float(np.min(boxes[:, 1], where=rows, initial=np.inf)),
        float(np.max(boxes[:, 2], where=rows, initial=-np.inf)),
        float(np.max(boxes[:, 3], where=rows, initial=-np.inf)),
    )


def bowed(boxes: np.ndarray) -> np.ndarray:
    """Boxes of longitude and latitude made from a projected box's corners, widened by
    as much as a straight projected edge can bow away from them: about
    ``0.0022 span**2`` degrees for a span in degrees (0.002 degrees over 1 degree, 5 km
    over 5 degrees), with room to spare, and no less than a thousandth of the span. A
    box around a pole, or across the antimeridian, spans most longitudes: it grows to
    hold every place."""
    span = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    pad = span * np.maximum(1e-3, 3e-3 * span)
    return np.column_stack([boxes[:, :2] - pad[:, None], boxes[:, 2:] + pad[:, None]])
