"""Tables of a FlatBuffers buffer, read with every offset checked against its end.

Only what FlatGeobuf needs is read: scalars, sub-tables, vectors of numbers and vectors of
tables (FlatBuffers binary format: a table starts with the signed offset back to its
vtable; the vtable lists each field's offset in the table, 0 for a field left at its
default; a vector is a uint32 length and its elements). A file built to mislead may
point anywhere: an offset out of the buffer raises ``ValueError``, never reads elsewhere.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["Table"]


def _unpack(fmt: str, buf: bytes | memoryview, pos: int) -> int:
    size = struct.calcsize(fmt)
    if pos < 0 or pos + size > len(buf):  # a negative offset would read from the end
        raise ValueError(f"an offset points out of the buffer ({pos})")
    value: int = struct.unpack_from(fmt, buf, pos)[0]
    return value


class Table:
    """One table of ``buf`` at ``pos``."""

    def __init__(self, buf: bytes | memoryview, pos: int) -> None:
        self._buf = buf
        self._pos = pos
        self._vtable = pos - _unpack("<i", buf, pos)
        self._vtable_size = _unpack("<H", buf, self._vtable)
        if self._vtable_size < 4 or self._vtable + self._vtable_size > len(buf):
            raise ValueError("a table's vtable is out of the buffer")

    @classmethod
    def root(cls, buf: bytes | memoryview) -> Table:
        """The buffer's root table."""
        return cls(buf, _unpack("<I", buf, 0))

    def _field(self, index: int) -> int | None:
        entry = 4 + 2 * index
        if entry + 2 > self._vtable_size:
            return None  # a field newer than the writer: at its default
        offset = _unpack("<H", self._buf, self._vtable + entry)
        return self._pos + offset if offset else None

    def scalar(self, index: int, fmt: str, default: int) -> int:
        """The scalar field ``index`` (``struct`` format ``fmt``), or its default."""
        at = self._field(index)
        return default if at is None else _unpack(fmt, self._buf, at)

    def _target(self, index: int) -> int | None:
        at = self._field(index)
        return None if at is None else at + _unpack("<I", self._buf, at)

    def table(self, index: int) -> Table | None:
        """The sub-table field ``index``, or None when it is absent."""
        at = self._target(index)
        return None if at is None else Table(self._buf, at)

    def numbers(self, index: int, dtype: str) -> np.ndarray | None:
        """The vector of numbers field ``index`` (a numpy little-endian ``dtype``), or None."""
        at = self._target(index)
        if at is None:
            return None
        count = _unpack("<I", self._buf, at)
        itemsize = np.dtype(dtype).itemsize
        if at + 4 + count * itemsize > len(self._buf):
            raise ValueError("a vector runs past the end of the buffer")
        return np.frombuffer(self._buf, dtype=dtype, count=count, offset=at + 4)

    def tables(self, index: int) -> list[Table]:
        """The vector of tables field ``index`` (empty when it is absent)."""
        at = self._target(index)
        if at is None:
            return []
        count = _unpack("<I", self._buf, at)
        if at + 4 + 4 * count > len(self._buf):
            raise ValueError("a vector runs past the end of the buffer")
        slots = (at + 4 + 4 * i for i in range(count))
        return [Table(self._buf, slot + _unpack("<I", self._buf, slot)) for slot in slots]
