"""What an OpenStreetMap PBF file holds that GDAL's OSM driver does not read.

The rules are those of OSM XML (``osm_unread``): GDAL draws a node only when it has a
significant tag, a way only when it has a tag or belongs to a relation, and every
relation; an untagged node that no drawn way or relation takes in is a position no layer
holds, and the values of the tags it ignores (``note``, ``fixme``, ``source``...) pass it
by. A PBF file is read with libosmium (pyosmium) in three passes, so that what is kept
stays small whatever the file's size: the relations (the ways and nodes they draw), the
ways (the nodes a drawn way takes in, in a sparse id set), then the nodes. Each loose
node is kept as ``lat lon id`` text (``xml_unread.UnreadText``), to be met with where the
features lie.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compliance.readers.osm_unread import OSM, ignored_tag, significant_node
from compliance.readers.xml_unread import UnreadText

__all__ = ["pbf_unread_text"]


def pbf_unread_text(path: Path) -> list[str] | None:
    """The PBF file's loose nodes and ignored tag values, as text; None when it cannot be
    looked through (libosmium refuses it, or there is too much to keep)."""
    try:
        import osmium
        from osmium.index import IdSet
    except ImportError:  # without libosmium the file is not looked through, and says so
        return None
    unread = UnreadText(OSM)
    ways, drawn = IdSet(), IdSet()

    def each(kind: Any) -> Iterable[Any]:
        return osmium.FileProcessor(str(path), kind)

    try:
        for relation in each(osmium.osm.RELATION):
            _keep_ignored(unread, relation.tags)
            for member in relation.members:  # a relation's own members ("r") draw no node
                if member.type in ("n", "w"):
                    (drawn if member.type == "n" else ways).set(member.ref)
        for way in each(osmium.osm.WAY):
            _keep_ignored(unread, way.tags)
            if len(way.tags) or way.id in ways:
                for node in way.nodes:
                    drawn.set(node.ref)
        for node in each(osmium.osm.NODE):
            _keep_ignored(unread, node.tags)
            if not significant_node(tag.k for tag in node.tags) and node.id not in drawn:
                at = node.location
                unread.keep(f"{at.lat:.7f} {at.lon:.7f} {node.id}" if at.valid() else str(node.id))
            if unread.overflow:
                return None
    except (RuntimeError, ValueError, OSError):  # libosmium's errors on a damaged file
        return None
    return None if unread.overflow else unread.parts


def _keep_ignored(unread: UnreadText, tags: Iterable[Any]) -> None:
    for tag in tags:
        if ignored_tag(tag.k):
            unread.keep(f"{tag.k} {tag.v}")
