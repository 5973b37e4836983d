"""GeoPackage geometry blobs found in raw bytes: the ``GP`` header, its envelope, and the
WKB after it, walked to its exact end so that stray bytes are not taken for a geometry.

A blob's header (GeoPackage 1.x, clause 2.1.3): ``GP``, version 0, a flags byte (byte
order, envelope kind 0-4, empty, extended type), the SRS id, the envelope, then WKB.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["PREFIX", "Blob", "find_blobs", "wkb_end"]

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_MAX_PARTS = 1 << 24
_MAX_DEPTH = 32
# A blob cut short is told apart from the live ones by this many first bytes: header,
# envelope and the start of its WKB.
PREFIX = 64


@dataclass(frozen=True)
class Blob:
    """One geometry blob read out of free space."""

    srs_id: int
    envelope: tuple[float, float, float, float] | None  # minx, miny, maxx, maxy
    wkb: bytes | None  # None when it runs past the bytes at hand (its rest is elsewhere)
    key: bytes  # the blob's bytes (its first PREFIX when cut short): copies of one are one


def _dims(kind: int) -> tuple[int, int]:
    """(base type, coordinates per point) of an ISO or EWKB geometry type code."""
    flags = kind & 0xF0000000
    kind &= 0x0FFFFFFF
    dims = 2 + (kind // 1000 in (1, 2)) + 2 * (kind // 1000 == 3)
    dims += bool(flags & 0x80000000) + bool(flags & 0x40000000)
    return kind % 1000, dims


def wkb_end(data: bytes, start: int, depth: int = 0) -> int | None:
    """Where the WKB geometry at ``start`` ends, or None when it is not well-formed WKB
    or runs past ``data``."""
    if depth > _MAX_DEPTH or start + 5 > len(data) or data[start] not in (0, 1):
        return None
    order = "<" if data[start] else ">"
    kind_code = struct.unpack_from(order + "I", data, start + 1)[0]
    base, dims = _dims(kind_code)
    at = start + 5 + (4 if kind_code & 0x20000000 else 0)  # EWKB SRID
    point = 8 * dims
    if base == 1:
        return at + point if at + point <= len(data) else None
    if at + 4 > len(data):
        return None
    count = struct.unpack_from(order + "I", data, at)[0]
    at += 4
    if count > _MAX_PARTS:
        return None
    if base in (2, 8):  # line string, circular string
        end = at + count * point
        return end if end <= len(data) else None
    if base in (3, 17):  # polygon, triangle: rings of points
        for _ in range(count):
            if at + 4 > len(data):
                return None
            at += 4 + struct.unpack_from(order + "I", data, at)[0] * point
            if at > len(data):
                return None
        return at
    if base in (4, 5, 6, 7, 9, 10, 11, 12, 15, 16):  # collections of whole WKB geometries
        for _ in range(count):
            nested = wkb_end(data, at, depth + 1)
            if nested is None:
                return None
            at = nested
        return at
    return None


def _blob_at(data: bytes, at: int) -> Blob | None:
    if at + 8 > len(data) or data[at + 2] != 0:
        return None
    flags = data[at + 3]
    envelope_kind = (flags >> 1) & 0x07
    if flags & 0xC0 or envelope_kind not in _ENVELOPE_DOUBLES or flags & 0x10:
        return None  # reserved bits set, no such envelope, or an empty geometry
    order = "<" if flags & 0x01 else ">"
    srs_id = struct.unpack_from(order + "i", data, at + 4)[0]
    doubles = _ENVELOPE_DOUBLES[envelope_kind]
    start = at + 8 + 8 * doubles
    envelope = None
    if doubles:
        if start > len(data):
            return None
        values = struct.unpack_from(order + f"{doubles}d", data, at + 8)
        envelope = (values[0], values[2], values[1], values[3])  # stored minx, maxx, miny, maxy
        if not (envelope[0] <= envelope[2] and envelope[1] <= envelope[3]):
            return None  # NaN or reversed: not an envelope
    if flags & 0x20:  # an extended geometry type: its body is not WKB that can be walked
        return Blob(srs_id, envelope, None, data[at:start]) if envelope else None
    end = wkb_end(data, start)
    if end is None:
        if start + 5 > len(data) or envelope is None or data[start] not in (0, 1):
            return None
        # Runs past the bytes at hand (the rest of a large blob is in overflow pages):
        # the envelope still places it.
        return Blob(srs_id, envelope, None, data[at : at + PREFIX])
    return Blob(srs_id, envelope, data[start:end], data[at:end])


def find_blobs(data: bytes) -> Iterator[Blob]:
    """Every GeoPackage geometry blob in ``data`` whose header and WKB are well formed."""
    at = data.find(b"GP")
    while at >= 0:
        blob = _blob_at(data, at)
        if blob is not None:
            yield blob
        at = data.find(b"GP", at + 1)
