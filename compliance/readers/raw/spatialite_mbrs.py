"""The MBRs in the headers of a SpatiaLite layer's geometry blobs.

A SpatiaLite geometry blob: 0x00, the byte order (1 little-endian, 0 big-endian), the
SRID (4 bytes), the MBR as four doubles (minx, miny, maxx, maxy), 0x7C, then the
geometry's class and coordinates, and 0xFE at the end. SpatiaLite and GDAL write the MBR
as the coordinates' own minimum and maximum; readers take the geometry from the
coordinates and use the MBR at most to find features, so what it holds beyond their box
is not shown (``measure/leaks/gpkg_boxes.py`` meets it with the box read).

A compressed geometry (class 1000002 to 1003007) keeps the first and last vertex of each
line or ring as doubles and the ones between as 32-bit float steps from the one before:
its MBR is the box of the coordinates before they were stored, which the stored ones miss
by float rounding. Those rows are marked ``rounded``.

Read as a GeoPackage's envelopes are (``gpkg_envelopes.envelope_chunks``, the first bytes
of each blob, a chunk of rows per statement), as envelopes of kind 1 (x and y); a blob
without this header (a TinyPoint, WKB) has none.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator

import numpy as np

from compliance.readers.raw.gpkg_blobs import Blob
from compliance.readers.raw.gpkg_envelopes import Envelopes

__all__ = ["HEADER", "find_spatialite_blobs", "spatialite_envelopes"]

HEADER = 43  # 0x00, byte order, SRID, MBR, 0x7C and the class: what a blob is known by
# Classes: the base type (1-7), plus 1000 (Z), 2000 (M), 3000 (ZM); plus 1,000,000 for a
# compressed one (lines and polygons only).
_DIMENSIONS = {0, 1, 2, 3}
_COMPRESSED = {1000, 1001, 1002, 1003}

_MBR_END = 38  # where the 0x7C after the MBR is
_KIND_XY = 1


def _class(heads: np.ndarray, at: int, little: np.ndarray) -> np.ndarray:
    """The 4-byte class code at byte ``at`` of each head, in each row's byte order."""
    code = np.ascontiguousarray(heads[:, at : at + 4])
    return np.where(little, code.view("<i4")[:, 0], code.view(">i4")[:, 0])


def spatialite_envelopes(rowids: np.ndarray, heads: np.ndarray) -> Envelopes:
    """The rows' MBRs from the first bytes of their blobs (``heads``: one row of at
    least 39 bytes each, zero-padded)."""
    blob = (heads[:, 0] == 0x00) & (heads[:, 1] <= 1) & (heads[:, _MBR_END] == 0x7C)
    little = heads[:, 1] == 1
    values = np.ascontiguousarray(heads[:, 6:_MBR_END])
    boxes = np.where(
        little[:, None],
        values.view("<f8").reshape(-1, 4),
        values.view(">f8").reshape(-1, 4).astype("<f8"),
    )
    boxes[~blob] = np.nan
    kind = np.where(blob, _KIND_XY, 0)
    kind_of = _class(heads, _MBR_END + 1, little)
    # A collection's members follow its count, each led by 0x69: the first one's class
    # says whether they were stored compressed (GDAL and SpatiaLite compress all or none).
    member = _class(heads, _MBR_END + 10, little)
    collection = (kind_of % 1000 >= 4) & (kind_of % 1000 <= 7) & (kind_of < 4000)
    rounded = blob & ((kind_of // 1_000_000 == 1) | (collection & (member // 1_000_000 == 1)))
    return Envelopes(rowids, blob, kind, boxes, np.full((len(rowids), 4), np.nan), rounded)


def find_spatialite_blobs(data: bytes) -> Iterator[Blob]:
    """Every SpatiaLite geometry blob header in ``data`` (freed bytes of a database): its
    SRID and MBR, the MBR standing in for the shape (its coordinates are not rebuilt);
    known by its first ``HEADER`` bytes."""
    at = data.find(b"\x7c", _MBR_END)
    while at >= 0:
        start = at - _MBR_END
        if data[start] == 0x00 and data[start + 1] in (0, 1) and at + 5 <= len(data):
            blob = _header_at(data, start)
            if blob is not None:
                yield blob
        at = data.find(b"\x7c", at + 1)


def _header_at(data: bytes, start: int) -> Blob | None:
    order = "<" if data[start + 1] == 1 else ">"
    srid, minx, miny, maxx, maxy = struct.unpack_from(order + "i4d", data, start + 2)
    kind = struct.unpack_from(order + "i", data, start + _MBR_END + 1)[0]
    base, group = kind % 1000, kind // 1000
    if not 1 <= base <= 7 or not (group in _DIMENSIONS or (group in _COMPRESSED and base > 1)):
        return None
    box = (minx, miny, maxx, maxy)
    if not all(map(math.isfinite, box)) or minx > maxx or miny > maxy:
        return None
    return Blob(srid, box, None, data[start : start + HEADER])
