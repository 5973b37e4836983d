"""The parts of an SQLite file that hold no live row: free pages and the unallocated space
of b-tree pages, read from the file format itself (https://sqlite.org/fileformat.html).

A row deleted without ``VACUUM`` is not erased: its cell stays in its page as a freeblock
(only its first four bytes are overwritten), and a page emptied of rows goes on the
freelist whole. Both leave with the file. SQLite's ``secure_delete`` zeroes them, but
most builds leave it off.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SQLITE_MAGIC", "Region", "unallocated_regions", "is_sqlite"]

SQLITE_MAGIC = b"SQLite format 3\x00"
_BTREE_TYPES = {2: 12, 5: 12, 10: 8, 13: 8}  # page type -> header size
_MAX_TRUNKS = 1 << 20  # a cycle in a damaged freelist must not loop for ever


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


def _layout(data: mmap.mmap | bytes) -> _Layout | None:
    if len(data) < 100 or data[:16] != SQLITE_MAGIC:
        return None
    raw = struct.unpack_from(">H", data, 16)[0]
    page_size = 65536 if raw == 1 else raw
    if page_size < 512 or page_size & (page_size - 1):
        return None
    usable = page_size - data[20]
    # The file's length, not the header's page count: a header that claims fewer pages
    # must not hide the pages after them.
    return _Layout(page_size, usable, len(data) // page_size)


def _freelist(data: mmap.mmap | bytes, layout: _Layout) -> tuple[set[int], dict[int, int]]:
    """Free leaf pages, and free trunk pages with where their stale content starts."""
    leaves: set[int] = set()
    trunks: dict[int, int] = {}
    trunk = struct.unpack_from(">I", data, 32)[0]
    while 0 < trunk <= layout.pages and trunk not in trunks and len(trunks) < _MAX_TRUNKS:
        base = (trunk - 1) * layout.page_size
        following, count = struct.unpack_from(">II", data, base)
        count = min(count, (layout.usable - 8) // 4)
        trunks[trunk] = 8 + 4 * count
        for (leaf,) in struct.iter_unpack(">I", data[base + 8 : base + 8 + 4 * count]):
            if 0 < leaf <= layout.pages:
                leaves.add(leaf)
        trunk = following
    return leaves, trunks


def _btree_gaps(data: mmap.mmap | bytes, page: int, layout: _Layout) -> Iterator[tuple[int, int]]:
    """(start, end) file offsets of a b-tree page's unallocated space and freeblocks; none
    when the page does not read as a b-tree page (an overflow page holds live data)."""
    base = (page - 1) * layout.page_size
    head = base + (100 if page == 1 else 0)
    kind = data[head]
    if kind not in _BTREE_TYPES:
        return
    first_free, cells, content = struct.unpack_from(">HHH", data, head + 1)
    content = content or 65536
    array_end = head - base + _BTREE_TYPES[kind] + 2 * cells
    if not array_end <= content <= layout.usable:
        return  # not a b-tree header after all
    if content > array_end:
        yield base + array_end, base + content
    seen: set[int] = set()
    offset = first_free
    while offset and offset not in seen and array_end <= offset <= layout.usable - 4:
        seen.add(offset)
        following, size = struct.unpack_from(">HH", data, base + offset)
        end = min(offset + size, layout.usable)
        if end > offset + 4:
            yield base + offset + 4, base + end
        offset = following


def unallocated_regions(path: Path) -> Iterator[Region]:
    """Every stretch of ``path`` that an SQLite reader does not see as a live row: free
    pages past their freelist pointers, and each b-tree page's gap and freeblocks that
    hold the bytes ``GP``. Nothing for a file that is not SQLite."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        if size < 100:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            layout = _layout(data)
            if layout is None:
                return
            leaves, trunks = _freelist(data, layout)
            for page in range(1, layout.pages + 1):
                base = (page - 1) * layout.page_size
                if page in leaves:
                    yield Region(data[base : base + layout.usable], True)
                elif page in trunks:
                    yield Region(data[base + trunks[page] : base + layout.usable], False)
                else:
                    for start, end in _btree_gaps(data, page, layout):
                        # Most free space holds no blob: look before copying it out.
                        if data.find(b"GP", start, end) >= 0:
                            yield Region(data[start:end], False)


def is_sqlite(path: Path) -> bool:
    """Whether the file starts as every SQLite database does."""
    with path.open("rb") as f:
        return f.read(16) == SQLITE_MAGIC
