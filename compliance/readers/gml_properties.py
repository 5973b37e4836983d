"""Which properties of a GML file's features hold a geometry, found by reading the XML.

GDAL's GML driver, given no application schema or .gfs that names them, keeps one geometry
property per feature type and drops the others without a word. A feature drawn as a coarse
outline with a precise position beside it would be checked by its outline alone, while
both leave the country with the file. This pass lists every geometry property so that the
ones GDAL does not expose can be named, and the verdict held.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import BinaryIO, cast
from xml.parsers import expat

from compliance.readers.gml_envelopes import GML_NAMESPACES, FeatureEnvelopes
from compliance.readers.outside_features import gml_unread
from compliance.readers.xml_unread import parser_for

__all__ = [
    "geometry_properties",
    "GmlScan",
    "scan_gml",
]

# The GML geometry elements GDAL reads (GML 2 and 3, simple features and their curves).
_GEOMETRIES = frozenset(
    {
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "Box",
        "Envelope",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "MultiCurve",
        "MultiSurface",
        "MultiSolid",
        "MultiGeometry",
        "Curve",
        "CompositeCurve",
        "OrientableCurve",
        "Surface",
        "CompositeSurface",
        "OrientableSurface",
        "PolyhedralSurface",
        "TriangulatedSurface",
        "Tin",
        "Solid",
        "CompositeSolid",
        "GeometricComplex",
    }
)
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class GmlScan:
    """Feature type -> names of its properties that directly hold a GML geometry; and the
    features whose own envelope is not their box (``gml_envelopes``)."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, str]] = []  # (namespace, local name) of open elements
        self.found: dict[str, set[str]] = {}
        self.envelopes = FeatureEnvelopes()
        self.unread = gml_unread()

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.unread.start(name, attrs)
        namespace, _, local = name.rpartition(" ")
        stack = self.stack
        self.envelopes.start(namespace, local, attrs, stack)
        # A geometry whose parent is not GML is a property's value: <site><location><Point>.
        if (
            namespace in GML_NAMESPACES
            and local in _GEOMETRIES
            and len(stack) >= 2
            and stack[-1][0] not in GML_NAMESPACES
        ):
            self.found.setdefault(stack[-2][1], set()).add(stack[-1][1])
        stack.append((namespace, local))

    def data(self, text: str) -> None:
        self.envelopes.data(text)
        self.unread.chars(text)

    def end(self, name: str) -> None:
        self.unread.end(name)
        namespace, _, local = name.rpartition(" ")
        self.envelopes.end(namespace, local, self.stack)
        self.stack.pop()


def geometry_properties(path: Path) -> dict[str, set[str]] | None:
    """Per feature type, the properties that hold a geometry; None when the file cannot be
    read through as XML (GDAL's own reading decides whether it is readable at all)."""
    scan = scan_gml(path)
    return None if scan is None else scan.found


def scan_gml(path: Path) -> GmlScan | None:
    """The file's geometry properties and feature envelopes, read in one pass; None when it
    cannot be read through as XML."""
    scan = GmlScan()
    parser = parser_for(scan.unread)  # entities refused: declaring them is how XML bombs start
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.data
    try:
        with path.open("rb") as raw:
            packed = raw.read(2) == _GZIP_MAGIC
            stream = cast(BinaryIO, gzip.GzipFile(fileobj=raw) if packed else raw)
            raw.seek(0)
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, OSError, EOFError, gzip.BadGzipFile):
        return None
    scan.unread.finish()
    return scan
