"""NumPy helpers the stages share.

``np.unique`` (NumPy 2.3 and later) asks ``numpy.ma`` whether its argument is masked, and
so imports ``numpy.ma`` on its first call: 8-9 ms, more than a warm check of a small file,
in a process that otherwise never needs masked arrays. Every distinct set of integers the
check takes goes through ``distinct`` instead, and every median through ``median``
(``np.median`` loads it too).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "box_unions",
    "distinct",
    "finite_rows",
    "holds_no_number",
    "keyed_hashes",
    "lonlat_sized_boxes",
    "median",
    "rows_all",
]

# Integers from 0 up to this many times their count (or this floor) are tallied in one
# pass; wider ranges are sorted.
_TALLY_SPREAD = 4
_TALLY_FLOOR = 1 << 16


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


def median(values: np.ndarray) -> float:
    """The median of ``values`` (NaN when there are none): what ``np.median`` returns,
    by partition."""
    flat = np.asarray(values, dtype=float).ravel()
    if flat.size == 0:
        return float("nan")
    if np.isnan(flat).any():
        return float("nan")  # as np.median: any NaN makes the median NaN
    half = flat.size // 2
    if flat.size % 2:
        return float(np.partition(flat, half)[half])
    low, high = np.partition(flat, (half - 1, half))[half - 1 : half + 1]
    return float((low + high) / 2)


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


def rows_all(flags: np.ndarray) -> np.ndarray:
    """``flags.all(axis=1)`` for a 2-D array of booleans, 20 times faster for rows of 2, 4
    or 8: each row's flags are read as one integer (a reduction along short rows is slow
    in NumPy)."""
    width = flags.shape[1] if flags.ndim == 2 else 0
    if flags.dtype != np.bool_ or width not in _ROW_WORDS:
        return np.asarray(flags.all(axis=1))
    word, ones = _ROW_WORDS[width]
    return np.asarray(np.ascontiguousarray(flags).view(word).ravel() == ones)


_ROW_WORDS = {
    2: (np.uint16, 0x0101),
    4: (np.uint32, 0x01010101),
    8: (np.uint64, 0x0101010101010101),
}


def finite_rows(boxes: np.ndarray) -> np.ndarray:
    """Whether each row of four floats (a box) is all finite."""
    return rows_all(np.isfinite(boxes).reshape(-1, 4))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (wrapping uint64 arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def keyed_hashes(ids: np.ndarray, boxes: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Each (id, 32-bit box) pair's keyed hash (``key``: two random uint64): their sum is
    an order-free digest of the pairs, keyed per check so that a file cannot be built to
    collide with it."""
    bits = np.ascontiguousarray(boxes, dtype="<f4").view("<u4").astype(np.uint64)
    h = _mix(ids.astype(np.uint64) ^ key[0])
    h = _mix(h ^ (bits[:, 0] | (bits[:, 1] << np.uint64(32))) ^ key[1])
    return _mix(h ^ (bits[:, 2] | (bits[:, 3] << np.uint64(32))))
