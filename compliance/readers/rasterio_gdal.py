"""The GDAL library rasterio reads with, for the calls rasterio does not offer.

Only rasterio's own copy will do: it has the configuration, drivers and version rasterio
opened the file with (the upload guard's driver list among them), so a second look at
the file sees what rasterio saw. pyogrio may have loaded another copy beside it.
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any

__all__ = ["OF_MULTIDIM_RASTER", "OF_RASTER", "rasterio_gdal"]

OF_RASTER, OF_MULTIDIM_RASTER = 0x02, 0x10
_P, _I, _S, _Z = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
# name: (result, arguments), the C API's own signatures.
_CALLS: dict[str, tuple[Any, list[Any]]] = {
    "GDALVersionInfo": (_S, [_S]),
    "GDALOpenEx": (_P, [_S, ctypes.c_uint, _P, _P, _P]),
    "GDALClose": (_I, [_P]),
    "GDALGetRasterCount": (_I, [_P]),
    "GDALGetRasterBand": (_P, [_P, _I]),
    "GDALGetOverviewCount": (_I, [_P]),
    "GDALGetOverview": (_P, [_P, _I]),
    "GDALGetRasterBandXSize": (_I, [_P]),
    "GDALGetRasterBandYSize": (_I, [_P]),
    # The multidimensional API: a netCDF's variables with their dimensions.
    "GDALDatasetGetRootGroup": (_P, [_P]),
    "GDALGroupRelease": (None, [_P]),
    "GDALGroupOpenMDArrayFromFullname": (_P, [_P, _S, _P]),
    "GDALMDArrayRelease": (None, [_P]),
    "GDALMDArrayGetDimensions": (ctypes.POINTER(_P), [_P, ctypes.POINTER(_Z)]),
    "GDALReleaseDimensions": (None, [ctypes.POINTER(_P), _Z]),
    "GDALDimensionGetSize": (ctypes.c_uint64, [_P]),
    "GDALDimensionGetIndexingVariable": (_P, [_P]),
    "GDALMDArrayGetDimensionCount": (_Z, [_P]),
    "GDALExtendedDataTypeCreate": (_P, [_I]),
    "GDALExtendedDataTypeRelease": (None, [_P]),
    "GDALMDArrayRead": (
        _I,
        [
            _P,
            ctypes.POINTER(ctypes.c_uint64),
            ctypes.POINTER(_Z),
            ctypes.POINTER(ctypes.c_int64),
            ctypes.POINTER(ctypes.c_ssize_t),
            _P,
            _P,
            _P,
            _Z,
        ],
    ),
}


@cache
def rasterio_gdal() -> dict[str, Any] | None:
    """The C calls of rasterio's GDAL, found among the libraries rasterio's extension
    depends on; None when they cannot be reached so."""
    import rasterio
    from rasterio import _base

    try:
        library = ctypes.CDLL(_base.__file__)
        calls = {
            name: ctypes.CFUNCTYPE(result, *arguments)((name, library))
            for name, (result, arguments) in _CALLS.items()
        }
    except (OSError, AttributeError):
        return None
    version = calls["GDALVersionInfo"](b"RELEASE_NAME")
    if version is None or version.decode() != rasterio.__gdal_version__:
        return None
    return calls
