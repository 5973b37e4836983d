"""The parts of an SQLite file that hold no live row: free pages and the unallocated space
of b-tree pages, read from the file format itself (https://sqlite.org/fileformat.html).

A row deleted without ``VACUUM`` is not erased: its cell stays in its page as a freeblock
(only its first four bytes are overwritten), and a page emptied of rows goes on the
freelist whole. Both leave with the file. SQLite's ``secure_delete`` zeroes them, but
most builds leave it off.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["SQLITE_MAGIC", "Region", "unallocated_regions", "is_sqlite"]

SQLITE_MAGIC = b"SQLite format 3\x00"
_BTREE_TYPES = {2: 12, 5: 12, 10: 8, 13: 8}  # page type -> header size
_MAX_TRUNKS = 1 << 20  # a cycle in a damaged freelist must not loop for ever
_RUN_BYTES = 4 << 20  # pages read at a time


@dataclass(frozen=True)
class Region:
    """A stretch of the file no live row uses."""

    data: bytes
    # A leaf page of the freelist, whole (else a trunk page past its pointers, which keeps
    # stale pointers of its own, or free space inside a b-tree page).
    free_page: bool


@dataclass(frozen=True)
class _Layout:
    page_size: int
    usable: int  # page size less the reserved bytes at each page's end
    pages: int


def _layout(head: bytes, size: int) -> _Layout | None:
    if len(head) < 100 or head[:16] != SQLITE_MAGIC:
        return None
    raw = struct.unpack_from(">H", head, 16)[0]
    page_size = 65536 if raw == 1 else raw
    if page_size < 512 or page_size & (page_size - 1):
        return None
    usable = page_size - head[20]
    # The file's length, not the header's page count: a header that claims fewer pages
    # must not hide the pages after them.
    return _Layout(page_size, usable, size // page_size)


def _freelist(f: BinaryIO, layout: _Layout) -> tuple[set[int], dict[int, int]]:
    """Free leaf pages, and free trunk pages with where their stale content starts."""
    leaves: set[int] = set()
    trunks: dict[int, int] = {}
    f.seek(32)
    trunk = struct.unpack(">I", f.read(4))[0]
    while 0 < trunk <= layout.pages and trunk not in trunks and len(trunks) < _MAX_TRUNKS:
        f.seek((trunk - 1) * layout.page_size)
        page = f.read(layout.page_size)
        following, count = struct.unpack_from(">II", page, 0)
        count = min(count, (layout.usable - 8) // 4)
        trunks[trunk] = 8 + 4 * count
        for (leaf,) in struct.iter_unpack(">I", page[8 : 8 + 4 * count]):
            if 0 < leaf <= layout.pages:
                leaves.add(leaf)
        trunk = following
    return leaves, trunks


def _page_gaps(page: bytes, first: bool, usable: int) -> Iterator[tuple[int, int]]:
    """(start, end) offsets in a b-tree page of its unallocated space and freeblocks; none
    when the page does not read as a b-tree page (an overflow page holds live data)."""
    head = 100 if first else 0
    kind = page[head]
    if kind not in _BTREE_TYPES:
        return
    first_free, cells, content = struct.unpack_from(">HHH", page, head + 1)
    content = content or 65536
    array_end = head + _BTREE_TYPES[kind] + 2 * cells
    if not array_end <= content <= usable:
        return  # not a b-tree header after all
    if content > array_end:
        yield array_end, content
    seen: set[int] = set()
    offset = first_free
    while offset and offset not in seen and array_end <= offset <= usable - 4:
        seen.add(offset)
        following, size = struct.unpack_from(">HH", page, offset)
        end = min(offset + size, usable)
        if end > offset + 4:
            yield offset + 4, end
        offset = following


@dataclass(frozen=True)
class _Headers:
    """The b-tree headers of a run of pages (none of them the first), read together."""

    gap_start: np.ndarray  # offset in the run of each page's unallocated space
    gap_end: np.ndarray  # equal to gap_start where there is none, or no b-tree header
    freeblocks: np.ndarray  # page indexes in the run with a freeblock chain to follow


def _headers(run: np.ndarray, page_size: int, usable: int) -> _Headers:
    base = np.arange(run.size // page_size) * page_size
    kind = run[base]
    words = run[base[:, None] + np.arange(1, 7)].astype(np.int64)
    first_free = words[:, 0] << 8 | words[:, 1]
    cells = words[:, 2] << 8 | words[:, 3]
    content = words[:, 4] << 8 | words[:, 5]
    content[content == 0] = 65536
    header = np.select([np.isin(kind, (2, 5)), np.isin(kind, (10, 13))], [12, 8], 0)
    array_end = header + 2 * cells
    btree = (header > 0) & (array_end <= content) & (content <= usable)
    gap = btree & (content > array_end)
    return _Headers(
        np.where(gap, base + array_end, base),
        np.where(gap, base + content, base),
        np.flatnonzero(btree & (first_free != 0)),
    )


def _run_regions(run: bytes, first_page: int, layout: _Layout, free: _Freelist) -> Iterator[Region]:
    """The regions of a run of whole pages (read together), page after page."""
    size, usable = layout.page_size, layout.usable
    pages = len(run) // size
    heads = _headers(np.frombuffer(run, dtype=np.uint8, count=pages * size), size, usable)
    chained = set(heads.freeblocks.tolist())
    with_gap = np.flatnonzero(heads.gap_end > heads.gap_start).tolist()
    starts, ends = heads.gap_start.tolist(), heads.gap_end.tolist()
    for k in sorted(chained.union(with_gap, free.pages_in(first_page, pages))):
        number, base = first_page + k, k * size
        if number in free.leaves:
            yield Region(run[base : base + usable], True)
        elif number in free.trunks:
            yield Region(run[base + free.trunks[number] : base + usable], False)
        elif k in chained:  # the chain is followed page by page; gaps come with it
            yield from _gap_regions(run[base : base + size], number == 1, usable)
        # Most free space holds no blob: look before copying it out.
        elif _may_hold_blob(run, starts[k], ends[k]):
            yield Region(run[starts[k] : ends[k]], False)


def _gap_regions(page: bytes, first: bool, usable: int) -> Iterator[Region]:
    for start, end in _page_gaps(page, first, usable):
        if _may_hold_blob(page, start, end):
            yield Region(page[start:end], False)


def _may_hold_blob(data: bytes, start: int, end: int) -> bool:
    """Whether ``data[start:end]`` holds a GeoPackage blob's ``GP`` or the 0x7C that ends a
    SpatiaLite blob's MBR."""
    return data.find(b"GP", start, end) >= 0 or data.find(b"\x7c", start, end) >= 0


