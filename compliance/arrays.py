"""NumPy helpers the stages share.

``np.unique`` (NumPy 2.3 and later) asks ``numpy.ma`` whether its argument is masked, and
so imports ``numpy.ma`` on its first call: 8-9 ms, more than a warm check of a small file,
in a process that otherwise never needs masked arrays. Every distinct set of integers the
check takes goes through ``distinct`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AxisTrack", "box_unions", "distinct", "holds_no_number"]

# Integers from 0 up to this many times their count (or this floor) are tallied in one
# pass; wider ranges are sorted.
_TALLY_SPREAD = 4
_TALLY_FLOOR = 1 << 16
_LEAST_ROWS = 3  # rows before numbers can be said to follow their intervals
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


@dataclass
class AxisTrack:
    """Numbers met with an interval each (a row's box along one axis), added batch by
    batch: whether they follow it (``attribute_tracks``, GeoJSON's foreign members)."""

    rows: int = 0  # rows with a value and a box
    off: int = 0  # of them, off their box (past the round-off)
    farthest: float = 0.0  # the farthest a value lay from its row's box
    least: float = np.inf  # the column's own values
    most: float = -np.inf

    def add(self, values: np.ndarray, low: np.ndarray, high: np.ndarray, degrees: bool) -> None:
        """``values`` beside their rows' intervals [``low``, ``high``] (NaN where none),
        in degrees or in a projected CRS's units."""
        room = _ROOM[degrees]
        given = np.isfinite(values) & np.isfinite(low) & np.isfinite(high)
        if not given.any():
            return
        v = values[given]
        gap = np.maximum(low[given] - v, 0.0) + np.maximum(v - high[given], 0.0)
        self.rows += len(v)
        self.off += int((gap > room).sum())
        self.farthest = max(self.farthest, float(gap.max()))
        self.least = min(self.least, float(v.min()))
        self.most = max(self.most, float(v.max()))

    def follows(self, degrees: bool) -> bool:
        """Whether every value lay within about a kilometre of its row's box, the values
        were not all the same, and some value lay off its row's box."""
        reach = _REACH[degrees]
        return (
            self.rows >= _LEAST_ROWS
            and self.off > 0
            and self.most > self.least
            and self.farthest <= reach
        )
