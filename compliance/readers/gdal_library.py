"""The GDAL library pyogrio reads with, for the calls pyogrio does not offer.

Only pyogrio's own copy will do: its drivers, configuration (the upload guard's proxy
and driver list) and error handling are per library, and rasterio may have loaded
another copy beside it. The copy is found among the libraries this process has mapped,
as the one pyogrio's extension needs, and must report pyogrio's GDAL version.
"""

from __future__ import annotations

import ctypes
from functools import cache
from pathlib import Path

import pyogrio
import pyogrio._io

__all__ = ["gdal_library"]

_P, _S, _I, _D = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_double
# name: (result, arguments), the C API's own signatures.
_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "GDALVersionInfo": (_S, [_S]),
    "GDALOpenEx": (_P, [_S, ctypes.c_uint, _P, _P, _P]),
    "GDALClose": (_I, [_P]),
    "GDALGetDatasetDriver": (_P, [_P]),
    "OGR_Dr_GetName": (_S, [_P]),
    "GDALDatasetGetLayerCount": (_I, [_P]),
    "GDALDatasetGetLayer": (_P, [_P, _I]),
    "GDALDatasetGetLayerByName": (_P, [_P, _S]),
    "GDALDatasetExecuteSQL": (_P, [_P, _S, _P, _S]),
    "GDALGetMetadata": (ctypes.POINTER(_S), [_P, _S]),
    "GDALGetFileList": (ctypes.POINTER(_S), [_P]),
    "CSLDestroy": (None, [_P]),
    "OGR_L_GetName": (_S, [_P]),
    "OGR_L_GetGeometryColumn": (_S, [_P]),
    "OGR_L_GetExtent": (_I, [_P, _P, _I]),
    "OGR_L_GetFeatureCount": (ctypes.c_int64, [_P, _I]),
    "OGR_L_TestCapability": (_I, [_P, _S]),
    "OGR_L_GetLayerDefn": (_P, [_P]),
    "OGR_L_GetSpatialRef": (_P, [_P]),
    "OGR_L_SetIgnoredFields": (_I, [_P, _P]),
    "OGR_L_ResetReading": (None, [_P]),
    "OGR_L_GetArrowStream": (ctypes.c_bool, [_P, _P, _P]),
    "OGR_FD_GetFieldCount": (_I, [_P]),
    "OGR_FD_GetFieldDefn": (_P, [_P, _I]),
    "OGR_FD_GetGeomType": (_I, [_P]),
    "OGR_Fld_GetNameRef": (_S, [_P]),
    "OGR_Fld_GetType": (_I, [_P]),
    "OGR_GT_HasM": (_I, [_I]),
    "OGR_GT_HasZ": (_I, [_I]),
    "OGR_GT_SetModifier": (_I, [_I, _I, _I]),
    "OSRAutoIdentifyEPSG": (_I, [_P]),
    "OSRGetAuthorityName": (_S, [_P, _S]),
    "OSRGetAuthorityCode": (_S, [_P, _S]),
    "OSRExportToWkt": (_I, [_P, _P]),
    "VSIFree": (None, [_P]),
    "OGRSetNonLinearGeometriesEnabledFlag": (None, [_I]),
    "CPLErrorReset": (None, []),
    "CPLPushErrorHandler": (None, [_P]),
    "CPLPopErrorHandler": (None, []),
}


def _mapped_gdal() -> list[Path]:
    """The GDAL libraries this process has mapped (pyogrio's, and rasterio's if loaded)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "libgdal" in line}
    except OSError:
        return []
    return sorted(Path(p) for p in paths if p.startswith("/"))


def _pyogrio_gdal() -> Path | None:
    """The GDAL library pyogrio's extension was linked with: the one in pyogrio's own
    folder of bundled libraries, or the only one mapped."""
    mapped = _mapped_gdal()
    bundled = Path(pyogrio._io.__file__).resolve().parent.parent / "pyogrio.libs"
    own = [p for p in mapped if p.parent == bundled]
    if len(own) == 1:
        return own[0]
    return mapped[0] if len(mapped) == 1 else None


@cache
def gdal_library() -> ctypes.CDLL | None:
    """pyogrio's GDAL with the prototypes this package calls, or None when it cannot be
    identified for certain."""
    path = _pyogrio_gdal()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
        for name, (result, arguments) in _PROTOTYPES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = result, arguments
    except (OSError, AttributeError):
        return None
    version = lib.GDALVersionInfo(b"RELEASE_NAME")
    if version is None or version.decode() != pyogrio.__gdal_version_string__:
        return None
    return lib
