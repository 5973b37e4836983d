"""Coordinates straight from WKB bytes for the simple forms, without decoding geometries.

Measuring the detail of every feature needs every coordinate, and decoding a million
polygons into GEOS objects costs more than reading them. Points, lines, single-ring
polygons and their one-part multi forms (little-endian, 2-D to 4-D) are read with NumPy;
every other row is left for the caller to decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from geoarrow.c import ScalarFunction

from compliance.measure.wkb_bounds import (
    _FIXED_HEADER,
    _NPOINTS_AT,
    _ONE_COUNTS,
    TaggedWkb,
    _layout,
    _u32,
    null_mask,
)

__all__ = [
    "NativeGeometry",
    "SimpleRows",
    "simple_rows",
]

_POINT = 1
# Coordinate dimension by the ISO type code's thousands (2-D, Z, M, ZM); 0 for anything
# else (EWKB flags, damaged codes), which is not read here.
_DIMENSIONS = np.array([2, 3, 3, 4, 0])
# Rows of one WKB form: their batch positions, first coordinate's byte, point counts,
# dimension and type code.
_Group = tuple[np.ndarray, np.ndarray, np.ndarray, int, int]
# GeoArrow's type id for a 2-D form with interleaved x, y is the WKB code plus this.
_INTERLEAVED = 10_000
_AS_GEOARROW = {
    code: ScalarFunction("as_geoarrow", type=code + _INTERLEAVED) for code in (1, 2, 3, 5, 6)
}
_EXTENSION = {
    1: "geoarrow.point",
    2: "geoarrow.linestring",
    3: "geoarrow.polygon",
    5: "geoarrow.multilinestring",
    6: "geoarrow.multipolygon",
}


@dataclass
class SimpleRows:
    rows: np.ndarray  # batch positions read here, ascending
    points: np.ndarray  # bool per entry of ``rows``: a point (not a line or ring)
    coords: np.ndarray  # (n, 2) x, y of those rows, row after row
    owner: np.ndarray  # batch position of each coordinate
    # (n, 2) the third and fourth ordinates (Z, M) of those coordinates, NaN where a row
    # has fewer; None when every row is 2-D.
    extra: np.ndarray | None = None
    # The whole batch in GeoArrow's own layout, when every row was converted at once (see
    # ``_uniform_coordinates``): what its boxes are read from, in half the time of WKB.
    native: NativeGeometry | None = None


@dataclass
class NativeGeometry:
    """A batch converted to one 2-D GeoArrow type, handed to GeoArrow's kernels as that type."""

    array: pa.Array
    extension: str  # "geoarrow.polygon" and the like

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[Any, Any]:
        _, array = self.array.__arrow_c_array__()
        field = pa.field(
            "geometry",
            self.array.type,
            metadata={"ARROW:extension:name": self.extension, "ARROW:extension:metadata": "{}"},
        )
        return field.__arrow_c_schema__(), array


