"""What a KML document says that GDAL's LIBKML driver does not pass on.

LIBKML reads a GroundOverlay's LatLonBox as an unrotated box: an overlay turned by its
``rotation`` covers ground outside that box, near its corners, which the box alone would
leave unchecked. And a KMZ is an archive: LIBKML reads one of its documents (the first
``.kml`` member) and, when that document's top folder links other members with
NetworkLinks, those members instead of the document's own features; any other member
(a GeoTIFF, a CSV of positions, a KML no link of that kind names) leaves with it unread.
This pass reads each document's XML once for both: each overlay's box and rotation, the
icons its styles draw, its top links, and whether LIBKML reads all its features.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.parsers import expat

import numpy as np
import shapely

from compliance.readers.archive import is_resource_fork, is_zip
from compliance.readers.kml_views import PlacemarkViews
from compliance.readers.xml_unread import KML, UnreadText, parser_for

__all__ = [
    "KmlDocument",
    "read_kml_document",
    "unreferenced_members",
]

_CHUNK = 1 << 20
_MAX_BYTES = 1 << 30  # a document larger than this (inflated from a KMZ) is not read through
_BOX_EDGES = ("north", "south", "east", "west", "rotation")
_FEATURES = frozenset(
    {"Document", "Folder", "Placemark", "NetworkLink", "GroundOverlay", "ScreenOverlay",
     "PhotoOverlay", "Tour"}
)  # fmt: skip
_CONTAINERS = frozenset({"Document", "Folder"})
# What LIBKML reads at the top of a document: a folder, or a lone placemark or overlay.
_READABLE_TOPS = _CONTAINERS | {"Placemark", "GroundOverlay"}


@dataclass
class KmlDocument:
    # Per turned GroundOverlay: a lon/lat box that holds it as turned.
    rotated_overlays: list[shapely.Polygon] = field(default_factory=list)
    # The hrefs of the icons its styles draw at points (IconStyle's Icon, ItemIcon).
    icons: set[str] = field(default_factory=set)
    # The href of each NetworkLink directly in its top folder, as written.
    links: list[str] = field(default_factory=list)
    # Whether LIBKML reads its features at all (it needs a folder, placemark or overlay
    # on top), and whether some are where it does not look: under a second top element
    # (it keeps the last), or under an element that is not a folder (an Update, a Tour).
    readable: bool = False
    stray_features: bool = False
    # Features in the top folder besides its NetworkLinks.
    own_features: bool = False
    # In a KMZ: the members LIBKML reads as documents, every feature of them.
    documents_read: set[str] = field(default_factory=set)
    # Placemarks holding a view, region, model or address off their geometry, and views
    # and regions outside placemarks off what the document draws or too many (kml_views).
    unplaced_views: int = 0
    # The text LIBKML does not read (xml_unread); None when there was too much to keep.
    unread_text: list[str] | None = field(default_factory=list)


class _Scan:
    def __init__(self) -> None:
        self.doc = KmlDocument()
        self.path: list[str] = []
        self.text: list[str] = []
        self.box: dict[str, float] = {}
        self.top = -1  # depth of the top element LIBKML reads; -1 before it starts
        self.tops = 0
        self.views = PlacemarkViews()
        self.unread = UnreadText(KML)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.unread.start(name, attrs)
        local = name.rpartition(" ")[2]
        depth = len(self.path)
        self.path.append(local)
        self.text = []
        self.views.start(local, depth)
        if local == "LatLonBox":
            self.box = {}
        if local in _FEATURES:
            self._feature(local, depth)

    def _feature(self, local: str, depth: int) -> None:
        if depth == 0 or (depth == 1 and self.path[0] == "kml"):
            # LIBKML keeps the last top element: the features of one before it are lost.
            self.tops += 1
            self.top = depth
            self.doc.readable = local in _READABLE_TOPS and (depth == 1 or local in _CONTAINERS)
            self.doc.stray_features = self.doc.stray_features or self.tops > 1
            self.doc.links, self.doc.own_features = [], False
        elif self.top < 0 or not all(p in _CONTAINERS for p in self.path[self.top : depth]):
            self.doc.stray_features = True
        elif local == "NetworkLink" and depth == self.top + 1:
            self.doc.links.append("")
        else:
            self.doc.own_features = True

    def chars(self, data: str) -> None:
        self.text.append(data)
        self.unread.chars(data)

    def end(self, name: str) -> None:
        self.unread.end(name)
        local = self.path.pop()
        raw = "".join(self.text)
        text = raw.strip()
        self.text = []
        self.views.end(local, text, self.path)
        if local == "href":
            self._href(raw, text)
        elif local in _BOX_EDGES and self.path and self.path[-1] == "LatLonBox":
            try:
                self.box[local] = float(text)
            except ValueError:
                self.box[local] = float("nan")
        elif local == "LatLonBox" and self.path and self.path[-1] == "GroundOverlay":
            reach = _turned_reach(self.box)
            if reach is not None:
                self.doc.rotated_overlays.append(reach)

    def _href(self, raw: str, text: str) -> None:
        where = self.path[-3:]
        if where[-2:] in (["IconStyle", "Icon"], ["ListStyle", "ItemIcon"]) and text:
            self.doc.icons.add(text)
        elif (
            len(self.path) == self.top + 3
            and where[-2:] in (["NetworkLink", "Link"], ["NetworkLink", "Url"])
            and self.doc.links
        ):
            self.doc.links[-1] = raw  # LIBKML takes the text as it is, spaces and all


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


def _main_document(names: list[str]) -> str | None:
    """The KMZ member LIBKML reads as the document: the first (in the archive's own order)
    whose name ends in ``.kml``, as written; doc.kml only by convention."""
    return next((n for n in names if n.endswith(".kml")), None)


def _linked_member(href: str) -> str | None:
    """The member LIBKML reads for a NetworkLink in a KMZ's top folder: its href up to any
    ``#``, unless it has a scheme (``...://``); None when it reads none. LIBKML takes the
    href as written: ``./a.kml`` does not name the member a.kml, yet counts as a link."""
    if href.find("://") > 0:
        return None
    return href.partition("#")[0] or None


def _archive_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [i.filename for i in archive.infolist() if not i.is_dir()]


def unreferenced_members(path: Path, doc: KmlDocument | None, opened: set[str]) -> list[str]:
    """Members of a KMZ that no reader reads: neither a document LIBKML reads whole nor a
    member ``opened`` (an overlay's image, an icon). When the document could not be read
    through (``doc`` None), every one."""
    read = (doc.documents_read if doc is not None else set()) | opened
    return [m for m in _archive_names(path) if m not in read and not is_resource_fork(m)]


def _scan_stream(stream: IO[bytes]) -> KmlDocument | None:
    scan = _Scan()
    parser = parser_for(scan.unread)
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.chars
    read = 0
    try:
        while chunk := stream.read(_CHUNK):
            read += len(chunk)
            if read > _MAX_BYTES:
                return None
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, OSError, EOFError, zipfile.BadZipFile):
        return None
    scan.views.finish()
    scan.doc.unplaced_views = scan.views.unplaced
    scan.unread.finish()
    scan.doc.unread_text = None if scan.unread.overflow else scan.unread.parts
    return scan.doc


def read_kml_document(path: Path) -> KmlDocument | None:
    """The turned overlays, icons and links of a KML or KMZ; None when its XML cannot be
    read through (too large, damaged, or declaring entities). For a KMZ, the documents
    LIBKML reads are read too, and named in ``documents_read``."""
    if not is_zip(path):
        try:
            with path.open("rb") as f:
                return _scan_stream(f)
        except OSError:
            return None
    names = _archive_names(path)
    main = _main_document(names)
    with zipfile.ZipFile(path) as archive:
        doc = _scan_member(archive, main) if main is not None else None
        if doc is None or main is None:
            return None
        linked = [m for href in doc.links if (m := _linked_member(href)) is not None]
        whole = doc.readable and not doc.stray_features
        if whole and (not linked or not doc.own_features or main in linked):
            # Linked documents are read instead of its own features, itself among them.
            doc.documents_read.add(main)
        for member in dict.fromkeys(m for m in linked if m in names and m != main):
            other = _scan_member(archive, member)
            if other is not None and other.readable and not other.stray_features:
                doc.documents_read.add(member)
                doc.rotated_overlays += other.rotated_overlays
                doc.icons |= other.icons
                doc.unplaced_views += other.unplaced_views
                doc.unread_text = _joined(doc.unread_text, other.unread_text)
    return doc


def _scan_member(archive: zipfile.ZipFile, member: str) -> KmlDocument | None:
    try:
        with archive.open(member) as stream:
            return _scan_stream(stream)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return None  # encrypted, compressed in a way zipfile cannot inflate, or missing


def _joined(one: list[str] | None, other: list[str] | None) -> list[str] | None:
    return None if one is None or other is None else one + other
