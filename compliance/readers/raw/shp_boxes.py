"""The ranges a shapefile keeps beside its points: each record's box (and its Z and M
ranges), and the boxes in the ``.shp`` and ``.shx`` headers.

A line, polygon or multipoint record starts with the box of its points; Z and M records
give the range of their Z and M values before them; both headers give the box and ranges
of the whole file. GDAL reads the points and uses the boxes only to skip records a
spatial filter leaves out, so a record's box can hold any four numbers (the precise box
of a coarsened shape, say) and the file still reads as the points alone. Each range is
met with the points it spans, read here from the file's bytes for every record at once.
ESRI Shapefile Technical Description, 1998.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compliance.arrays import distinct, holds_no_number
from compliance.readers.raw.shp_slack import ints_at, record_kinds

__all__ = ["ShapefileRanges", "record_boxes", "shapefile_ranges"]

_PARTED = {3, 5, 13, 15, 23, 25, 31}
_MULTIPOINTS = {8, 18, 28}
_Z_TYPES = {11, 13, 15, 18, 31}
_M_TYPES = {21, 23, 25, 28}
# Points read per pass: their positions are gathered as 8-byte indexes.
_POINTS_PER_PASS = 1 << 22


@dataclass
class ShapefileRanges:
    """What the ranges kept beside the points say that the points do not."""

    records: int = 0  # records whose box, Z range or M range is not their points'
    header: bool = False  # the .shp header's box and ranges are not the records'
    index_header: bool = False  # the .shx header's are not the .shp header's

    def faults(self, shp: str, shx: str) -> list[str]:
        out = []
        if self.records:
            out.append(
                f"{shp}: {self.records} records keep a box or a Z or M range that is not "
                "the range of their points"
            )
        if self.header:
            out.append(f"{shp}: its header's box or ranges are not those of its records")
        if self.index_header:
            out.append(f"{shx}: its header's box or ranges are not those of {shp}")
        return out


class _Union:
    """The range of every value met so far, for each of x, y, z and m."""

    def __init__(self) -> None:
        self.low = np.full(4, np.inf)
        self.high = np.full(4, -np.inf)

    def add(self, axis: int, low: np.ndarray, high: np.ndarray) -> None:
        if len(low):
            self.low[axis] = min(self.low[axis], float(low.min()))
            self.high[axis] = max(self.high[axis], float(high.max()))

    def header(self, from_zero: bool) -> np.ndarray:
        """As a header gives it: x min, y min, x max, y max, z min, z max, m min, m max;
        0 for an axis with no value. ``from_zero``: the ranges start from 0 on every axis
        (GDAL starts them from the first record's box, all zeros when it has no point)."""
        low, high = self.low, self.high
        if from_zero:
            low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
        low = np.where(np.isfinite(low), low, 0.0)
        high = np.where(np.isfinite(high), high, 0.0)
        return np.array([low[0], low[1], high[0], high[1], low[2], high[2], low[3], high[3]])


def _phases(view: np.ndarray) -> list[np.ndarray]:
    """The file's bytes as doubles from each of the 8 byte offsets: a record's numbers
    start at any even offset, and each is read from the view its offset falls in."""
    return [
        np.frombuffer(view, dtype="<f8", count=(len(view) - p) // 8, offset=p) for p in range(8)
    ]


def _same(stored: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """Row by row, whether the stored numbers are the computed ones (NaN for NaN: a point
    that is not a number holds the verdict on its own)."""
    same = (stored == computed) | (np.isnan(stored) & np.isnan(computed))
    return same.all(axis=1) if same.ndim > 1 else same


def _runs(
    phases: list[np.ndarray], at: np.ndarray, counts: np.ndarray, step: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per run of ``counts[i]`` items starting at byte ``at[i]``, ``step`` doubles apart,
    the least and greatest of each of their first ``width`` doubles (rows with a count
    of 0 get NaN)."""
    low = np.full((len(at), width), np.nan)
    high = np.full((len(at), width), np.nan)
    for phase in range(8):
        rows = np.flatnonzero((at % 8 == phase) & (counts > 0))
        if not len(rows):
            continue
        n = counts[rows]
        firsts = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(n[:-1], out=firsts[1:])
        item = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(firsts, n)
        base = np.repeat((at[rows] - phase) // 8, n) + step * item
        for k in range(width):
            values = phases[phase][base + k]
            low[rows, k] = np.minimum.reduceat(values, firsts)
            high[rows, k] = np.maximum.reduceat(values, firsts)
    return low, high


def _layout(
    view: np.ndarray, starts: np.ndarray, length: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each boxed record's points: where they start, how many, and where its Z range
    starts (-1 where it has none); rows whose content is too short for them are
    dropped (the walk of their bytes reports them)."""
    parted = np.isin(kind, list(_PARTED)) & (length >= 44)
    multi = np.isin(kind, list(_MULTIPOINTS)) & (length >= 40)
    points = np.zeros(len(starts), dtype=np.int64)
    parts = np.zeros(len(starts), dtype=np.int64)
    rows = np.flatnonzero(parted)
    parts[rows] = ints_at(view, starts[rows] + 44)
    points[rows] = ints_at(view, starts[rows] + 48)
    rows = np.flatnonzero(multi)
    points[rows] = ints_at(view, starts[rows] + 44)
    first = np.where(parted, starts + 52 + 4 * parts * np.where(kind == 31, 2, 1), starts + 48)
    z_at = np.where(np.isin(kind, list(_Z_TYPES)), first + 16 * points, -1)
    need = first + 16 * points + np.where(z_at >= 0, 16 + 8 * points, 0) - starts - 8
    fits = (parted | multi) & (parts >= 0) & (points >= 0) & (need <= length)
    return first, points, np.where(fits, z_at, -2)


def _m_at(kind: np.ndarray, first: np.ndarray, points: np.ndarray, z_at: np.ndarray,
          end: np.ndarray) -> np.ndarray:  # fmt: skip
    """Where each record's M range starts; -1 where it keeps none (a Z record may leave
    its M values out)."""
    after_z = np.where(z_at >= 0, z_at + 16 + 8 * points, first + 16 * points)
    has_m = np.isin(kind, list(_M_TYPES | _Z_TYPES)) & (after_z + 16 + 8 * points <= end)
    return np.where(has_m, after_z, -1)


def shapefile_ranges(shp: Path, starts: np.ndarray, shx: Path | None) -> ShapefileRanges:
    """Meet the ranges kept in the ``.shp`` (records at ``starts``: walked record headers,
    each where the one before ends) and in the ``.shx`` header with the points."""
    found = ShapefileRanges()
    view = np.memmap(shp, dtype=np.uint8, mode="r") if shp.stat().st_size else np.zeros(0, np.uint8)
    if len(view) < 100:
        return found
    phases = _phases(view)
    starts = starts.astype(np.int64)
    union = _Union()
    for chunk in _chunks(view, starts):
        found.records += _meet_records(view, phases, chunk, union)
    header = np.frombuffer(bytes(view[36:100]), dtype="<f8")
    starts_empty = _no_point(view, int(starts[0])) if len(starts) else True
    found.header = not _same(header, union.header(starts_empty)).all()
    if shx is not None:
        with shx.open("rb") as f:
            found.index_header = f.read(100)[36:100] != bytes(view[36:100])
    return found


def _chunks(view: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """``starts`` cut into runs of records of at most about ``_POINTS_PER_PASS`` points,
    told from their lengths (a point is at least 16 bytes)."""
    if not len(starts):
        return []
    ends = np.append(starts[1:], len(view))
    weight = np.cumsum((ends - starts) // 16)
    cuts = np.searchsorted(weight, np.arange(_POINTS_PER_PASS, int(weight[-1]), _POINTS_PER_PASS))
    return np.split(starts, distinct(cuts[cuts > 0]))


def _meet_records(
    view: np.ndarray, phases: list[np.ndarray], starts: np.ndarray, union: _Union
) -> int:
    """How many of the records at ``starts`` keep ranges that are not their points';
    their points' ranges are added to ``union``."""
    length = 2 * ints_at(view, starts + 4, ">i4")
    end = starts + 8 + length
    kind = record_kinds(view, starts, length)
    single = np.flatnonzero(np.isin(kind, [1, 11, 21]) & (length >= 20))
    if len(single):  # a point's box is the point
        xy = _doubles(phases, starts[single] + 12, 2)
        union.add(0, xy[:, 0], xy[:, 0])
        union.add(1, xy[:, 1], xy[:, 1])
        # PointZ: x, y, z and an optional m; PointM: x, y, m (offsets in the content).
        for axis, offset, kinds in ((2, 20, [11]), (3, 20, [21]), (3, 28, [11])):
            rows = single[np.isin(kind[single], kinds) & (length[single] >= offset + 8)]
            value = _doubles(phases, starts[rows] + 8 + offset, 1)[:, 0]
            union.add(axis, value, value)
    first, points, z_at = _layout(view, starts, length, kind)
    boxed = np.flatnonzero(z_at > -2)
    if not len(boxed):
        return 0
    first, points, z_at = first[boxed], points[boxed], z_at[boxed]
    at = starts[boxed]
    stored = _doubles(phases, at + 12, 4)
    low, high = _runs(phases, first, points, 2, 2)
    computed = np.column_stack([low, high])
    empty = points == 0
    wrong = ~_same(stored, computed)
    wrong[empty] = ~_empty_box(stored[empty])
    union.add(0, low[~empty, 0], high[~empty, 0])
    union.add(1, low[~empty, 1], high[~empty, 1])
    m_at = _m_at(kind[boxed], first, points, z_at, end[boxed])
    for axis, range_at in ((2, z_at), (3, m_at)):
        rows = np.flatnonzero(range_at >= 0)
        kept = _doubles(phases, range_at[rows], 2)
        lo, hi = _runs(phases, range_at[rows] + 16, points[rows], 1, 1)
        spans = np.column_stack([lo[:, 0], hi[:, 0]])
        off = ~_same(kept, spans)
        gone = points[rows] == 0
        off[gone] = ~_empty_box(kept[gone])
        wrong[rows] |= off
        union.add(axis, lo[~gone, 0], hi[~gone, 0])
    return int(wrong.sum())


def _doubles(phases: list[np.ndarray], at: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` doubles that start at each byte offset of ``at``."""
    out = np.empty((len(at), width))
    for phase in range(8):
        rows = np.flatnonzero(at % 8 == phase)
        if not len(rows):
            continue
        base = (at[rows] - phase) // 8
        out[rows] = phases[phase][base[:, None] + np.arange(width)]
    return out


def _empty_box(stored: np.ndarray) -> np.ndarray:
    """Row by row, whether a record with no point keeps a range that holds no number:
    zeros (as GDAL writes them), or plain NaNs and infinities."""
    if not len(stored):
        return np.zeros(0, dtype=bool)
    return ~stored.view(np.uint64).any(axis=1) | holds_no_number(stored)


def _no_point(view: np.ndarray, start: int) -> bool:
    """Whether the record at ``start`` has no point: a null shape, or no point counted."""
    if start + 12 > len(view):
        return True
    kind = int(ints_at(view, np.array([start + 8]))[0])
    if kind == 0:
        return True
    at = start + 48 if kind in _PARTED else start + 44 if kind in _MULTIPOINTS else -1
    return at >= 0 and at + 4 <= len(view) and int(ints_at(view, np.array([at]))[0]) == 0


def record_boxes(shp: Path, starts: np.ndarray) -> np.ndarray:
    """The box each record at ``starts`` keeps, as shapelib reads it: a point's is the
    point, a null shape's (or one too short for a box) zeros."""
    out = np.zeros((len(starts), 4))
    if not len(starts):
        return out
    view = np.memmap(shp, dtype=np.uint8, mode="r")
    phases = _phases(view)
    starts = starts.astype(np.int64)
    length = 2 * ints_at(view, starts + 4, ">i4")
    kind = record_kinds(view, starts, length)
    single = np.flatnonzero(np.isin(kind, [1, 11, 21]) & (length >= 20))
    out[single] = _doubles(phases, starts[single] + 12, 2)[:, [0, 1, 0, 1]]
    boxed = np.flatnonzero(np.isin(kind, list(_PARTED | _MULTIPOINTS)) & (length >= 36))
    out[boxed] = _doubles(phases, starts[boxed] + 12, 4)
    return out
