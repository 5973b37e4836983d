"""The features a FlatGeobuf file holds, walked from its bytes.

A FlatGeobuf file is a magic number (``fgb``, major version, ``fgb``, patch), the size of
its header, the header (a flatbuffer ``Header`` table: ``geometry_type`` is field 2,
``features_count`` field 8, ``index_node_size`` field 9, default 16), then, when the
header counts features and gives a node size, a packed Hilbert R-tree of 40-byte nodes
(its leaves last, each ending with the offset of its feature from the first one), and the
features, each a flatbuffer led by its size (uint32). GDAL reads as many features as the
header counts, one after the other (all of them, to the end of the file, when it counts
0). The walk here follows the sizes to the end of the file (``record_chain``: the chain
the index's leaves predict is checked at once, the rest feature by feature).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compliance.readers.raw.fgb_geometry import fgb_geometry
from compliance.readers.raw.flatbuffer_tables import Table
from compliance.readers.raw.record_chain import RecordLayout, walk_records

__all__ = ["FgbRecords", "fgb_records", "fgb_shapes"]

_NODE_BYTES = 40  # a node's box (four doubles) and the offset of what it points to
_FEATURE = RecordLayout("<u4", field=0, lead=4, unit=1, least=1)


@dataclass
class FgbRecords:
    """What the walk found: the header's count and geometry type, and where each feature
    starts (its size prefix), in file order."""

    features_count: int
    geometry_type: int
    starts: np.ndarray
    damaged: str | None = None  # why the walk stopped short of the end of the file


def _tree_nodes(count: int, node_size: int) -> int:
    """How many nodes the packed R-tree of ``count`` features has (GDAL's
    ``PackedRTree::size`` over 40 bytes); 0 when there is none."""
    if node_size == 0 or count == 0:
        return 0
    node_size = max(node_size, 2)
    level = nodes = count
    while True:  # at least one level above the leaves: a single feature has a root too
        level = (level + node_size - 1) // node_size
        nodes += level
        if level == 1:
            return nodes


def _header(head: bytes) -> tuple[int, int, int]:
    """The header's features_count, index_node_size and geometry_type."""
    table = Table.root(head)
    return table.scalar(8, "<Q", 0), table.scalar(9, "<H", 16), table.scalar(2, "<B", 0)


def _leaf_offsets(path: Path, index_at: int, nodes: int, count: int, size: int) -> np.ndarray:
    """Where the index's leaves put the features, sorted (offsets from the first one)."""
    leaves_at = index_at + (nodes - count) * _NODE_BYTES
    if leaves_at + count * _NODE_BYTES > size:
        return np.zeros(0, dtype=np.int64)
    view = np.memmap(path, dtype=np.uint8, mode="r", offset=leaves_at, shape=count * _NODE_BYTES)
    offsets = np.array(view.reshape(count, _NODE_BYTES)[:, 32:]).view("<u8").reshape(-1)
    offsets = offsets[offsets < size].astype(np.int64)
    # GDAL writes the features in the leaves' order: sorting is rarely needed.
    return offsets if np.all(offsets[1:] > offsets[:-1]) else np.sort(offsets)


def fgb_records(path: Path) -> FgbRecords:
    """Walk the features of the FlatGeobuf file at ``path``. A size that reaches past the
    end of the file, or stray bytes after the last feature, stop the walk (``damaged``):
    what lies past them is not known."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        magic = f.read(12)
        if len(magic) < 12 or magic[:3] != b"fgb" or magic[4:7] != b"fgb":
            raise ValueError("not a FlatGeobuf file")
        header_size = struct.unpack_from("<I", magic, 8)[0]
        if 12 + header_size > size:
            raise ValueError("its header runs past the end of the file")
        count, node_size, kind = _header(f.read(header_size))
    index_at = 12 + header_size
    nodes = _tree_nodes(count, node_size)
    first = index_at + nodes * _NODE_BYTES
    if first > size:
        return FgbRecords(count, kind, np.zeros(0, dtype=np.int64), "its index runs past its end")
    hint = _leaf_offsets(path, index_at, nodes, count, size) + first if nodes else np.zeros(0)
    walk = walk_records(path, first, hint, _FEATURE)
    return FgbRecords(count, kind, walk.starts, walk.damaged)


def fgb_shapes(path: Path, starts: np.ndarray, geometry_type: int) -> np.ndarray:
    """The geometries of the features that start at ``starts`` (as walked by
    ``fgb_records``): None where one cannot be rebuilt, an empty geometry where a feature
    has none. ``geometry_type``: the header's."""
    out = np.empty(len(starts), dtype=object)
    with path.open("rb") as f:
        for i, start in enumerate(starts):
            f.seek(int(start))
            length = struct.unpack("<I", f.read(4))[0]
            feature = f.read(length)
            out[i] = fgb_geometry(feature, geometry_type) if len(feature) == length else None
    return out