class _Freelist:
    def __init__(self, leaves: set[int], trunks: dict[int, int]) -> None:
        self.leaves, self.trunks = leaves, trunks
        self._numbers = np.array(sorted({*leaves, *trunks}), dtype=np.int64)

    def pages_in(self, first_page: int, count: int) -> set[int]:
        """Indexes in a run of the free pages it holds."""
        low, high = np.searchsorted(self._numbers, [first_page, first_page + count])
        return set((self._numbers[low:high] - first_page).tolist())


def unallocated_regions(path: Path) -> Iterator[Region]:
    """Every stretch of ``path`` that an SQLite reader does not see as a live row: free
    pages past their freelist pointers, and each b-tree page's gap and freeblocks that
    may hold a geometry blob (``GP``, or SpatiaLite's 0x7C). Nothing for a file that is
    not SQLite.

    The file is read a run of pages at a time (never mapped: a mapped file would count in
    the checker's memory, and a large GeoPackage is mostly live rows)."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        layout = _layout(f.read(100), size)
        if layout is None:
            return
        free = _Freelist(*_freelist(f, layout))
        per_run = max(1, _RUN_BYTES // layout.page_size)
        f.seek(0)
        first_page = 1
        while first_page <= layout.pages:
            count = min(per_run, layout.pages - first_page + 1)
            run = f.read(count * layout.page_size)
            if first_page == 1:  # its header sits after the file header
                yield from _first_page(run[: layout.page_size], layout, free)
                run, first_page, count = run[layout.page_size :], 2, count - 1
            if count:
                yield from _run_regions(run, first_page, layout, free)
            first_page += count


def _first_page(page: bytes, layout: _Layout, free: _Freelist) -> Iterator[Region]:
    # Page 1 is the schema's root; a freelist that names it is read as it says all the same.
    if 1 in free.leaves:
        yield Region(page[: layout.usable], True)
    elif 1 in free.trunks:
        yield Region(page[free.trunks[1] : layout.usable], False)
    else:
        yield from _gap_regions(page, True, layout.usable)


def is_sqlite(path: Path) -> bool:
    """Whether the file starts as every SQLite database does."""
    with path.open("rb") as f:
        return f.read(16) == SQLITE_MAGIC
