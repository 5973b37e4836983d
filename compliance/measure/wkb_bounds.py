"""Bounding boxes straight from WKB bytes, without decoding geometries.

Decoding a million polygons into GEOS objects costs several times the read itself; a box
per feature is enough to clear features far from every zone. GeoArrow's C ``box`` kernel
reads every WKB form in one pass. A batch it refuses (curves, damaged bytes) goes through a
vectorised NumPy reader of the simple forms (points, lines, single-ring polygons and their
one-part multi forms); rows that reader leaves as NaN are decoded the ordinary way by the
caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geoarrow.c
import numpy as np
import pyarrow as pa

from compliance.arrays import distinct, finite_rows

__all__ = [
    "TaggedWkb",
    "null_mask",
    "row_bytes",
    "WkbBoxes",
    "numpy_boxes",
    "wkb_boxes",
    "wkb_kinds",
]

# WKB type -> byte offset of the first coordinate when every count before it is 1.
_FIXED_HEADER = {
    1: 5,  # Point: order(1) type(4)
    2: 9,  # LineString: + npoints(4)
    3: 13,  # Polygon: + nrings(4) + npoints(4)
    5: 18,  # MultiLineString with one line: order type nparts(4) + LineString header(9)
    6: 22,  # MultiPolygon with one polygon: order type nparts(4) + Polygon header(13)
}
# Offsets of the counts that must equal 1 for the fixed layout to hold.
_ONE_COUNTS = {3: (5,), 5: (5,), 6: (5, 14)}
# Offset of the point count (Points have one point and no count).
_NPOINTS_AT = {2: 5, 3: 9, 5: 14, 6: 18}
# Rows of up to this many points, when at least _TABLE_ROWS share a length, are read as a table.
_TABLE_POINTS = 64
_TABLE_ROWS = 32


@dataclass
class WkbBoxes:
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy; NaN where not computed here
    null: np.ndarray  # bool: missing value
    fast: np.ndarray  # bool: bounds computed here
    has_z: bool


def _u32(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian 32-bit word at each byte offset (offsets need not be aligned)."""
    word = data[at].astype(np.uint32)
    word |= data[at + 1].astype(np.uint32) << 8
    word |= data[at + 2].astype(np.uint32) << 16
    word |= data[at + 3].astype(np.uint32) << 24
    return word


def wkb_boxes(column: pa.Array | pa.ChunkedArray, native: Any = None) -> WkbBoxes:
    """Per-row bounding boxes for a binary WKB column.

    A box holds every coordinate of its row, NaN passed over; an empty geometry (or one
    whose only coordinates are NaN) has no finite box. For valid shapes that is GEOS's
    envelope; an invalid polygon whose hole pokes out of its shell gets the larger box,
    which can only add candidates for the exact test. ``native``: the same rows already
    converted to a 2-D GeoArrow type (anything GeoArrow's kernels take), read instead of
    the WKB; its rows then have no Z.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.ExtensionArray):
        column = column.storage
    found = _geoarrow_boxes(column, native)
    return found if found is not None else numpy_boxes(column)


_WKB_FIELD = pa.field(
    "geometry",
    pa.binary(),
    metadata={"ARROW:extension:name": "geoarrow.wkb", "ARROW:extension:metadata": "{}"},
)
_BOX = geoarrow.c.ScalarFunction("box")


class TaggedWkb:
    """A binary column handed to GeoArrow as ``geoarrow.wkb``, without registering
    GeoArrow's extension types in pyarrow (which would change what every reader returns)."""

    def __init__(self, column: pa.Array) -> None:
        self.column = column

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[Any, Any]:
        _, array = self.column.__arrow_c_array__()
        return _WKB_FIELD.with_type(self.column.type).__arrow_c_schema__(), array


def _geoarrow_boxes(column: pa.Array, native: Any = None) -> WkbBoxes | None:
    """Every row's box from GeoArrow's kernel, or None when it refuses the batch."""
    if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
        return None
    try:
        out = pa.array(_BOX(native if native is not None else TaggedWkb(column)))
    except RuntimeError:  # GeoArrowCException: a form it does not read, or damaged bytes
        return None
    null = null_mask(column)
    bounds = np.column_stack(
        [
            np.asarray(out.field(name).to_numpy(zero_copy_only=False), dtype=float)
            for name in ("xmin", "ymin", "xmax", "ymax")
        ]
    )
    bounds[null] = np.nan
    # Converted to a 2-D type, every row was read as 2-D: no type code to look at again.
    has_z = False if native is not None else _has_z(column, null)
    return WkbBoxes(bounds, null, ~null, has_z)


