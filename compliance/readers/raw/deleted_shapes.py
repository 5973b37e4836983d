"""Shapes of records deleted from a shapefile's ``.dbf`` that its ``.shp`` still holds.

A dBase record is deleted by setting its first byte to ``*``; readers then skip the
record and its shape, but both stay in the files until they are packed. The formats are
read directly: the ``.dbf`` header and deletion flags, the ``.shx`` offsets, and the
``.shp`` records they point to (ESRI Shapefile Technical Description, 1998).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import shapely

__all__ = ["deleted_records", "deleted_shapes", "shape_record", "shapefile_parts"]

_NULL = 0
_POINTS = {1, 11, 21}
_MULTIPOINTS = {8, 18, 28}
_LINES = {3, 13, 23}
_POLYGONS = {5, 15, 25, 31}  # a multipatch's parts are filled like rings
_MAX_POINTS = 1 << 26


def shapefile_parts(base: Path) -> tuple[Path, Path, Path] | None:
    """The ``.shp``, ``.shx`` and ``.dbf`` of the shapefile ``base`` (its path without a
    suffix), in either letter case, or None when one is missing."""
    parts = []
    for suffix in (".shp", ".shx", ".dbf"):
        candidates = (base.with_name(base.name + s) for s in (suffix, suffix.upper()))
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            return None
        parts.append(found)
    return parts[0], parts[1], parts[2]


def deleted_records(dbf: Path) -> list[int]:
    """The 0-based numbers of the records a ``.dbf`` marks deleted."""
    with dbf.open("rb") as f:
        head = f.read(32)
        if len(head) < 32:
            return []
        count, header_size, record_size = struct.unpack_from("<IHH", head, 4)
        if record_size == 0:
            return []
        deleted = []
        f.seek(header_size)
        step = max(1, (1 << 20) // record_size)  # a megabyte of records at a time
        for first in range(0, count, step):
            chunk = f.read(step * record_size)
            flags = np.frombuffer(chunk, dtype=np.uint8)[::record_size]
            deleted += [first + int(i) for i in np.flatnonzero(flags == ord("*"))]
            if len(chunk) < step * record_size:
                break
    return [i for i in deleted if i < count]


def shape_record(content: bytes) -> shapely.Geometry | None:
    """A shape record's content as a geometry in its XY plane; rings filled as polygons,
    holes too (a hole lies inside its shell: only more ground can be met)."""
    if len(content) < 4:
        return None
    kind = struct.unpack_from("<i", content, 0)[0]
    if kind == _NULL:
        return shapely.GeometryCollection()  # deleted, but there was no shape to keep
    if kind in _POINTS:
        return shapely.Point(*struct.unpack_from("<2d", content, 4)) if len(content) >= 20 else None
    if len(content) < 44:
        return None
    if kind in _MULTIPOINTS:
        n = struct.unpack_from("<i", content, 36)[0]
        xy = _xy(content, 40, n)
        return shapely.multipoints(xy) if xy is not None and len(xy) else None
    if kind not in _LINES | _POLYGONS:
        return None
    n_parts, n_points = struct.unpack_from("<2i", content, 36)
    if not 0 < n_parts <= n_points <= _MAX_POINTS:
        return None
    starts = np.frombuffer(content, dtype="<i4", count=n_parts, offset=44)
    xy = _xy(content, 44 + 4 * n_parts + (4 * n_parts if kind == 31 else 0), n_points)
    if xy is None or starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= n_points:
        return None
    pieces = np.split(xy, starts[1:])
    if kind in _LINES:
        lines = [p for p in pieces if len(p) >= 2]
        # Parts of any lengths (shapely.multilinestrings wants equal ones).
        return shapely.MultiLineString([shapely.LineString(p) for p in lines]) if lines else None
    rings = [shapely.Polygon(p) for p in pieces if len(p) >= 3]
    return shapely.multipolygons(rings) if rings else None


def _xy(content: bytes, offset: int, n: int) -> np.ndarray | None:
    if n < 0 or n > _MAX_POINTS or offset + 16 * n > len(content):
        return None
    return np.frombuffer(content, dtype="<f8", count=2 * n, offset=offset).reshape(n, 2)


def deleted_shapes(shp: Path, shx: Path, records: list[int]) -> np.ndarray:
    """The shapes of ``records`` (0-based) found through the ``.shx``: None where a record
    holds a shape that cannot be rebuilt, an empty geometry where it holds none."""
    out = np.empty(len(records), dtype=object)
    with shx.open("rb") as index, shp.open("rb") as shapes:
        shp_size = shapes.seek(0, 2)
        for i, record in enumerate(records):
            index.seek(100 + 8 * record)
            entry = index.read(8)
            if len(entry) < 8:
                continue
            offset, length = struct.unpack(">2i", entry)
            start = 2 * offset + 8  # past the record header
            if offset < 50 or length <= 0 or start + 2 * length > shp_size:
                continue
            shapes.seek(start)
            try:
                out[i] = shape_record(shapes.read(2 * length))
            except (ValueError, shapely.errors.GEOSException):
                out[i] = None  # a damaged record: there, but not rebuilt
    return out
