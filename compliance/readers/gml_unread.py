"""The text of a GML document that GDAL's GML driver does not read.

GDAL makes a field of every element of a feature (nested ones flattened, repeated ones
listed) but of no XML attribute (``GML_ATTRIBUTES_TO_OGR_FIELDS`` is off) beyond the
feature's id, nor of anything outside the features: a collection's own elements beside
its members (``<x:log>`` under the ``FeatureCollection``), comments and processing
instructions. Those are kept here (``xml_unread.UnreadText``) to be met with where the
features lie. A feature is a child of a member element (``gml:featureMember``,
``gml:featureMembers``, ``wfs:member``, CityGML's ``cityObjectMember``); in a document
with none, where GDAL finds its features otherwise, the text outside them is not told
apart and only comments, instructions and attributes are kept.
"""

from __future__ import annotations

from compliance.readers.gml_envelopes import GML_NAMESPACES
from compliance.readers.xml_unread import UnreadText, XmlDialect

__all__ = ["GmlUnreadText"]

# Attributes GDAL reads (a feature's id, a geometry's CRS and dimension) or that say how
# to read a geometry's numbers; any other attribute's value is kept.
_READ_ATTRIBUTES = frozenset(
    {"fid", "srsName", "srsDimension", "dimension", "count", "axisLabels", "uomLabels"}
    | {f"{ns} id" for ns in GML_NAMESPACES}
)
_GML = XmlDialect(namespaces=frozenset(), attributes=frozenset(), strings=frozenset())


class GmlUnreadText(UnreadText):
    """``UnreadText`` for GML: attributes everywhere, and the text outside features."""

    def __init__(self) -> None:
        super().__init__(_GML)
        # Per open element: whether it is within a feature, whether it is a member
        # element (its children are features), and its text outside features.
        self._open: list[tuple[bool, bool, list[str]]] = []
        self._outside: list[str] = []  # kept only if the document has member elements
        self._members = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        for key, value in attrs.items():
            if key not in _READ_ATTRIBUTES:
                self.keep(value, "attributes")
        inside = bool(self._open) and (self._open[-1][0] or self._open[-1][1])
        member = name.rpartition(" ")[2].lower().endswith(("member", "members"))
        self._members = self._members or member
        self._open.append((inside, member, []))

    def chars(self, data: str) -> None:
        if self._open and not self._open[-1][0]:
            self._open[-1][2].append(data)

    def end(self, _name: str) -> None:
        text = "".join(self._open.pop()[2]).strip()
        if text:
            self._outside.append(text)

    def finish(self) -> None:
        if self._members:
            for text in self._outside:
                self.keep(text, "elements outside the features")
