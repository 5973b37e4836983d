"""The text of a GML or GeoRSS document outside its features, which GDAL does not read.

GDAL's GML and GeoRSS drivers make a field of every element of a feature (nested ones
flattened, repeated ones listed), but of nothing outside the features: a collection's or
a channel's own elements (``<x:log>`` under a ``FeatureCollection`` or an RSS
``channel``), comments and processing instructions. GML's driver reads no XML attribute
either (``GML_ATTRIBUTES_TO_OGR_FIELDS`` is off) beyond a feature's id. Those are kept
here (``xml_unread.UnreadText``) to be met with where the features lie.

A GML feature is a child of a member element (``gml:featureMember``,
``gml:featureMembers``, ``wfs:member``, CityGML's ``cityObjectMember``); in a document
with none, where GDAL finds its features otherwise, the text outside them is not told
apart. A GeoRSS feature is an RSS ``item`` or an Atom ``entry``.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.readers.gml_envelopes import GML_NAMESPACES
from compliance.readers.xml_unread import UnreadText, XmlDialect

__all__ = ["OutsideFeatures", "georss_unread", "gml_unread"]

# Attributes GML's driver reads (a feature's id, a geometry's CRS and dimension) or that
# say how to read a geometry's numbers; any other attribute's value is kept.
_GML_ATTRIBUTES = frozenset(
    {"fid", "srsName", "srsDimension", "dimension", "count", "axisLabels", "uomLabels"}
    | {f"{ns} id" for ns in GML_NAMESPACES}
)
_NONE = XmlDialect(namespaces=frozenset(), attributes=frozenset(), strings=frozenset())


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


class OutsideFeatures(UnreadText):
    """``UnreadText`` for a driver that reads every element of a feature: the text
    outside the features, and attributes (inside them too unless ``read_inside``)."""

    def __init__(
        self,
        feature: Callable[[str, str | None], bool],
        read_attributes: frozenset[str],
        read_inside: bool,
    ) -> None:
        super().__init__(_NONE)
        self._feature = feature  # (element, parent element or None) -> is a feature
        self._read_attributes = read_attributes
        self._read_inside = read_inside
        # Per open element: its name, whether it is within a feature, its text outside.
        self._open: list[tuple[str, bool, list[str]]] = []
        self._outside: list[str] = []
        self.found = False  # whether any feature was told

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self._open[-1] if self._open else None
        inside = parent is not None and parent[1]
        if not inside and self._feature(name, parent[0] if parent else None):
            inside = self.found = True
        if not (inside and self._read_inside):
            for key, value in attrs.items():
                if key not in self._read_attributes:
                    self.keep(value)
        self._open.append((name, inside, []))

    def chars(self, data: str) -> None:
        if self._open and not self._open[-1][1]:
            self._open[-1][2].append(data)

    def end(self, _name: str) -> None:
        text = "".join(self._open.pop()[2]).strip()
        if text:
            self._outside.append(text)

    def finish(self) -> None:
        if self.found:
            for text in self._outside:
                self.keep(text)


def _gml_feature(_name: str, parent: str | None) -> bool:
    return parent is not None and _local(parent).lower().endswith(("member", "members"))


def gml_unread() -> OutsideFeatures:
    """What GML's driver does not read: every attribute but ids and a geometry's CRS."""
    return OutsideFeatures(_gml_feature, _GML_ATTRIBUTES, read_inside=False)


def _georss_feature(name: str, _parent: str | None) -> bool:
    return _local(name) in ("item", "entry")


def georss_unread() -> OutsideFeatures:
    """What GeoRSS's driver does not read: all outside the items (or Atom entries)."""
    return OutsideFeatures(_georss_feature, frozenset(), read_inside=True)
