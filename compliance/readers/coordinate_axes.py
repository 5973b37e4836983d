"""Where a netCDF's coordinate variables put its pixel centres, when not evenly.

GDAL's netCDF driver turns a variable's x and y coordinate variables into a geotransform
when their spacing looks even, and it looks only at three places: the first step, the
middle one and the last. A longitude axis stepping 40 m apart everywhere but across a
run of columns 0.25 m apart passes, and the geotransform then spreads the columns
evenly: the file reads as 40 m data while part of it is 0.25 m. So the coordinate
variables are read here in full, through GDAL's multidimensional API (the same driver
that opened the raster), and each axis is kept when it is uneven, as the grid position
of every pixel centre (see ``RasterSource.axis_centres``).
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

from compliance.readers.rasterio_gdal import OF_MULTIDIM_RASTER, rasterio_gdal

__all__ = ["netcdf_axis_centres"]

# Column centres then row centres as grid positions (index i at i on an even axis), each
# None when the axis is even; NaN throughout when an axis could not be read or is not a
# grid (repeated or unordered coordinates).
_AxisCentres = tuple[np.ndarray | None, np.ndarray | None]

_GDT_FLOAT64 = 7
# An axis is even when no step departs from its mean by more than this fraction; GDAL's
# own geotransform is then exact to within it.
_EVEN = 1e-6


def netcdf_axis_centres(
    name: str, variable: str | None, transform: Any, width: int, height: int
) -> _AxisCentres | None:
    """The uneven axes of the netCDF variable ``variable`` read as a raster of ``width`` x
    ``height`` placed by ``transform``; None when both axes are even or have no
    coordinate variable (the geotransform then came from elsewhere, and is the grid)."""
    path = _file_of(name)
    calls = rasterio_gdal()
    values = None
    if calls is not None and variable:
        values = _read_axes(calls, path, variable, (width, height))
    if values is None:
        unread = np.full(1, np.nan)
        return unread, unread
    x, y = values
    columns = _centres(x, width, transform.a) if x is not None else None
    rows = _centres(y, height, transform.e) if y is not None else None
    return None if columns is None and rows is None else (columns, rows)


def _file_of(name: str) -> str:
    """The file of a GDAL netCDF name: ``NETCDF:"path":variable`` or a plain path."""
    if name.upper().startswith("NETCDF:"):
        rest = name[len("NETCDF:") :]
        if rest.startswith('"'):
            return rest[1 : rest.index('"', 1)]
        return rest.rsplit(":", 1)[0]
    return name


def _centres(values: np.ndarray, size: int, step: float) -> np.ndarray | None:
    """Grid positions of the centres an axis's coordinates give, in the raster's order
    (GDAL turns a south-up axis over); None for an even axis, NaN for no grid."""
    if values.size != size or not np.isfinite(values).all():
        return np.full(1, np.nan)
    if size < 2:
        return None
    if (values[-1] - values[0] > 0) != (step > 0):
        values = values[::-1]
    span = values[-1] - values[0]
    if span == 0:
        return np.full(1, np.nan)
    positions = (values - values[0]) * ((size - 1) / span)
    steps = np.diff(positions)
    if not (steps > 0).all():
        return np.full(1, np.nan)
    if np.abs(steps - 1.0).max() <= _EVEN:
        return None
    return positions


def _read_axes(
    calls: dict[str, Any], path: str, variable: str, sizes: tuple[int, int]
) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    """The x and y coordinate variables (the last two dimensions' indexing variables) of
    ``variable``, each None where its dimension has none; None when they cannot be read."""
    allowed = (ctypes.c_char_p * 2)(b"netCDF", None)
    handle = calls["GDALOpenEx"](os.fsencode(path), OF_MULTIDIM_RASTER, allowed, None, None)
    if not handle:
        return None
    try:
        root = calls["GDALDatasetGetRootGroup"](handle)
        if not root:
            return None
        try:
            full = variable if variable.startswith("/") else f"/{variable}"
            array = calls["GDALGroupOpenMDArrayFromFullname"](root, full.encode(), None)
            if not array:
                return None
            try:
                return _dimension_values(calls, array, sizes)
            finally:
                calls["GDALMDArrayRelease"](array)
        finally:
            calls["GDALGroupRelease"](root)
    finally:
        calls["GDALClose"](handle)


def _dimension_values(
    calls: dict[str, Any], array: int, sizes: tuple[int, int]
) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    count = ctypes.c_size_t(0)
    dims = calls["GDALMDArrayGetDimensions"](array, ctypes.byref(count))
    if not dims or count.value < 2:
        if dims:
            calls["GDALReleaseDimensions"](dims, count.value)
        return None
    try:
        read: list[np.ndarray | None] = []
        x_y = (dims[count.value - 1], dims[count.value - 2])
        for dim, size in zip(x_y, sizes, strict=True):
            indexing = calls["GDALDimensionGetIndexingVariable"](dim)
            if not indexing:
                read.append(None)
                continue
            try:
                values = _read_1d(calls, indexing, size)
            finally:
                calls["GDALMDArrayRelease"](indexing)
            if values is None:
                return None
            read.append(values)
        return read[0], read[1]
    finally:
        calls["GDALReleaseDimensions"](dims, count.value)


def _read_1d(calls: dict[str, Any], array: int, expected: int) -> np.ndarray | None:
    """A one-dimensional variable's values as float64; None when it has more dimensions,
    another length than the raster's side, or cannot be read."""
    if calls["GDALMDArrayGetDimensionCount"](array) != 1:
        return None
    count = ctypes.c_size_t(0)
    dims = calls["GDALMDArrayGetDimensions"](array, ctypes.byref(count))
    if not dims:
        return None
    try:
        size = int(calls["GDALDimensionGetSize"](dims[0]))
    finally:
        calls["GDALReleaseDimensions"](dims, count.value)
    if size != expected:
        return None
    out = np.empty(size, dtype=np.float64)
    start = (ctypes.c_uint64 * 1)(0)
    length = (ctypes.c_size_t * 1)(size)
    dtype = calls["GDALExtendedDataTypeCreate"](_GDT_FLOAT64)
    try:
        ok = calls["GDALMDArrayRead"](
            array, start, length, None, None, dtype,
            out.ctypes.data, out.ctypes.data, out.nbytes,
        )  # fmt: skip
    finally:
        calls["GDALExtendedDataTypeRelease"](dtype)
    return out if ok else None
