"""The text an XML map document writes where its GDAL driver does not read it.

GDAL's GPX and KML drivers take positions from the parts that draw (``lat``/``lon``,
``coordinates``) and fields from a fixed set of elements. The rest of a document passes
them by: comments, processing instructions, elements of other namespaces, attributes
they have no field for, elements they make no field of (a KML style or ``styleUrl``, a
GPX ``extensions`` outside a point), a value that does not parse as its field's type
(``37.5123`` in an integer field keeps 37, ``1.5 2.5`` in a real one keeps 1.5), every
value but the last of a field given twice, a third GPX link, and, in KML, ``Data``
beside a ``Schema`` and ``SimpleData`` no schema declares. A precise position written
there leaves with the file unchecked beside features snapped coarse.

``UnreadText`` is fed a document's parse events and keeps that text (``parts``);
``compliance.measure`` meets its numbers with where the features lie. Parts another pass
judges (a KML view, region or address: ``kml_views``) are left to it. GML and GeoRSS,
whose drivers read every element of a feature, have their own account of what they pass
over (``outside_features``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.parsers import expat

__all__ = [
    "GPX", "KML", "MAX_UNREAD_CHARS", "NOT_LOOKED_THROUGH", "UnreadText", "XmlDialect",
    "parser_for", "unread_said", "unread_text",
]  # fmt: skip

# Past this much unread text a document is not looked through: it is said as such.
MAX_UNREAD_CHARS = 16 << 20
NOT_LOOKED_THROUGH = (
    "a document whose text GDAL does not read could not be looked through (XML it cannot "
    f"parse whole, declared entities, or more than {MAX_UNREAD_CHARS >> 20} MB of it)"
)
_CHUNK = 1 << 20
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class XmlDialect:
    """What a driver reads of a format's XML. Elements outside ``namespaces`` are read
    nowhere but as ``fields_under`` children; an element of them is read as a field of
    its type (the last of a name under one parent) or else not at all."""

    namespaces: frozenset[str]
    # Attributes read or said by the format: (element, attribute) local names.
    attributes: frozenset[tuple[str, str]]
    strings: frozenset[str]
    reals: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    times: frozenset[str] = frozenset()
    # (parent, element): an element whose children, of any namespace, are text fields.
    fields_under: frozenset[tuple[str, str]] = frozenset()
    # Element -> how many of it under one parent are read (GPX: two links).
    limited: tuple[tuple[str, int], ...] = ()
    # Subtrees another pass judges, skipped here.
    judged: frozenset[str] = frozenset()
    # A string element -> the parents it is a field under (one not named: under any).
    string_parents: tuple[tuple[str, frozenset[str]], ...] = ()
    kml: bool = False  # ExtendedData: Schema, SimpleData and Data


_GPX_POINTS = ("wpt", "rtept", "trkpt")
GPX = XmlDialect(
    namespaces=frozenset(
        {"", "http://www.topografix.com/GPX/1/1", "http://www.topografix.com/GPX/1/0"}
    ),
    attributes=frozenset(
        {(p, a) for p in _GPX_POINTS for a in ("lat", "lon")}
        | {("bounds", a) for a in ("minlat", "minlon", "maxlat", "maxlon")}
        | {
            ("gpx", "version"),
            ("gpx", "creator"),
            ("link", "href"),
            ("email", "id"),
            ("email", "domain"),
            ("copyright", "author"),
        }
    ),
    strings=frozenset(
        {
            "name",
            "cmt",
            "desc",
            "src",
            "sym",
            "type",
            "fix",
            "text",
            "keywords",
            "url",
            "urlname",
            "email",
            "author",
            "license",
        }
    ),
    reals=frozenset(
        {"ele", "magvar", "geoidheight", "hdop", "vdop", "pdop", "ageofdgpsdata", "course", "speed"}
    ),
    integers=frozenset({"sat", "dgpsid", "number", "year"}),
    times=frozenset({"time"}),
    fields_under=frozenset((p, "extensions") for p in (*_GPX_POINTS, "rte", "trk")),
    limited=(("link", 2),),
)

_KML_FEATURES = frozenset({"Placemark", "GroundOverlay"})
KML = XmlDialect(
    namespaces=frozenset(
        {
            "",
            "http://www.opengis.net/kml/2.2",
            "http://earth.google.com/kml/2.0",
            "http://earth.google.com/kml/2.1",
            "http://earth.google.com/kml/2.2",
            "http://www.google.com/kml/ext/2.2",
        }
    ),
    attributes=frozenset(
        {(f, "id") for f in _KML_FEATURES}
        | {
            ("SimpleData", "name"),
            ("Data", "name"),
            ("SimpleField", "name"),
            ("SimpleField", "type"),
            ("Schema", "name"),
            ("Schema", "id"),
            ("SchemaData", "schemaUrl"),
        }
    ),
    strings=frozenset({"name", "description"}),
    integers=frozenset({"visibility", "open", "tessellate", "extrude", "drawOrder"}),
    times=frozenset({"when", "begin", "end"}),
    # Positions read as geometry or judged by kml_views and kml_document.
    judged=frozenset(
        {
            "coordinates",
            "coord",
            "LookAt",
            "Camera",
            "Region",
            "Location",
            "address",
            "LatLonBox",
            "LatLonQuad",
        }
    ),
    string_parents=(("description", _KML_FEATURES),),
    kml=True,
)


@dataclass
class _Open:
    local: str
    mode: str  # "own", "unread", "fields" (GPX extensions), "field" (one of its children)
    name: str  # the element's name with its namespace, or a KML SimpleData's field
    text: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # a field child -> its last value
    counts: Counter[str] = field(default_factory=Counter)


class UnreadText:
    """Fed the events of an expat parse (``namespace_separator=" "``); ``parts``: the
    text its driver does not read, after ``finish``; ``overflow`` when there was too
    much to keep."""

    def __init__(self, dialect: XmlDialect) -> None:
        self.dialect = dialect
        self.parts: list[str] = []
        self.overflow = False
        self._size = 0
        self._stack: list[_Open] = []
        self._judged = 0  # depth inside a judged subtree
        self._limits = dict(dialect.limited)
        self._parents = dict(dialect.string_parents)
        self._declared: dict[str, str] = {}  # a KML SimpleField -> its type
        self._simple: list[tuple[str, str]] = []  # SimpleData name, text: met at the end
        self._data: list[str] = []  # Data values: read only beside no Schema
        self._schemas = False

    def keep(self, text: str) -> None:
        if not _DIGITS.intersection(text) or self.overflow:
            return
        self._size += len(text)
        if self._size > MAX_UNREAD_CHARS:
            self.overflow, self.parts = True, []
            return
        self.parts.append(text)

    def comment(self, data: str) -> None:
        self.keep(data)

    def instruction(self, target: str, data: str) -> None:
        self.keep(f"{target} {data}")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self._judged:
            self._judged += 1
            return
        space, _, local = name.rpartition(" ")
        own = space in self.dialect.namespaces
        if own and local in self.dialect.judged:
            self._judged = 1
            return
        mode = self._mode(own, local)
        for key, value in attrs.items():
            if mode == "unread" or " " in key or (local, key) not in self.dialect.attributes:
                self.keep(value)
        key = attrs.get("name", "") if local in ("SimpleData", "Data") else name
        self._stack.append(_Open(local, mode, key))
        if self.dialect.kml and own:
            self._schema(local, attrs)

    def _mode(self, own: bool, local: str) -> str:
        parent = self._stack[-1] if self._stack else None
        if parent is not None:
            parent.counts[local] += 1
            if parent.mode in ("unread", "field"):
                return "unread"
            if parent.mode == "fields":
                return "field"
        if not own:
            return "unread"
        if parent is not None and parent.counts[local] > self._limits.get(local, 1 << 62):
            return "unread"
        if (parent.local if parent else "", local) in self.dialect.fields_under:
            return "fields"
        return "own"

    def _schema(self, local: str, attrs: dict[str, str]) -> None:
        if local == "Schema":
            self._schemas = True
        elif local == "SimpleField":
            self._declared[attrs.get("name", "")] = attrs.get("type", "string").lower()

    def chars(self, data: str) -> None:
        if not self._judged:
            self._stack[-1].text.append(data)

    def end(self, _name: str) -> None:
        if self._judged:
            self._judged -= 1
            return
        element = self._stack.pop()
        text = "".join(element.text).strip()
        parent = self._stack[-1] if self._stack else None
        if element.mode == "field" and parent is not None:
            self._field(parent, element.name, text)
        elif element.mode == "own" and parent is not None:
            self._own(parent, element, text)
        else:
            self.keep(text)

    def _own(self, parent: _Open, element: _Open, text: str) -> None:
        local, dialect = element.local, self.dialect
        if dialect.kml and local == "SimpleData":
            self._field(parent, f"SimpleData {element.name}", text)  # the last is kept
            self._simple.append((element.name, text))
        elif dialect.kml and local == "value" and parent.local == "Data":
            self._data.append(text)
        elif local in dialect.strings and parent.local in self._parents.get(local, (parent.local,)):
            self._field(parent, element.name, text)
        elif _parses(text, local, dialect):
            self._field(parent, element.name, text)
        else:
            self.keep(text)

    def _field(self, parent: _Open, name: str, text: str) -> None:
        """A field's value: the last of a name under one parent is read, the one before lost."""
        before = parent.values.get(name)
        if before is not None:
            self.keep(before)
        parent.values[name] = text

    def finish(self) -> None:
        """Meet KML's extended data with the schemas the document declared."""
        for name, text in self._simple:
            kind = self._declared.get(name)
            if kind is None or not _typed(text, kind):
                self.keep(text)
        if self._schemas:
            for text in self._data:
                self.keep(text)


