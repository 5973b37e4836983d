"""Positions a KML placemark holds beside its geometry, which no reader takes for data.

A placemark may say where to look at it from (``LookAt``, ``Camera``), where it shows
(``Region``'s ``LatLonAltBox``), where its 3-D model stands (``Model``'s ``Location``)
or its ``address``. GDAL's KML readers pass over them all; a sender can write the
precise position of a coarsened feature there. So each such position must lie within
its placemark's geometry (the box of the coordinates it is drawn with, to 1e-6 degrees):
a view from straight above the feature does; a camera beside it, a region around it, a
view some metres off it (as Google Earth often saves one: a position finer than a
coarsened geometry, all the same), or any of them on a placemark without coordinates,
is counted, and holds the verdict for review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compliance.readers.geojson_unread import text_numbers

__all__ = ["PlacemarkViews"]

_ROOM = 1e-6  # degrees of round-off
# Element -> its parent, for the numbers that are a position's longitude or latitude.
_AXES = {
    ("LookAt", "longitude"): 0, ("LookAt", "latitude"): 1,
    ("Camera", "longitude"): 0, ("Camera", "latitude"): 1,
    ("Location", "longitude"): 0, ("Location", "latitude"): 1,
}  # fmt: skip
_BOX = {"west": (0, 0), "south": (0, 1), "east": (1, 0), "north": (1, 1)}  # corner, axis
_DRAWN = frozenset({"coordinates", "coord"})  # a geometry's tuples (gx:Track's coord too)


@dataclass
class _Placemark:
    depth: int
    views: list[list[float]] = field(default_factory=list)  # lon, lat
    drawn: list[list[float]] = field(default_factory=list)
    open_view: list[float] = field(default_factory=lambda: [float("nan")] * 2)
    corners: list[list[float]] = field(default_factory=list)
    addressed: bool = False  # an address holding two numbers the size of coordinates


class PlacemarkViews:
    """Fed a KML scan's events; ``unplaced``: the placemarks holding a position off
    their geometry."""

    def __init__(self) -> None:
        self.unplaced = 0
        self._placemark: _Placemark | None = None

    def start(self, local: str, depth: int) -> None:
        if local == "Placemark" and self._placemark is None:
            self._placemark = _Placemark(depth)
        elif self._placemark is not None and local in ("LookAt", "Camera", "Location"):
            self._placemark.open_view = [float("nan")] * 2
        elif self._placemark is not None and local == "LatLonAltBox":
            self._placemark.corners = [[float("nan")] * 2, [float("nan")] * 2]

    def end(self, local: str, text: str, parents: list[str]) -> None:
        """An element's end: its text, and the names of the elements it is in."""
        mark = self._placemark
        if mark is None:
            return
        parent = parents[-1] if parents else ""
        if (parent, local) in _AXES:
            mark.open_view[_AXES[parent, local]] = _number(text)
        elif local in ("LookAt", "Camera", "Location"):
            if any(v == v for v in mark.open_view):  # a view of heading and range alone: none
                mark.views.append(mark.open_view)
        elif parent == "LatLonAltBox" and local in _BOX and mark.corners:
            corner, axis = _BOX[local]
            mark.corners[corner][axis] = _number(text)
        elif local == "LatLonAltBox":
            mark.views += [c for c in mark.corners if any(v == v for v in c)]
        elif local == "address":
            mark.addressed = mark.addressed or len(text_numbers(text)) >= 2
        elif local in _DRAWN:
            mark.drawn += _tuples(text, comma=local == "coordinates")
        elif local == "Placemark" and len(parents) == mark.depth:
            self.unplaced += _off(mark)
            self._placemark = None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _tuples(text: str, comma: bool) -> list[list[float]]:
    """``lon,lat[,alt]`` tuples apart by blanks (``coordinates``); one ``lon lat alt``
    (gx:Track's ``coord``)."""
    if not comma:
        return [[_number(n) for n in text.split()[:2]]]
    return [[_number(n) for n in t.split(",")[:2]] for t in text.split()]


def _off(mark: _Placemark) -> bool:
    """Whether a placemark holds a position outside its geometry's box."""
    if mark.addressed:
        return True
    if not mark.views:
        return False
    drawn = [t for t in mark.drawn if len(t) == 2 and all(v == v for v in t)]
    if not drawn:
        return True  # positions, and no geometry to be the positions of
    west, east = min(t[0] for t in drawn) - _ROOM, max(t[0] for t in drawn) + _ROOM
    south, north = min(t[1] for t in drawn) - _ROOM, max(t[1] for t in drawn) + _ROOM
    return any(not (west <= lon <= east and south <= lat <= north) for lon, lat in mark.views)
