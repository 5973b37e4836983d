"""What an OpenStreetMap XML document holds that GDAL's OSM driver does not read.

GDAL draws a node as a point only when it has a significant tag (``created_by``,
``source``, ``ele`` and a few others are not), and a way only when it has a tag or
belongs to a relation (``report_all_nodes`` and ``report_all_ways`` are off in its
``osmconf.ini``; every relation is drawn, with its members). So an untagged node that no
drawn way or relation takes in is a position no layer holds: thirty precise ones beside tagged nodes snapped coarse leave
with the file unchecked. The values of the tags GDAL ignores (``note``, ``fixme``,
``source``...), the attributes it makes no field of, comments and unknown elements pass
it by too. Each is kept as text (``xml_unread.UnreadText``) to be met with where the
features lie.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.readers.xml_unread import UnreadText, XmlDialect

__all__ = ["OSM", "OsmUnreadText", "ignored_tag", "significant_node"]

_ELEMENTS = ("node", "way", "relation")
_EDITS = ("id", "version", "changeset", "uid", "user", "timestamp", "visible", "action")
OSM = XmlDialect(
    namespaces=frozenset({""}),
    # An element's id and its edit record (version, changeset, user, time) are OSM's own,
    # on every element of every export: GDAL reads them on request, and they are not met.
    attributes=frozenset(
        {(e, a) for e in _ELEMENTS for a in _EDITS}
        | {("node", "lat"), ("node", "lon"), ("tag", "k"), ("tag", "v"), ("nd", "ref")}
        | {("member", a) for a in ("type", "ref", "role")}
        | {("bounds", a) for a in ("minlat", "minlon", "maxlat", "maxlon", "origin")}
    ),
    strings=frozenset(),
)
# osmconf.ini's defaults: tags that do not make a node a point, and tags left out of the
# fields (a prefix ends with a colon).
_UNSIGNIFICANT = frozenset({"created_by", "converted_by", "source", "time", "ele", "attribution"})
_IGNORED = frozenset(
    {"created_by", "converted_by", "source", "time", "ele", "note", "todo", "fixme", "FIXME",
     "area"}
)  # fmt: skip
_IGNORED_PREFIXES = ("openGeoDB:",)


def ignored_tag(key: str) -> bool:
    """Whether GDAL leaves a tag of this key out of the fields (its value unread)."""
    return key in _IGNORED or key.startswith(_IGNORED_PREFIXES)


def significant_node(keys: Iterable[str]) -> bool:
    """Whether a node with tags of these keys is drawn as a point."""
    return any(key not in _UNSIGNIFICANT for key in keys)


# Past this many untagged nodes and way members kept, a document is not looked through.
_MOST_KEPT = 4_000_000


@dataclass
class _Element:
    kind: str
    id: str
    position: str = ""
    significant: bool = False  # a node drawn as a point, a way drawn as a line or area
    members: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)


class OsmUnreadText(UnreadText):
    """``UnreadText`` for OSM XML, with the nodes no drawn feature holds."""

    def __init__(self) -> None:
        super().__init__(OSM)
        self._element: _Element | None = None
        self._loose: dict[str, str] = {}  # untagged node id -> "lat lon id"
        self._ways: dict[str, _Element] = {}
        self._drawn: set[tuple[str, str]] = set()  # ways and nodes a relation draws
        self._kept = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        super().start(name, attrs)
        element = self._element
        if name in _ELEMENTS:
            position = f"{attrs.get('lat', '')} {attrs.get('lon', '')}"
            self._element = _Element(name, attrs.get("id", ""), position)
        elif element is not None and name == "tag":
            self._tag(element, attrs.get("k", ""), attrs.get("v", ""))
        elif element is not None and name in ("nd", "member"):
            element.members.append((attrs.get("type", "node"), attrs.get("ref", "")))
            self._count()

    def _tag(self, element: _Element, key: str, value: str) -> None:
        if ignored_tag(key):
            self.keep(f"{key} {value}")
        if element.kind != "node" or significant_node([key]):  # any tag draws a way
            element.significant = True

    def end(self, name: str) -> None:
        super().end(name)
        element = self._element
        if element is None or name != element.kind:
            return
        self._element = None
        if name == "node" and not element.significant:
            self._loose[element.id] = f"{element.position} {element.id}"
            self._count()
        elif name == "way":
            self._ways[element.id] = element
        elif name == "relation":
            self._drawn.update(element.members)

    def _count(self) -> None:
        self._kept += 1
        if self._kept > _MOST_KEPT:
            self.overflow = True

    def finish(self) -> None:
        super().finish()
        drawn_nodes = {ref for kind, ref in self._drawn if kind == "node"}
        for way in self._ways.values():
            if way.significant or ("way", way.id) in self._drawn:
                drawn_nodes.update(ref for _, ref in way.members)
        for node, text in self._loose.items():
            if node not in drawn_nodes:
                self.keep(text)