def _parses(text: str, local: str, dialect: XmlDialect) -> bool:
    if local in dialect.reals:
        return _typed(text, "double")
    if local in dialect.integers:
        return _typed(text, "int")
    if local in dialect.times:
        return _typed(text, "time")
    return False


def _typed(text: str, kind: str) -> bool:
    """Whether ``text`` reads whole as a value of ``kind`` (a KML SimpleField's type)."""
    if kind in ("string", ""):
        return True
    try:
        if kind in ("int", "uint", "short", "ushort", "bool"):
            int(text)
        elif kind in ("float", "double"):
            float(text)
        elif kind == "time":
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            return False
    except ValueError:
        return not text  # an empty value loses nothing
    return True


def parser_for(unread: UnreadText) -> expat.XMLParserType:
    """An expat parser (namespaces split by a blank, entities refused) feeding ``unread``."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = unread.start
    parser.EndElementHandler = unread.end
    parser.CharacterDataHandler = unread.chars
    parser.CommentHandler = unread.comment
    parser.ProcessingInstructionHandler = unread.instruction
    parser.EntityDeclHandler = _refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _refuse_entities(*_args: object) -> None:
    raise ValueError("the document declares XML entities")


def unread_said(parts: list[str] | None) -> tuple[list[str], list[str]]:
    """The unread text to meet with the features, and what is said unread outright: a
    document not looked through (``parts`` None)."""
    return ([], [NOT_LOOKED_THROUGH]) if parts is None else (parts, [])


def unread_text(path: Path, unread: UnreadText) -> list[str] | None:
    """The document at ``path`` parsed through ``unread``: its parts, or None when it
    cannot be looked through (XML expat refuses, entities, too much unread text)."""
    parser = parser_for(unread)
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
                if unread.overflow:
                    return None
            parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, OSError):
        return None
    unread.finish()
    return None if unread.overflow else unread.parts