def simple_rows(column: pa.Array) -> SimpleRows:
    """The coordinates of every row in a simple form; other rows are not in ``rows``."""
    n = len(column)
    empty = SimpleRows(
        np.empty(0, np.int64), np.empty(0, bool), np.empty((0, 2)), np.empty(0, np.int64)
    )
    if n == 0:
        return empty
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.ExtensionArray):
        column = column.storage
    null = null_mask(column)
    offsets, data = _layout(column)
    start, length = offsets[:-1], np.diff(offsets)
    rows = np.flatnonzero(~null & (length >= 5))
    rows = rows[data[start[rows]] == 1]  # little-endian only
    if rows.size == 0:
        return empty
    raw = _u32(data, start[rows] + 1)
    dims = _DIMENSIONS.take(np.minimum(raw // 1000, _DIMENSIONS.size - 1))
    base = raw % 1000
    # Only the forms present: most batches hold one, and each form costs some twenty
    # array operations whether it has rows or not (a small batch's fixed cost).
    present = np.bincount(base.compress(dims > 0), minlength=max(_FIXED_HEADER) + 1)
    found: list[_Group] = []
    for code, header in _FIXED_HEADER.items():
        if not present[code]:
            continue
        sel = (base == code) & (dims > 0)
        r, s, d = rows[sel], start[rows[sel]], dims[sel]
        ok = np.ones(r.size, dtype=bool)
        for at in _ONE_COUNTS.get(code, ()):
            ok &= length[r] >= at + 4
            ok[ok] &= _u32(data, s[ok] + at) == 1
        if code in (5, 6):  # the one part's own type: a line / polygon of the same dimension
            ok &= length[r] >= 14
            ok[ok] &= data[s[ok] + 9] == 1
            ok[ok] &= _u32(data, s[ok] + 10) == raw[sel][ok] - 3
        r, s, d = r[ok], s[ok], d[ok]
        npts = (
            np.ones(r.size, np.int64)
            if code == _POINT
            else _u32(data, s + _NPOINTS_AT[code]).astype(np.int64)
        )
        ok = length[r] >= header + npts * d * 8
        for dim in np.flatnonzero(np.bincount(d.compress(ok), minlength=5)).tolist():
            m = ok & (d == dim)
            found.append((r[m], s[m] + header, npts[m], dim, code))
    if not found:
        return empty
    return _gather(column, data, found)


def _gather(column: pa.Array, data: np.ndarray, found: list[_Group]) -> SimpleRows:
    rows, starts, npts, dims, points, codes = _merged(found)
    total = int(npts.sum())
    first = np.cumsum(npts) - npts
    native = _uniform(column, found)
    coords = _uniform_coordinates(native, total) if native is not None else None
    extra = None
    if coords is None:
        native = None
        coords, extra = _byte_coordinates(data, starts, npts, dims, total)
    owner = np.repeat(rows, npts)
    refused = _refused_by_geos(coords, first, npts, codes)
    # WKB writes an empty point as (NaN, NaN): no coordinate at all, as GEOS reads it.
    drop = np.repeat(refused, npts)
    if points.any():
        drop |= np.repeat(points, npts) & np.isnan(coords[:, 0]) & np.isnan(coords[:, 1])
    if not drop.any():
        return SimpleRows(rows, points, coords, owner, extra, native)
    keep = ~refused
    if extra is not None:
        extra = extra.compress(~drop, axis=0)
    return SimpleRows(
        rows[keep], points[keep], coords.compress(~drop, axis=0), owner[~drop], extra, native
    )


def _merged(found: list[_Group]) -> tuple[np.ndarray, ...]:
    """The groups' rows in batch order: positions, first coordinate's byte, point counts,
    dimensions, whether a point, type codes."""
    if len(found) == 1:  # one form of one dimension, the usual batch: already in order
        rows, starts, npts, dim, code = found[0]
        return (
            rows,
            starts,
            npts,
            np.full(rows.size, dim),
            np.full(rows.size, code == _POINT),
            np.full(rows.size, code),
        )
    rows = np.concatenate([f[0] for f in found])
    order = np.argsort(rows, kind="stable")
    return (
        rows[order],
        np.concatenate([f[1] for f in found])[order],
        np.concatenate([f[2] for f in found])[order],
        np.concatenate([np.full(f[0].size, f[3]) for f in found])[order],
        np.concatenate([np.full(f[0].size, f[4] == _POINT) for f in found])[order],
        np.concatenate([np.full(f[0].size, f[4]) for f in found])[order],
    )


def _uniform(column: pa.Array, found: list[_Group]) -> NativeGeometry | None:
    """The batch through GeoArrow's C conversion, when every row that has a value is of one
    simple 2-D form (a layer of polygons, of lines, of points): the rows are then converted
    as they stand. None otherwise."""
    if len(found) != 1 or found[0][3] != 2 or found[0][0].size != len(column) - column.null_count:
        return None
    code = found[0][4]
    try:
        return NativeGeometry(pa.array(_AS_GEOARROW[code](TaggedWkb(column))), _EXTENSION[code])
    except RuntimeError:  # GeoArrowCException: bytes it does not read
        return None


def _uniform_coordinates(native: NativeGeometry, total: int) -> np.ndarray | None:
    """Every coordinate of a converted batch, in row order; None when their count is not
    the rows' own (the bytes are then read instead)."""
    converted = native.array
    # Each level's children between its first and last offset (``flatten`` would load
    # pyarrow's compute module).
    while not pa.types.is_fixed_size_list(converted.type):
        offsets = converted.offsets
        first, last = offsets[0].as_py(), offsets[-1].as_py()
        converted = converted.values.slice(first, last - first)
    values = converted.values.slice(converted.offset * 2, len(converted) * 2)
    xy = np.asarray(values.to_numpy(zero_copy_only=False), dtype=float)
    return xy.reshape(-1, 2) if xy.size == 2 * total else None


def _byte_coordinates(
    data: np.ndarray, starts: np.ndarray, npts: np.ndarray, dims: np.ndarray, total: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The x, y of every coordinate read from the WKB bytes, row after row, and their
    third and fourth ordinates (NaN where fewer; None when every row is 2-D)."""
    each = np.repeat(dims, npts)
    at = (
        np.repeat(starts, npts)
        + (np.arange(total) - np.repeat(np.cumsum(npts) - npts, npts)) * each * 8
    )
    coords = np.empty((total, 2))
    extra = np.full((total, 2), np.nan) if (dims > 2).any() else None
    # WKB doubles are not 8-byte aligned: read them through a view shifted by their offset.
    for shift in range(8):
        m = (at % 8) == shift
        if m.any():
            view = np.frombuffer(data, dtype="<f8", offset=shift, count=(data.size - shift) // 8)
            k = (at[m] - shift) // 8
            coords[m, 0], coords[m, 1] = view[k], view[k + 1]
            if extra is not None:
                for ordinate in (0, 1):
                    has = each[m] > 2 + ordinate
                    extra[np.flatnonzero(m)[has], ordinate] = view[k[has] + 2 + ordinate]
    return coords, extra


def _refused_by_geos(
    coords: np.ndarray, first: np.ndarray, npts: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """Rows GEOS would not decode (a ring not closed or of 1-3 points, a line of one
    point): left to it, so that they are counted undecodable as GEOS finds them."""
    ring = (codes == 3) | (codes == 6)
    line = (codes == 2) | (codes == 5)
    if not (ring.any() or line.any()):  # points: GEOS reads any point
        return np.zeros(codes.size, dtype=bool)
    last = first + np.maximum(npts, 1) - 1
    safe_first = np.minimum(first, max(len(coords) - 1, 0))
    safe_last = np.minimum(last, max(len(coords) - 1, 0))
    if len(coords):
        # take(): a row index of a 2-D array costs ten times as much
        start, end = coords.take(safe_first, axis=0), coords.take(safe_last, axis=0)
        open_ring = (start[:, 0] != end[:, 0]) | (start[:, 1] != end[:, 1])
    else:
        open_ring = np.zeros(npts.size, dtype=bool)
    return (ring & (npts > 0) & ((npts < 4) | open_ring)) | (line & (npts == 1))
