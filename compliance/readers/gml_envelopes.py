"""Each GML feature's own ``gml:boundedBy``, met with the coordinates of its geometries.

A feature may carry its envelope (GML 2's ``gml:Box``, GML 3's ``gml:Envelope``), and
WFS servers often write one. GDAL reads the geometries and passes over the envelope, as
over a GeoJSON Feature's ``bbox``; a sender can set it to the precise box of a coarsened
feature. So each feature's envelope must be the box of the coordinates its geometries
are written with (in the order they are written: the same axes, whatever the CRS), to a
round-off; one that is not, one in another CRS than its geometries, or one on a feature
without coordinates, is counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["GML_NAMESPACES", "FeatureEnvelopes"]

# GML 2, 3.1 and 3.2 (and 3.3's additions).
GML_NAMESPACES = frozenset(
    {
        "http://www.opengis.net/gml",
        "http://www.opengis.net/gml/3.2",
        "http://www.opengis.net/gml/3.3",
    }
)
# Elements whose text is coordinates: a tuple list (``coordinates``), numbers grouped by
# the dimension (``pos``, ``posList``, the corners), or one axis (GML 2's ``coord``).
_TUPLES = "coordinates"
_GROUPED = frozenset({"pos", "posList", "lowerCorner", "upperCorner"})
_AXES = {"X": 0, "Y": 1, "Z": 2}
# How far apart two writings of one number may be: a writer may give the envelope fewer
# digits than the coordinates (a relative 1e-9: a centimetre in degrees, a millimetre in
# metres).
_ROUND_OFF = 1e-9


@dataclass
class _Feature:
    depth: int  # of the feature element in the stack
    in_envelope: bool = True  # found at its boundedBy's start
    envelopes: list[list[list[float]]] = field(default_factory=list)  # each one's corners
    envelope_srs: set[str] = field(default_factory=set)
    tuples: list[list[float]] = field(default_factory=list)  # its geometries' coordinates
    srs: set[str] = field(default_factory=set)


@dataclass
class _Text:
    kind: str  # "coordinates", "grouped" or an axis
    dimension: int
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)


class FeatureEnvelopes:
    """Fed an XML scan's events (``stack``: the open elements, each (namespace, local
    name)); ``unmatched``: the features whose envelope is not their coordinates' box."""

    def __init__(self) -> None:
        self.unmatched = 0
        self._features: list[_Feature] = []  # innermost last (a feature in a property)
        self._text: _Text | None = None
        self._coord: list[float] = []
        self._dimension: list[int] = []  # srsDimension in force, per open element

    def start(self, namespace: str, local: str, attrs: dict[str, str], stack: list) -> None:
        gml = namespace in GML_NAMESPACES
        inherited = self._dimension[-1] if self._dimension else 2
        self._dimension.append(_int(attrs.get("srsDimension"), inherited))
        if gml and local == "boundedBy" and len(stack) >= 2 and stack[-1][0] not in GML_NAMESPACES:
            if not self._features or self._features[-1].depth != len(stack) - 1:
                self._features.append(_Feature(len(stack) - 1))
            self._features[-1].in_envelope = True
            self._features[-1].envelopes.append([])
        if not self._features or not gml:
            return
        feature = self._features[-1]
        if (srs := attrs.get("srsName")) is not None:
            if feature.in_envelope:
                feature.envelope_srs.add(srs)
            else:
                feature.srs.add(srs)
        if local == _TUPLES:
            self._text = _Text("coordinates", self._dimension[-1], attrs)
        elif local in _GROUPED:
            self._text = _Text("grouped", self._dimension[-1], attrs)
        elif local in _AXES:
            self._text = _Text(local, self._dimension[-1], attrs)
        elif local == "coord":
            self._coord = []

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.parts.append(text)

    def end(self, namespace: str, local: str, stack: list) -> None:
        """Called with the element still on ``stack``."""
        self._dimension.pop()
        if not self._features:
            return
        feature = self._features[-1]
        gml = namespace in GML_NAMESPACES
        into = feature.envelopes[-1] if feature.in_envelope else feature.tuples
        if gml and self._text is not None and local in (_TUPLES, *_GROUPED, *_AXES):
            text, self._text = self._text, None
            if text.kind in _AXES:
                self._coord.append(_number("".join(text.parts)))
            else:
                into += _tuples(text)
        elif gml and local == "coord":
            into.append(self._coord)
        elif gml and local == "boundedBy" and len(stack) - 2 == feature.depth:
            feature.in_envelope = False
        elif len(stack) - 1 == feature.depth:
            self.unmatched += not _matches(self._features.pop())


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _tuples(text: _Text) -> list[list[float]]:
    raw = "".join(text.parts)
    if text.kind == "coordinates":  # GML 2: "x,y x,y", with its own separators
        cs, ts = text.attrs.get("cs", ","), text.attrs.get("ts", " ")
        decimal = text.attrs.get("decimal", ".")
        items = raw.split() if ts.isspace() else raw.split(ts)
        return [[_number(n.replace(decimal, ".")) for n in t.strip().split(cs)] for t in items]
    numbers = [_number(n) for n in raw.split()]
    step = max(text.dimension, 1)
    return [numbers[k : k + step] for k in range(0, len(numbers), step)]


def _matches(feature: _Feature) -> bool:
    """Whether each envelope of the feature (with numbers) is its box."""
    placed = [t for t in feature.tuples if len(t) >= 2]
    for envelope in feature.envelopes:
        corners = [t for t in envelope if len(t) >= 2]
        if not corners and not envelope:
            continue  # an envelope of no numbers (gml:Null) holds none
        if not placed or len(corners) != 2 or len(envelope) != 2:
            return False
        if feature.envelope_srs and feature.srs - feature.envelope_srs:
            return False  # another CRS than its geometries': not comparable, not read
        box = [min(t[0] for t in placed), min(t[1] for t in placed),
               max(t[0] for t in placed), max(t[1] for t in placed)]  # fmt: skip
        given = [*corners[0][:2], *corners[1][:2]]
        if not all(
            math.isclose(a, b, rel_tol=_ROUND_OFF, abs_tol=_ROUND_OFF)
            for a, b in zip(given, box, strict=True)
        ):
            return False
    return True
