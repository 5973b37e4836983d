"""A walk of a file's records that follows each record's length to the next one.

Shapefiles and FlatGeobuf files store their records end to end, each led by its length:
the walk from the first record to the end of the file finds every record, whatever the
file's index says. It is bounded and streaming: a length is never trusted past the end of
the file (it stops the walk, which says where and why), and only the length fields are
read, from a memory map, so a file of large records is read a page per record at most.
A well-formed file's own index predicts where every record starts (the ``hint``): that
chain is checked all at once, and the walk goes on record by record only from where the
chain breaks, so the cost of a million records is that of a few array operations.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RecordLayout", "RecordWalk", "walk_records"]


@dataclass(frozen=True)
class RecordLayout:
    """Where a record's length is and what it counts: the record runs from its start to
    ``start + lead + unit * length``, the length being a 4-byte integer (numpy ``dtype``:
    ``">i4"``, ``"<u4"``) at ``start + field``; lengths under ``least`` are damaged."""

    dtype: str
    field: int
    lead: int
    unit: int
    least: int

    @property
    def fmt(self) -> str:
        """The length's ``struct`` format."""
        return self.dtype[0] + ("i" if self.dtype[1] == "i" else "I")


@dataclass
class RecordWalk:
    """Where each record starts, in file order, and why the walk stopped short of the end
    of the file (None when it reached it exactly)."""

    starts: np.ndarray
    damaged: str | None = None


def _chained(
    view: np.ndarray, hint: np.ndarray, first: int, layout: RecordLayout
) -> tuple[np.ndarray, int]:
    """The longest run of ``hint`` that is the walk itself (the first record at
    ``first``, each next one where the one before ends), and where that run ends."""
    size = len(view)
    width = 4
    hint = hint[(hint >= first) & (hint + layout.field + width <= size)]
    if not len(hint) or hint[0] != first:
        return hint[:0], first
    at = hint[:, None] + (layout.field + np.arange(width))
    lengths = np.ascontiguousarray(view[at]).view(layout.dtype).reshape(-1).astype(np.int64)
    ends = hint + layout.lead + layout.unit * lengths
    good = (lengths >= layout.least) & (ends <= size)
    good[:-1] &= ends[:-1] == hint[1:]
    run = len(hint) if good.all() else int(np.argmin(good))
    return hint[:run], (int(ends[run - 1]) if run else first)


def _follow(data: mmap.mmap, at: int, layout: RecordLayout, starts: list[int]) -> str | None:
    """Walk record by record from ``at``, adding each start to ``starts``; why the walk
    stopped short of the end of the file (None when it reached it exactly)."""
    size = len(data)
    length_of = struct.Struct(layout.fmt).unpack_from
    field, lead, unit, least = layout.field, layout.lead, layout.unit, layout.least
    append = starts.append
    last = size - max(lead, field + 4)  # the last byte a record's header may start at
    while at <= last:  # the hot loop of a file without an index: kept to the bone
        length = length_of(data, at + field)[0]
        end = at + lead + unit * length
        if end > size or length < least:
            return f"the record at byte {at} gives a length ({length}) the file cannot hold"
        append(at)
        at = end
    return f"{size - at} stray bytes follow its last record" if at < size else None


def walk_records(path: Path, first: int, hint: np.ndarray, layout: RecordLayout) -> RecordWalk:
    """Walk the records of the file at ``path`` from byte ``first`` to its end. ``hint``:
    the byte offsets the file's index gives its records, in file order (may be empty)."""
    size = path.stat().st_size
    if size <= first:
        damaged = None if size == first else "it ends before its first record"
        return RecordWalk(np.zeros(0, dtype=np.int64), damaged)
    # numpy's own map for the chain (it closes with the array), a plain one for the rest.
    view = np.memmap(path, dtype=np.uint8, mode="r")
    chained, at = _chained(view, hint.astype(np.int64), first, layout)
    del view
    rest: list[int] = []
    damaged = None
    if at < size:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            damaged = _follow(data, at, layout, rest)
    return RecordWalk(np.concatenate([chained, np.array(rest, dtype=np.int64)]), damaged)
