"""One GDAL open per vector file: the dataset pyogrio would open, kept open from listing
its layers to streaming their geometries.

pyogrio opens a file anew for every question: its description (``read_info``), its
layers (``list_layers``), each layer's stream (``open_arrow``). A GeoJSON or GML reader
parses the whole document at each open, and a GeoPackage reader reads its catalogue:
for a small file those opens were most of a check. pyogrio's calls do not share a
dataset, so this module asks the same GDAL library (the one pyogrio loaded, through its
C API) once, and answers with what pyogrio would have: the same driver name, layer
names, descriptions (pyogrio's own tables of geometry and field types, its rules for
the CRS, counts, extents and encodings) and the same Arrow stream. Errors are raised as
pyogrio's, with its messages, so callers treat both the same. Where the library cannot
be found (pyogrio built against a GDAL elsewhere), ``open_vector`` asks pyogrio each
question instead (``pyogrio_dataset.py``).
"""

from __future__ import annotations

import ctypes
import locale
import os
import threading
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio
from pyogrio._geometry import GEOMETRY_TYPES
from pyogrio._io import FIELD_TYPES
from pyogrio.errors import DataLayerError, DataSourceError
from pyogrio.util import vsi_path

from compliance.readers.gdal_errors import GdalErrors
from compliance.readers.gdal_library import gdal_library
from compliance.readers.pyogrio_dataset import PyogrioDataset

__all__ = ["VectorDataset", "open_vector"]

_OF_VECTOR, _OF_VERBOSE_ERROR = 0x04, 0x40
_OLC_STRINGS_AS_UTF8 = b"StringsAsUTF8"
_OGRERR_NONE = 0
_SAID = 300  # characters of GDAL's messages kept: one per failed feature may follow
# OFTString, OFTStringList, OFTWideString, OFTBinary: the fields that can hold geometry text.
_TEXT_FIELD_TYPES = frozenset({4, 5, 6, 8})
# Drivers pyogrio reads as UTF-8 whatever their layers say (its ``detect_encoding``).
_UTF8_DRIVERS = frozenset({"OSM", "XLSX", "ODS", "GeoJSONSeq", "SQLite"})


class _Envelope(ctypes.Structure):
    _fields_ = [(n, ctypes.c_double) for n in ("MinX", "MaxX", "MinY", "MaxY")]


class _ArrowArrayStream(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_void_p)
        for n in ("get_schema", "get_next", "get_last_error", "release", "private_data")
    ]


def _text(value: bytes | None, encoding: str = "UTF-8") -> str:
    return "" if value is None else value.decode(encoding)


