"""Bytes a shapefile holds that no reader reads although every record is: bytes inside a
``.shp`` record past its shape, and ``.dbf`` records past the count in its header.

A ``.shp`` record's header gives its content's length, and its shape says how many of
those bytes it uses (its type, and for lines, polygons and multipoints its parts and
points). GDAL reads the shape and skips the rest: a record may carry any bytes after its
shape (a finer copy of it, say) and still read as the shape alone. The lengths are read
for every record at once from a memory map. The only bytes allowed past a shape are a Z
type's optional M values. A ``.dbf`` is read up to its header's record count; whole
records past it leave with the file unread. ESRI Shapefile Technical Description, 1998;
dBASE III file structure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compliance.readers.raw.shp_records import dbf_record_counts

__all__ = ["dbf_records_past_count", "ints_at", "record_kinds", "shape_slack"]

# Shape types by how their content is laid out.
_POINTS = {1: 20, 21: 28, 11: 28}  # content length without M (PointZ may add 8 for M)
_MULTIPOINTS = {8, 18, 28}
_PARTED = {3, 5, 13, 15, 23, 25, 31}
_Z_TYPES = {11, 13, 15, 18, 31}  # their M values are optional
_M_TYPES = {21, 23, 25, 28}


def shape_slack(shp: Path, starts: np.ndarray) -> tuple[int, int]:
    """How many of the records at ``starts`` (walked record headers, each where the one
    before ends) hold bytes past their shape, and how many such bytes in all."""
    if not len(starts):
        return 0, 0
    view = np.memmap(shp, dtype=np.uint8, mode="r")
    starts = starts.astype(np.int64)
    # The walk chains the records: each one's length is the gap to the next.
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    last = int(starts[-1])
    ends[-1] = last + 8 + 2 * int.from_bytes(bytes(view[last + 4 : last + 8]), "big", signed=True)
    length = ends - starts - 8
    kind = record_kinds(view, starts, length)
    parted = np.isin(kind, list(_PARTED))
    multi = np.isin(kind, list(_MULTIPOINTS))
    # Counts are read only where a type has them, and only where the content holds them.
    parts = np.zeros(len(starts), dtype=np.int64)
    points = np.zeros(len(starts), dtype=np.int64)
    rows = np.flatnonzero(parted & (length >= 44))
    parts[rows] = ints_at(view, starts[rows] + 44, "<i4")
    points[rows] = ints_at(view, starts[rows] + 48, "<i4")
    rows = np.flatnonzero(multi & (length >= 40))
    points[rows] = ints_at(view, starts[rows] + 44, "<i4")
    del view
    need = np.full(len(starts), -1, dtype=np.int64)  # -1: a type no reader knows
    need[kind == 0] = 4
    for code, base in _POINTS.items():
        need[kind == code] = base
    need[parted] = 44 + 4 * parts[parted] + 16 * points[parted]
    need[kind == 31] += 4 * parts[kind == 31]  # a multipatch's part types
    need[multi] = 40 + 16 * points[multi]
    vertices = np.where(parted | multi, points, 1)
    extra = 16 * ~np.isin(kind, [0, 1, 11, 21]) + 8 * vertices  # a Z or M block
    need += np.where(np.isin(kind, list(_Z_TYPES - {11})), extra, 0)
    need += np.where(np.isin(kind, list(_M_TYPES)) & (kind != 21), extra, 0)
    slack = length - need
    optional_m = np.isin(kind, list(_Z_TYPES)) & (slack == extra)
    hidden = (need >= 0) & (slack > 0) & ~optional_m
    return int(hidden.sum()), int(slack[hidden].sum())


def record_kinds(view: np.ndarray, starts: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Each record's shape type; records of one size, end to end (a layer of points),
    are read as the rows of one strided view rather than gathered one by one."""
    stride = int(starts[1] - starts[0]) if len(starts) > 1 else 0
    if len(starts) > 1 and (np.diff(starts) == stride).all() and length[-1] + 8 == stride:
        first = int(starts[0])
        rows = view[first : first + stride * len(starts)].reshape(len(starts), stride)
        kinds = np.ascontiguousarray(rows[:, 8:12]).view("<i4").reshape(-1)
        return kinds.astype(np.int64)
    at = starts + 8
    kinds = np.zeros(len(starts), dtype=np.int64)
    held = length >= 4
    kinds[held] = ints_at(view, at[held], "<i4")
    kinds[~held] = -1  # no room for a type: nothing a reader knows
    return kinds


def ints_at(view: np.ndarray, at: np.ndarray, dtype: str = "<i4") -> np.ndarray:
    """The 4-byte integers at byte offsets ``at`` (each inside the file: the walk checked
    every record's length against it)."""
    raw = np.ascontiguousarray(view[at[:, None] + np.arange(4)])
    return raw.view(dtype).reshape(-1).astype(np.int64)


def dbf_records_past_count(dbf: Path) -> int:
    """Whole records a ``.dbf`` holds past the count in its header."""
    count, whole = dbf_record_counts(dbf)
    return max(0, whole - count)
