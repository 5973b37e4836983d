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

A document says the same outside its placemarks: where to look at a folder or the
whole document from, a region for a folder or a link, and a tour's flight (``gx:Tour``,
each ``gx:FlyTo`` a ``LookAt`` or ``Camera``), which can be a precise track no reader
reads. Each such position must lie within the box of everything the document draws (its
geometries, its overlays' boxes and quads), and views and cameras outside placemarks
may be a few (``FEW_NUMBERS``' worth: a document's and its folders' own views) but no
more: past that, or off that box, each counts.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from compliance.readers.geojson_unread import FEW_NUMBERS, text_numbers

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
    their geometry, and (after ``finish``) the views and regions outside placemarks that
    count."""

    def __init__(self) -> None:
        self.unplaced = 0
        self._placemark: _Placemark | None = None
        # Outside placemarks: each view's lon, lat; each region's corners (lon, lat twice).
        self._views = array("d")
        self._regions = array("d")
        self._open = [float("nan")] * 4
        # The box of everything the document draws: west, south, east, north.
        self._drawn = [float("inf"), float("inf"), float("-inf"), float("-inf")]
        self._overlay_box = [float("nan")] * 4

    def start(self, local: str, depth: int) -> None:
        if local == "LatLonBox":
            self._overlay_box = [float("nan")] * 4
        if self._placemark is None:
            if local == "Placemark":
                self._placemark = _Placemark(depth)
            elif local in ("LookAt", "Camera", "LatLonAltBox"):
                self._open = [float("nan")] * 4
        elif local in ("LookAt", "Camera", "Location"):
            self._placemark.open_view = [float("nan")] * 2
        elif local == "LatLonAltBox":
            self._placemark.corners = [[float("nan")] * 2, [float("nan")] * 2]

    def end(self, local: str, text: str, parents: list[str]) -> None:
        """An element's end: its text, and the names of the elements it is in."""
        parent = parents[-1] if parents else ""
        self._draws(local, text, parent)
        mark = self._placemark
        if mark is None:
            self._loose(local, text, parent)
            return
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
        elif local == "Placemark" and len(parents) == mark.depth:
            self.unplaced += _off(mark)
            self._placemark = None

    def _draws(self, local: str, text: str, parent: str) -> None:
        """Grow the box of what the document draws by a geometry's tuples or an
        overlay's box."""
        if local in _DRAWN:
            drawn = [t for t in _tuples(text, comma=local == "coordinates") if len(t) == 2]
            if self._placemark is not None:
                self._placemark.drawn += drawn
            if drawn:
                self._grow(min(t[0] for t in drawn), min(t[1] for t in drawn))
                self._grow(max(t[0] for t in drawn), max(t[1] for t in drawn))
        elif parent == "LatLonBox" and local in _BOX:
            corner, axis = _BOX[local]
            self._overlay_box[2 * corner + axis] = _number(text)
        elif local == "LatLonBox":
            self._grow(*self._overlay_box[:2])
            self._grow(*self._overlay_box[2:])

    def _grow(self, lon: float, lat: float) -> None:
        if lon == lon and lat == lat:
            box = self._drawn
            box[0], box[1] = min(box[0], lon), min(box[1], lat)
            box[2], box[3] = max(box[2], lon), max(box[3], lat)

    def _loose(self, local: str, text: str, parent: str) -> None:
        """A view or region outside any placemark."""
        if (parent, local) in _AXES and parent != "Location":
            self._open[_AXES[parent, local]] = _number(text)
        elif parent == "LatLonAltBox" and local in _BOX:
            corner, axis = _BOX[local]
            self._open[2 * corner + axis] = _number(text)
        elif local in ("LookAt", "Camera") and any(v == v for v in self._open[:2]):
            self._views.extend(self._open[:2])
        elif local == "LatLonAltBox" and any(v == v for v in self._open):
            self._regions.extend(self._open)

    def finish(self) -> None:
        """Count the views and regions outside placemarks: each off the box of what the
        document draws, and every view once they are more than a few."""
        west, south = self._drawn[0] - _ROOM, self._drawn[1] - _ROOM
        east, north = self._drawn[2] + _ROOM, self._drawn[3] + _ROOM

        def off(values: array) -> int:
            pairs = [values[i : i + 2] for i in range(0, len(values), 2)]
            return sum(not (west <= lon <= east and south <= lat <= north) for lon, lat in pairs)

        views = len(self._views) // 2
        self.unplaced += views if len(self._views) > FEW_NUMBERS else off(self._views)
        regions = [self._regions[i : i + 4] for i in range(0, len(self._regions), 4)]
        self.unplaced += sum(off(r) > 0 for r in regions)
        self._views, self._regions = array("d"), array("d")


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
