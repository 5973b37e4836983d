"""What a KML document says that GDAL's LIBKML driver does not pass on.

LIBKML reads a GroundOverlay's LatLonBox as an unrotated box: an overlay turned by its
``rotation`` covers ground outside that box, near its corners, which the box alone would
leave unchecked. And a KMZ is an archive: files in it that the document does not refer
to (a GeoTIFF, a CSV of positions) leave with it unread. This pass reads the document's
XML once for both: every ``href`` it refers to, and each overlay's box and rotation.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.parsers import expat

import numpy as np
import shapely

from compliance.readers.archive import is_resource_fork, is_zip

__all__ = [
    "KmlDocument",
    "read_kml_document",
    "unreferenced_members",
]

_CHUNK = 1 << 20
_MAX_BYTES = 1 << 30  # a document larger than this (inflated from a KMZ) is not read through
_BOX_EDGES = ("north", "south", "east", "west", "rotation")


@dataclass
class KmlDocument:
    hrefs: set[str] = field(default_factory=set)
    # Per turned GroundOverlay: a lon/lat box that holds it as turned.
    rotated_overlays: list[shapely.Polygon] = field(default_factory=list)


class _Scan:
    def __init__(self) -> None:
        self.doc = KmlDocument()
        self.path: list[str] = []
        self.text: list[str] = []
        self.box: dict[str, float] = {}

    def start(self, name: str, _attrs: object) -> None:
        local = name.rpartition(" ")[2]
        self.path.append(local)
        self.text = []
        if local == "LatLonBox":
            self.box = {}

    def chars(self, data: str) -> None:
        self.text.append(data)

    def end(self, name: str) -> None:
        local = self.path.pop()
        text = "".join(self.text).strip()
        self.text = []
        if local == "href" and text:
            self.doc.hrefs.add(text)
        elif local in _BOX_EDGES and self.path and self.path[-1] == "LatLonBox":
            try:
                self.box[local] = float(text)
            except ValueError:
                self.box[local] = float("nan")
        elif local == "LatLonBox" and self.path and self.path[-1] == "GroundOverlay":
            reach = _turned_reach(self.box)
            if reach is not None:
                self.doc.rotated_overlays.append(reach)


def _turned_reach(box: dict[str, float]) -> shapely.Polygon | None:
    """A lon/lat box that holds the LatLonBox turned by its rotation about its centre, or
    None when the overlay is not turned. A box that cannot be read reaches everywhere.

    KML does not say in which plane the image turns: the box holds it turned in the plane
    of longitude and latitude and turned on the ground (in a local plane of equal metres).
    """
    rotation = box.get("rotation", 0.0)
    if rotation == 0.0:
        return None
    edges = [box.get(k, float("nan")) for k in ("west", "south", "east", "north")]
    if not np.isfinite(edges).all() or not np.isfinite(rotation):
        return shapely.box(-180.0, -90.0, 180.0, 90.0)
    west, south, east, north = edges
    cx, cy = (west + east) / 2, (south + north) / 2
    x = np.array([-1.0, 1.0, 1.0, -1.0]) * (east - west) / 2
    y = np.array([-1.0, -1.0, 1.0, 1.0]) * (north - south) / 2
    cos, sin = np.cos(np.radians(rotation)), np.sin(np.radians(rotation))
    # Degrees of longitude per degree of latitude on the ground, near the centre.
    k = max(float(np.cos(np.radians(min(abs(cy), 89.0)))), 1e-3)
    turned_x = np.concatenate([x * cos - y * sin, (x * k * cos - y * sin) / k])
    turned_y = np.concatenate([x * sin + y * cos, x * k * sin + y * cos])
    return shapely.box(
        cx + turned_x.min(),
        max(cy + turned_y.min(), -90.0),
        cx + turned_x.max(),
        min(cy + turned_y.max(), 90.0),
    )


def _main_document(path: Path) -> str | None:
    """The KMZ member LIBKML reads as the document: doc.kml, else the first .kml."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
    if "doc.kml" in names:
        return "doc.kml"
    return names[0] if names else None


def unreferenced_members(path: Path, doc: KmlDocument | None) -> list[str]:
    """Members of a KMZ that its document neither is nor refers to: they leave with it
    unread. When the document could not be read through (``doc`` None), every other one."""
    with zipfile.ZipFile(path) as archive:
        members = [i.filename for i in archive.infolist() if not i.is_dir()]
    main = _main_document(path)
    referred = {h.removeprefix("./") for h in doc.hrefs} if doc is not None else set()
    return [m for m in members if m != main and m not in referred and not is_resource_fork(m)]


@contextmanager
def _open_document(path: Path) -> Iterator[IO[bytes] | None]:
    if not is_zip(path):
        with path.open("rb") as f:
            yield f
        return
    member = _main_document(path)
    if member is None:
        yield None
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as f:
        yield f


def _refuse_entities(*_args: object) -> None:
    raise ValueError("the document declares XML entities")


def read_kml_document(path: Path) -> KmlDocument | None:
    """The hrefs and rotated overlays of a KML or KMZ; None when its XML cannot be read
    through (too large, damaged, or declaring entities)."""
    scan = _Scan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.chars
    parser.EntityDeclHandler = _refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    read = 0
    try:
        with _open_document(path) as stream:
            if stream is None:
                return None
            while chunk := stream.read(_CHUNK):
                read += len(chunk)
                if read > _MAX_BYTES:
                    return None
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, OSError, EOFError, zipfile.BadZipFile):
        return None
    return scan.doc