class VectorDataset:
    """An open GDAL vector dataset: its driver, layers and their streams. Close it (or
    let it be collected) once no stream of it is read any more."""

    def __init__(self, lib: ctypes.CDLL, handle: int, path: Path) -> None:
        self._lib, self._handle, self.path = lib, handle, path
        self._lock = threading.Lock()  # one GDAL call on the dataset at a time
        # Streams not yet released: GDAL's must go before their dataset does.
        self._readers: list[pa.RecordBatchReader] = []
        # What GDAL failed to read while streaming a layer, said in words.
        self.failures: list[str] = []
        lib_driver = lib.GDALGetDatasetDriver(handle)
        if not lib_driver:
            lib.GDALClose(handle)
            self._handle = 0  # closed here: not again when this object is collected
            raise DataLayerError("Could not detect driver of dataset")
        self.driver = _text(lib.OGR_Dr_GetName(lib_driver))

    def close(self) -> None:
        """Release every stream still open, then the dataset (twice is harmless)."""
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            if self._handle:
                self._lib.GDALClose(self._handle)
                self._handle = 0

    def __del__(self) -> None:
        self.close()

    def _require_open(self) -> None:
        if not self._handle:
            raise DataSourceError(f"{self.path}: the dataset was closed")

    def _layer(self, layer: str | int) -> int:
        self._require_open()
        with GdalErrors(self._lib) as errors:
            if isinstance(layer, str):
                found = self._lib.GDALDatasetGetLayerByName(self._handle, layer.encode())
            else:
                found = self._lib.GDALDatasetGetLayer(self._handle, layer)
        if not found:
            raise DataLayerError(errors.message() or f"Layer '{layer}' could not be opened")
        if self.driver == "OSM":  # pyogrio's way of reading one OSM layer
            name = _text(self._lib.OGR_L_GetName(found))
            self._lib.GDALDatasetExecuteSQL(
                self._handle, f"SET interest_layers = {name}".encode(), None, None
            )
        return int(found)

    def files(self) -> list[str]:
        """The files GDAL opened for the dataset (its GDALGetFileList)."""
        with self._lock:
            self._require_open()
            listing = self._lib.GDALGetFileList(self._handle)
            names: list[str] = []
            try:
                while listing and listing[len(names)] is not None:
                    names.append(os.fsdecode(listing[len(names)]))
            finally:
                self._lib.CSLDestroy(ctypes.cast(listing, ctypes.c_void_p))
            return names

    def layer_names(self) -> list[str]:
        """The layers' names, in the driver's order (pyogrio's ``list_layers``)."""
        with self._lock:
            self._require_open()
            count = self._lib.GDALDatasetGetLayerCount(self._handle)
            names = []
            for i in range(count):
                layer = self._lib.GDALDatasetGetLayer(self._handle, i)
                names.append(_text(self._lib.OGR_L_GetName(layer)))
            return names

    def info(self, layer: str | int) -> dict[str, Any]:
        """What pyogrio's ``read_info`` reports of a layer (the keys the readers use)."""
        with self._lock:
            lib, found = self._lib, self._layer(layer)
            encoding = self._encoding(found)
            envelope = _Envelope()
            bounds = None
            if lib.OGR_L_GetExtent(found, ctypes.byref(envelope), 0) == _OGRERR_NONE:
                bounds = (envelope.MinX, envelope.MinY, envelope.MaxX, envelope.MaxY)
            return {
                "layer_name": _text(lib.OGR_L_GetName(found)),
                "crs": self._crs(found),
                "encoding": encoding,
                "fields": [f.decode(encoding) for f in self._fields(found)],
                "text_fields": [f.decode(encoding) for f in self._fields(found, text=True)],
                "geometry_type": self._geometry_type(found),
                "features": lib.OGR_L_GetFeatureCount(found, 0),
                "total_bounds": bounds,
                "driver": self.driver,
                "layer_metadata": self._metadata(found),
                "dataset_metadata": self._metadata(self._handle),
            }

    def _encoding(self, layer: int) -> str:
        """pyogrio's ``detect_encoding``: the encoding of the layer's field names."""
        lib = self._lib
        if lib.OGR_L_TestCapability(layer, _OLC_STRINGS_AS_UTF8):
            return "UTF-8"
        if self.driver == "ESRI Shapefile":
            first = lib.GDALDatasetGetLayer(self._handle, 0)
            utf8 = lib.OGR_L_TestCapability(first, _OLC_STRINGS_AS_UTF8)
            return "UTF-8" if utf8 else "ISO-8859-1"
        if self.driver in _UTF8_DRIVERS:
            return "UTF-8"
        return locale.getpreferredencoding()

    def _definition(self, layer: int) -> int:
        definition = self._lib.OGR_L_GetLayerDefn(layer)
        if not definition:
            raise DataLayerError("Could not get layer definition")
        return int(definition)

    def _fields(self, layer: int, text: bool | None = None) -> list[bytes]:
        """The names (as stored) of the attribute fields pyogrio's ``read_info`` lists;
        ``text``: only those of text and binary types (True), or only the others (False)."""
        lib, definition = self._lib, self._definition(layer)
        fields = []
        for i in range(lib.OGR_FD_GetFieldCount(definition)):
            field = lib.OGR_FD_GetFieldDefn(definition, i)
            kind = lib.OGR_Fld_GetType(field)
            if not (0 <= kind < len(FIELD_TYPES) and FIELD_TYPES[kind] is not None):
                continue
            if text is None or text == (kind in _TEXT_FIELD_TYPES):
                fields.append(lib.OGR_Fld_GetNameRef(field) or b"")
        return fields

    def _geometry_type(self, layer: int) -> str | None:
        lib = self._lib
        code = lib.OGR_FD_GetGeomType(self._definition(layer))
        if code not in GEOMETRY_TYPES:
            raise pyogrio.errors.GeometryError(f"Geometry type is not supported: {code}")
        if lib.OGR_GT_HasM(code):  # pyogrio reports measured types without their M
            code = lib.OGR_GT_SetModifier(code, lib.OGR_GT_HasZ(code), 0)
        kind: str | None = GEOMETRY_TYPES[code]
        return kind

    def _crs(self, layer: int) -> str | None:
        """pyogrio's ``get_crs``: EPSG:<code> where GDAL identifies one, else WKT."""
        lib = self._lib
        srs = lib.OGR_L_GetSpatialRef(layer)
        if not srs:
            return None
        lib.OSRAutoIdentifyEPSG(srs)
        name, code = lib.OSRGetAuthorityName(srs, None), lib.OSRGetAuthorityCode(srs, None)
        if name is not None and code is not None and _text(name) == "EPSG":
            return f"EPSG:{_text(code)}"
        wkt = ctypes.c_void_p()
        lib.OSRExportToWkt(srs, ctypes.byref(wkt))
        if not wkt.value:
            return None
        try:
            return _text(ctypes.string_at(wkt.value))
        finally:
            lib.VSIFree(wkt)

    def _metadata(self, obj: int) -> dict[str, str] | None:
        items = self._lib.GDALGetMetadata(obj, None)
        if not items:
            return None
        pairs = []
        i = 0
        while items[i] is not None:
            key, _, value = items[i].decode("UTF-8").partition("=")
            pairs.append((key, value))
            i += 1
        return dict(pairs)

    def _arrow_reader(
        self, layer: str, batch_size: int, columns: str | Collection[str] = "geometry"
    ) -> tuple[str, pa.RecordBatchReader]:
        """The layer's primary geometry name and its features as pyogrio's
        ``open_arrow(columns=[])`` streams them: every geometry field, no attribute, no FID,
        GeoArrow metadata. ``columns="all"``: every attribute too, as ``open_arrow()``;
        names: those attributes too. Read it to its end or close it before the next
        layer's."""
        with self._lock:
            lib, found = self._lib, self._layer(layer)
            if columns == "all":
                raw_names = []
            elif columns == "geometry":
                raw_names = self._fields(found)
            else:
                encoding = self._encoding(found)
                raw_names = [f for f in self._fields(found) if f.decode(encoding) not in columns]
            ignored = (ctypes.c_char_p * (len(raw_names) + 1))(*raw_names, None)
            lib.OGR_L_SetIgnoredFields(found, ignored)
            options = [b"INCLUDE_FID=NO", b"GEOMETRY_METADATA_ENCODING=GEOARROW"]
            if batch_size > 0:
                options.append(f"MAX_FEATURES_IN_BATCH={batch_size}".encode())
            c_options = (ctypes.c_char_p * (len(options) + 1))(*options, None)
            lib.OGR_L_ResetReading(found)
            stream = _ArrowArrayStream()
            with GdalErrors(lib) as errors:
                opened = lib.OGR_L_GetArrowStream(found, ctypes.byref(stream), c_options)
            if not opened:
                raise DataLayerError(
                    errors.message() or "Failed to open ArrowArrayStream from Layer"
                )
            primary = _text(lib.OGR_L_GetGeometryColumn(found))
            # pyarrow moves the stream out of the struct: it owns and releases it.
            reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
            self._readers.append(reader)
            return primary, reader

    def _release(self, reader: pa.RecordBatchReader) -> None:
        with self._lock:
            reader.close()
            self._readers = [r for r in self._readers if r is not reader]

    def _whole(self, reader: pa.RecordBatchReader, layer: str) -> Iterator[pa.RecordBatch]:
        """The stream's batches; GDAL's failures while reading them go to ``failures``.
        Its generic stream ends at the first feature its driver fails to read, as if the
        layer ended there (a PMTiles leaf directory it cannot decode), and says so only to
        its error handler; other drivers skip the feature (a GeoJSON geometry without
        coordinates). Either way part of the layer was not read."""
        while True:
            with GdalErrors(self._lib) as errors:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    batch = None
                failed = errors.message()
            if failed:
                said = failed if len(failed) <= _SAID else failed[:_SAID] + "..."
                self.failures.append(f"{layer}: GDAL failed while reading it ({said})")
            if batch is None:
                return
            yield batch

    def take_failures(self) -> list[str]:
        """GDAL's failures while streaming the layers read so far, said in words, once."""
        taken, self.failures = self.failures, []
        return taken

    def geometry_schema(self, layer: str) -> tuple[pa.Schema, str]:
        """The layer's stream schema (its geometry fields) and its primary geometry name."""
        primary, reader = self._arrow_reader(layer, 0)
        try:
            return reader.schema, primary
        finally:
            self._release(reader)

    def attribute_batches(self, layer: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        """The layer's features with every attribute, batch by batch (a table's rows)."""
        _, reader = self._arrow_reader(layer, batch_size, "all")
        try:
            yield from self._whole(reader, layer)
        finally:
            self._release(reader)

    def layer_batches(
        self, layer: str, batch_size: int, keep: Collection[str] = ()
    ) -> Iterator[tuple[str, pa.RecordBatch]]:
        """The layer's record batches (with the attributes named in ``keep``), each with the
        primary geometry's name; the stream is released when the loop ends."""
        primary, reader = self._arrow_reader(layer, batch_size, keep or "geometry")
        try:
            for batch in self._whole(reader, layer):
                yield primary, batch
        finally:
            self._release(reader)


def open_vector(
    path: Path, options: dict[str, str], drivers: Collection[str] | None = None
) -> VectorDataset | PyogrioDataset:
    """``path`` opened read-only as vector data, with ``options``, as pyogrio opens it
    (where pyogrio's GDAL library is not at hand, pyogrio is asked each question instead).
    ``drivers``: the only drivers that may open it (GDAL's allowed drivers), so that no
    other driver parses the file at all; pyogrio cannot be told, so its caller also checks
    the driver that opened it.

    Raises
    ------
    pyogrio.errors.DataSourceError
        GDAL cannot open it as vector data (pyogrio's message).
    """
    lib = gdal_library()
    if lib is None:
        return PyogrioDataset(path, options)
    target = vsi_path(path)
    pairs = [f"{k}={v}".encode() for k, v in options.items()]
    c_options = (ctypes.c_char_p * (len(pairs) + 1))(*pairs, None)
    allowed = None
    if drivers is not None:
        names = [name.encode() for name in sorted(drivers)]
        allowed = (ctypes.c_char_p * (len(names) + 1))(*names, None)
    lib.OGRSetNonLinearGeometriesEnabledFlag(0)  # as pyogrio: curves read as lines
    with GdalErrors(lib) as errors:
        handle = lib.GDALOpenEx(
            os.fsencode(target), _OF_VECTOR | _OF_VERBOSE_ERROR, allowed, c_options, None
        )
    if not handle:
        message = errors.message()
        if message is None:
            raise DataSourceError(f"Failed to open dataset (mode=0): {target}")
        if " a supported file format." in message:
            message += (
                "; It might help to specify the correct driver explicitly by prefixing "
                "the file path with '<DRIVER>:', e.g. 'CSV:path'."
            )
        raise DataSourceError(message)
    return VectorDataset(lib, handle, path)
