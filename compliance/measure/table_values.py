"""Geometry kept as plain values in a table without geometry, whatever its columns are named.

A table's column names say nothing a sender cannot choose: fine building outlines as WKT
in a column called ``remarks``, or a GeoPackage layer unregistered so that its geometry
blobs are read as an ordinary binary column, carry positions as surely as a layer. Every
value of every text and binary column is looked at, and a column holds geometry when one
of its values reads as a non-empty geometry: WKT (or EWKT), a GeoJSON geometry, WKB (or
its hex), or a GeoPackage geometry blob.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pyarrow as pa
import shapely

from compliance.readers.raw.gpkg_blobs import find_blobs, wkb_end
from compliance.text_digits import column_bytes, fold_column
from compliance.text_forms import may_be_blob, may_hold_a_form, may_hold_geometry

__all__ = ["GeometryText"]


def _text_forms(space: str) -> str:
    """The candidates' pattern, with leading space spelled as the regex engine reads it.
    The forms that start a value share one ``^`` and its space: Python's engine tries
    each alternative at every position, and three anchored ones cost 3.4 times the time
    on a column of street names."""
    wkt = (
        r"(SRID=-?\d+\s*;\s*)?(MULTI)?(POINT|LINESTRING|LINEARRING|POLYGON|CURVE"
        r"|SURFACE|CIRCULARSTRING|COMPOUNDCURVE|CURVEPOLYGON|GEOMETRYCOLLECTION|TRIANGLE|TIN"
        r"|POLYHEDRALSURFACE)\s*(Z|M|ZM)?\s*\("
    )
    # Candidates only: JSON (an object or a list, whatever its keys are spelled), GML or
    # KML coordinates, WKB in hex (PostgreSQL's \x form too). Each is confirmed by parsing.
    json_start = r"[\[{]"
    xml = r"<[^>]*(coordinates|poslist|pos)\b"
    hex_wkb = r"(\\x)?(00|01)[0-9A-Fa-f]{8}([0-9A-Fa-f]{2})+\s*$"
    return f"(?i)^{space}(?:{wkt}|{json_start}|{hex_wkb})|{xml}"


# Leading space as any reader strips it (Python's str.strip: vertical tab, no-break space):
# in RE2's syntax for Arrow's kernel, and in Python's. Python's \s, \b and $ match at least
# where RE2's do, so either finds every candidate the other does (parsing decides).
_TEXT_FORMS = _text_forms(r"[\s\v\x{00A0}\x{FEFF}\x{2000}-\x{200B}\x{3000}]*")
_TEXT_FORMS_HERE = re.compile(_text_forms(r"[\s\v\u00A0\uFEFF\u2000-\u200B\u3000]*"))
# Up to this many values a column is matched in Python: Arrow's kernel is faster per value
# but costs its module's import (about 20 ms) in every process that meets a text column.
_MATCH_HERE = 4096
_SRID = re.compile(r"^\s*SRID=-?\d+\s*;\s*", re.IGNORECASE)
_XML_COORDINATES = re.compile(
    r"<(?:\w+:)?(coordinates|posList|pos)\b[^>]*>\s*[-+.\d]", re.IGNORECASE
)
# SpatiaLite's BLOB-Geometry (GDAL's SQLite driver): 0x00, byte order, SRID, MBR, 0x7C,
# ..., 0xFE at the end.
_SPATIALITE_MBR_END = 38


class GeometryText:
    """Which columns of a stream of batches hold a value that reads as a geometry: fed
    batch by batch (the text attributes of a layer as it is scanned, or a table's rows,
    their text folded into ASCII digits by ``text_digits.fold_batch``). A column is
    settled at its first such value; the others go on being read."""

    def __init__(self) -> None:
        self._found: set[str] = set()
        self._order: list[str] = []

    def add(self, batch: pa.RecordBatch) -> None:
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if name not in self._order:
                self._order.append(name)
            if name in self._found:
                continue
            if isinstance(column, pa.ExtensionArray):  # JSON (GDAL's OFSTJSON) is text
                column = column.storage
            kind = column.type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                if any(_text_geometry(v) for v in _candidates(column)):
                    self._found.add(name)
            elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
                # Bytes as stored (SQLite keeps text and blobs in any column): both forms,
                # each value that may be one (a blob's first bytes, the text's candidates).
                values = [v for v in column.to_pylist() if v]
                if not may_hold_geometry(values):
                    continue  # no blob's start, and ASCII (which folds to itself) of no form
                blobs = [v for v in values if may_be_blob(v)]
                text = pa.array([v.decode("utf-8", "replace") for v in values], pa.large_string())
                text = fold_column(text, column_bytes(text))
                if any(_binary_geometry(v) for v in blobs) or any(
                    _text_geometry(v) for v in _candidates(text)
                ):
                    self._found.add(name)

    @property
    def columns(self) -> list[str]:
        """The columns found so far, in the order the stream gave them."""
        return [name for name in self._order if name in self._found]


def _candidates(column: pa.Array) -> list[str]:
    """The values of a text column that may read as a geometry."""
    data = column_bytes(column)
    if data is not None and not may_hold_a_form(data):
        return []
    if len(column) <= _MATCH_HERE:
        search = _TEXT_FORMS_HERE.search
        return [v for v in column.to_pylist() if v is not None and search(v)]
    import pyarrow.compute as pc  # a large column: worth the import

    matched = pc.match_substring_regex(column, _TEXT_FORMS)
    return list(column.filter(pc.fill_null(matched, False)).to_pylist())


def _has_coordinates(geom: shapely.Geometry | None) -> bool:
    return geom is not None and not geom.is_empty


def _text_geometry(text: str) -> bool:
    """Whether ``text`` reads as a non-empty geometry in a text form."""
    stripped = text.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if stripped[:1] in ("{", "["):
            return _json_geometry(stripped)
        if _XML_COORDINATES.search(stripped):
            return True  # GML's or KML's coordinates, with a number in them
        hexed = stripped.removeprefix("\\x")
        if hexed[:2] in ("00", "01"):
            try:
                return _binary_geometry(bytes.fromhex(hexed))
            except ValueError:
                pass
        wkt = _SRID.sub("", stripped)
        try:
            return _has_coordinates(shapely.from_wkt(wkt, on_invalid="ignore"))
        except (shapely.errors.GEOSException, ValueError):
            # A curve GEOS does not read is still drawn: its structure was matched.
            return True


def _json_geometry(text: str) -> bool:
    """Whether JSON ``text`` holds, anywhere in it, an object with a "coordinates" member
    (its key in any case; escapes are decoded by the parser) holding a number."""
    try:
        document = json.loads(text)
    except ValueError:
        return False
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if str(key).lower() == "coordinates" and _holds_number(value):
                    return True
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _holds_number(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, int | float) and not isinstance(item, bool):
            return True
        if isinstance(item, list):
            stack.extend(item)
    return False


def _binary_geometry(value: bytes) -> bool:
    """Whether ``value`` is a GeoPackage geometry blob, SpatiaLite's BLOB-Geometry or WKB
    with a coordinate (bytes after a whole WKB geometry do not hide it: GEOS reads it)."""
    if value[:2] == b"GP":
        return any(blob.wkb is not None and _wkb_has_coordinates(blob.wkb)
                   for blob in find_blobs(value))  # fmt: skip
    if (
        len(value) > _SPATIALITE_MBR_END + 5
        and value[0] == 0x00
        and value[1] in (0, 1)
        and value[_SPATIALITE_MBR_END] == 0x7C
        and value[-1] == 0xFE
    ):
        return True
    end = wkb_end(value, 0) if value[:1] in (b"\x00", b"\x01") else None
    if end is not None:
        return _wkb_has_coordinates(value[:end])
    return False


def _wkb_has_coordinates(wkb: bytes) -> bool:
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore")
        try:
            geom = shapely.from_wkb(wkb, on_invalid="ignore")
        except (shapely.errors.GEOSException, NotImplementedError):
            # A structure walked to its end, in a form GEOS does not read (a curve).
            return True
    return _has_coordinates(geom)