def _layout(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A binary column's row offsets (n + 1, int64) and its bytes, without copying the bytes."""
    buffers = column.buffers()
    large = pa.types.is_large_binary(column.type)
    offsets = np.frombuffer(
        buffers[1],
        dtype=np.int64 if large else np.int32,
        count=len(column) + 1,
        offset=column.offset * (8 if large else 4),
    ).astype(np.int64)
    return offsets, np.frombuffer(buffers[2], dtype=np.uint8)


def null_mask(column: pa.Array) -> np.ndarray:
    """Which rows of a (non-chunked) array are null, from its validity bitmap: pyarrow's
    ``is_null`` loads its compute module, 50 ms that a short check does not otherwise pay."""
    validity = column.buffers()[0]
    if validity is None or column.null_count == 0:
        return np.zeros(len(column), dtype=bool)
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return bits[column.offset : column.offset + len(column)] == 0


def wkb_kinds(column: pa.Array) -> np.ndarray:
    """Each row's geometry type as WKB names it (1 a point .. 7 a collection; ISO's Z and
    M and EWKB's flags taken off); 0 for a null or a row too short to name one."""
    if isinstance(column, pa.ExtensionArray):
        column = column.storage
    offsets, data = _layout(column)
    named = (np.diff(offsets) >= 5) & ~null_mask(column)
    kinds = np.zeros(len(column), dtype=np.int64)
    if named.any():
        head = data[offsets[:-1][named, None] + np.arange(5)].astype(np.int64)
        word = np.where(
            head[:, 0] == 1,  # little-endian
            head[:, 1] | head[:, 2] << 8 | head[:, 3] << 16 | head[:, 4] << 24,
            head[:, 4] | head[:, 3] << 8 | head[:, 2] << 16 | head[:, 1] << 24,
        )
        kinds[named] = (word & 0x0FFFFFFF) % 1000
    return kinds


def row_bytes(column: pa.Array, rows: np.ndarray) -> np.ndarray:
    """The WKB of the given rows of a binary array, as bytes (None for a null row)."""
    offsets, data = _layout(column)
    out = np.empty(rows.size, dtype=object)
    if rows.size == 0:
        return out
    starts, ends = offsets[rows].tolist(), offsets[rows + 1].tolist()
    if rows.size > 64:  # one copy of the whole buffer beats a copy per row
        raw = data.tobytes()
        out[:] = [raw[s:e] for s, e in zip(starts, ends, strict=True)]
    else:
        out[:] = [data[s:e].tobytes() for s, e in zip(starts, ends, strict=True)]
    out[null_mask(column)[rows]] = None
    return out


def _has_z(column: pa.Array, null: np.ndarray) -> bool:
    """Whether any row's WKB type says it has a third ordinate: Z, or M, which carries
    heights as readily (ISO 1000, 2000 and 3000 codes, or the EWKB flags)."""
    offsets, data = _layout(column)
    start = offsets[:-1][~null & (np.diff(offsets) >= 5)]
    if start.size == 0:
        return False
    raw = data[start[:, None] + np.arange(1, 5)].copy()
    big = data[start] == 0
    raw[big] = raw[big, ::-1]  # every type code read little-endian
    code = raw.view("<u4").ravel()
    iso = (code & 0x0FFFFFFF) // 1000
    return bool(np.any(((iso >= 1) & (iso <= 3)) | ((code & 0xC0000000) != 0)))


def numpy_boxes(column: pa.Array) -> WkbBoxes:
    """Per-row boxes read with NumPy for the simple little-endian forms; NaN elsewhere."""
    n = len(column)
    bounds = np.full((n, 4), np.nan)
    null = null_mask(column)
    fast = np.zeros(n, dtype=bool)
    if n == 0 or null.all():
        return WkbBoxes(bounds, null, fast, False)
    offsets, data = _layout(column)
    start = offsets[:-1]
    length = offsets[1:] - offsets[:-1]
    usable = ~null & (length >= 5)
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return WkbBoxes(bounds, null, fast, False)
    little = data[start[rows]] == 1
    rows = rows[little]
    raw_type = _u32(data, start[rows] + 1)
    has_z = bool(np.any((raw_type // 1000 >= 1) & (raw_type // 1000 <= 3)))  # Z, M or ZM
    base = raw_type % 1000
    dims = np.where((raw_type // 1000 == 1) | (raw_type // 1000 == 2), 3, 2)
    dims = np.where(raw_type // 1000 == 3, 4, dims)
    for code, header in _FIXED_HEADER.items():
        sel = base == code
        if not sel.any():
            continue
        r = rows[sel]
        s = start[r]
        ok = np.ones(r.size, dtype=bool)
        for at in _ONE_COUNTS.get(code, ()):
            ok &= length[r] >= at + 4
            ok[ok] &= _u32(data, s[ok] + at) == 1
        if code == 6:  # the inner polygon's own type must be a polygon of the same dimension
            ok[ok] &= (_u32(data, s[ok] + 10) % 1000) == 3
        if code == 5:
            ok[ok] &= (_u32(data, s[ok] + 10) % 1000) == 2
        r, s, d = r[ok], s[ok], dims[sel][ok]
        if code == 1:
            npts = np.ones(r.size, dtype=np.int64)
        else:
            npts = _u32(data, s + _NPOINTS_AT[code]).astype(np.int64)
        need = header + npts * d * 8
        ok = (length[r] >= need) & (npts > 0)
        r, s, d, npts = r[ok], s[ok], d[ok], npts[ok]
        for dim in distinct(d):
            m = d == dim
            _fill(bounds, fast, data, r[m], s[m] + header, npts[m], int(dim))
    return WkbBoxes(bounds, null, fast, has_z)


def _fill(
    bounds: np.ndarray,
    fast: np.ndarray,
    data: np.ndarray,
    rows: np.ndarray,
    coord_start: np.ndarray,
    npts: np.ndarray,
    dim: int,
) -> None:
    """Read each row's coordinates as doubles and reduce them to a box.

    WKB coordinates are not 8-byte aligned; rows are grouped by their misalignment and read
    through a float64 view of the buffer shifted by that many bytes.
    """
    for shift in range(8):
        sel = (coord_start % 8) == shift
        if not sel.any():
            continue
        view = np.frombuffer(data, dtype="<f8", offset=shift, count=(data.size - shift) // 8)
        r, n = rows[sel], npts[sel]
        base = (coord_start[sel] - shift) // 8
        # Rows of one common length are read as a table (one column per point), which beats
        # reducing each row's run separately several times over; the rest go run by run.
        lengths, counts = np.unique(n[n <= _TABLE_POINTS], return_counts=True)
        tabled = np.zeros(r.size, dtype=bool)
        for k in lengths[counts >= _TABLE_ROWS]:
            m = n == k
            x_at = base[m][None, :] + (np.arange(k) * dim)[:, None]
            xs, ys = view[x_at], view[x_at + 1]
            _put(bounds, fast, r[m], (xs.min(0), ys.min(0), xs.max(0), ys.max(0)))
            tabled |= m
        if not tabled.all():
            r, n, base = r[~tabled], n[~tabled], base[~tabled]
            seg = np.cumsum(n) - n
            x_at = np.repeat(base, n) + (np.arange(int(n.sum())) - np.repeat(seg, n)) * dim
            xs, ys = view[x_at], view[x_at + 1]
            lows = np.minimum.reduceat(xs, seg), np.minimum.reduceat(ys, seg)
            highs = np.maximum.reduceat(xs, seg), np.maximum.reduceat(ys, seg)
            _put(bounds, fast, r, (*lows, *highs))


def _put(
    bounds: np.ndarray,
    fast: np.ndarray,
    rows: np.ndarray,
    box: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    stacked = np.column_stack(box)
    # NaN or infinite coordinates: left for GEOS to decode, and then judged there.
    finite = finite_rows(stacked)
    bounds[rows[finite]] = stacked[finite]
    fast[rows[finite]] = True
