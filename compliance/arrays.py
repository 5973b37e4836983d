"""NumPy helpers the stages share.

``np.unique`` (NumPy 2.3 and later) asks ``numpy.ma`` whether its argument is masked, and
so imports ``numpy.ma`` on its first call: 8-9 ms, more than a warm check of a small file,
in a process that otherwise never needs masked arrays. Every distinct set of integers the
check takes goes through ``distinct`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AxisTrack", "box_unions", "distinct", "holds_no_number", "lonlat_sized_boxes"]

# Integers from 0 up to this many times their count (or this floor) are tallied in one
# pass; wider ranges are sorted.
_TALLY_SPREAD = 4
_TALLY_FLOOR = 1 << 16
_LEAST_ROWS = 3  # rows before numbers can be said to follow their intervals
# Rows among others: this many values near their own row, this many times as many as
# near another row's.
_MANY_NEAR = 10
_NEAR_RATIO = 4
_SCATTER = 7919  # a prime: row i is paired with row 7919 i + n/3 (mod n)
# How far a number may lie from its row and still follow it (about a kilometre), and the
# round-off of a number written in decimals (6 decimals of a degree, a decimetre).
_REACH = {True: 0.01, False: 1000.0}
_ROOM = {True: 1e-6, False: 0.1}


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct integers of ``values``, sorted: what ``np.unique(values)`` returns."""
    flat = np.asarray(values).ravel()
    if flat.dtype.kind not in "iu":
        raise TypeError(f"distinct takes integers, not {flat.dtype}")
    if flat.size == 0:
        return flat.copy()
    low, high = int(flat.min()), int(flat.max())
    if low >= 0 and high < max(_TALLY_SPREAD * flat.size, _TALLY_FLOOR):
        present = np.zeros(high + 1, dtype=bool)
        present[flat] = True
        return np.flatnonzero(present).astype(flat.dtype, copy=False)
    ordered = np.sort(flat)
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def box_unions(boxes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The union of each run of ``boxes`` (minx, miny, maxx, maxy) that begins at
    ``starts`` (sorted, within ``boxes``); a NaN bound gives way to a number."""
    with np.errstate(invalid="ignore"):
        return np.column_stack(
            [
                np.fmin.reduceat(boxes[:, 0], starts),
                np.fmin.reduceat(boxes[:, 1], starts),
                np.fmax.reduceat(boxes[:, 2], starts),
                np.fmax.reduceat(boxes[:, 3], starts),
            ]
        )


# What an empty geometry's box may hold: plain quiet NaNs and infinities. Any other NaN
# carries 51 bits in its payload.
_NO_NUMBER = np.array(
    [0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000],
    dtype=np.uint64,
)


def holds_no_number(rows: np.ndarray) -> np.ndarray:
    """Whether each row of 64-bit floats holds nothing but plain NaNs and infinities."""
    bits = np.ascontiguousarray(rows, dtype=np.float64).view(np.uint64)
    return np.asarray(np.isin(bits, _NO_NUMBER).all(axis=1))


def lonlat_sized_boxes(boxes: np.ndarray) -> np.ndarray:
    """Per feature box (minx, miny, maxx, maxy): whether all of it is the size of a
    longitude and latitude. Counted feature by feature, so that one real position in a
    layer cannot vouch for lon/lat numbers beside it under a projected CRS."""
    with np.errstate(invalid="ignore"):
        return (
            (boxes[:, 0] >= -180.0)
            & (boxes[:, 2] <= 180.0)
            & (boxes[:, 1] >= -90.0)
            & (boxes[:, 3] <= 90.0)
        )


@dataclass
class AxisTrack:
    """Numbers met with an interval each (a row's box along one axis), added batch by
    batch: whether they follow it (``attribute_tracks``, GeoJSON's foreign members).

    They follow it when every value lies within about a kilometre of its own row's box
    and some lie off it; or, since a sender can add rows whose values lie anywhere (the
    rule of every row then fails), when many more values lie within that reach of their
    own row's box, and off it, than of the box of another row (in a fixed scattered
    order). A value
    that has nothing to do with the rows' places (an elevation, a count) lies near the
    one as often as near the other."""

    rows: int = 0  # rows with a value and a box
    off: int = 0  # of them, off their box (past the round-off)
    farthest: float = 0.0  # the farthest a value lay from its row's box
    least: float = np.inf  # the column's own values
    most: float = -np.inf
    near_own: int = 0  # values within reach of their own row's box, and off it
    near_other: int = 0  # values within reach of another row's box

    def add(self, values: np.ndarray, low: np.ndarray, high: np.ndarray, degrees: bool) -> None:
        """``values`` beside their rows' intervals [``low``, ``high``] (NaN where none),
        in degrees or in a projected CRS's units."""
        room, reach = _ROOM[degrees], _REACH[degrees]
        given = np.isfinite(values) & np.isfinite(low) & np.isfinite(high)
        if not given.any():
            return
        v, lo, hi = values[given], low[given], high[given]
        least, most = float(v.min()), float(v.max())
        if most < float(lo.min()) - reach or least > float(hi.max()) + reach:
            # No value near any row (an id, a count): nothing can follow from this batch.
            self.rows += len(v)
            self.off += len(v)
            self.farthest = np.inf
            self.least, self.most = min(self.least, least), max(self.most, most)
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

    def follows(self, degrees: bool) -> bool:
        """Whether the values follow their rows' boxes (see the class)."""
        if self.rows < _LEAST_ROWS or self.off == 0 or self.most <= self.least:
            return False
        every_row = self.farthest <= _REACH[degrees]
        return every_row or (
            self.near_own >= _MANY_NEAR and self.near_own > _NEAR_RATIO * self.near_other
        )
