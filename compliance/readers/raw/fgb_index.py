"""The header and the spatial index of a FlatGeobuf file, read from its bytes.

A FlatGeobuf file is a magic number (``fgb``, major version, ``fgb``, patch), the size of
its header, the header (a flatbuffer ``Header`` table: ``envelope`` is field 1,
``geometry_type`` field 2, ``features_count`` field 8, ``index_node_size`` field 9,
default 16), then, when the header counts features and gives a node size, a packed
Hilbert R-tree of 40-byte nodes, and the features.

The tree is written root first, level by level; its leaves come last, one per feature:
the feature's box and where it starts (from the first feature). Each node above them
holds the union of its children's boxes and the position of its first child in the tree
(GDAL's and the reference writers' ``PackedRTree``). Readers use the boxes only to find
features near a query, never as geometry: a box that is not its feature's carries
numbers (a precise position beside a coarsened feature) that no reader shows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compliance.readers.raw.flatbuffer_tables import Table

__all__ = ["FgbHeader", "fgb_header"]

_NODE = np.dtype([("box", "<f8", (4,)), ("offset", "<u8")])  # 40 bytes


@dataclass(frozen=True)
class FgbHeader:
    """What the header says, and where the index and the features start."""

    path: Path
    size: int  # of the file
    features_count: int
    node_size: int
    geometry_type: int
    envelope: np.ndarray | None
    index_at: int

    @property
    def nodes(self) -> int:
        """How many nodes the packed R-tree has (GDAL's ``PackedRTree::size`` over 40
        bytes); 0 when there is none."""
        return sum(self.levels())

    @property
    def first(self) -> int:
        """Where the first feature starts."""
        return self.index_at + self.nodes * _NODE.itemsize

    @property
    def fanout(self) -> int:
        """How many children a node has (the last of a level fewer); the writers raise a
        node size under 2 to 2."""
        return max(self.node_size, 2)

    def levels(self) -> list[int]:
        """How many nodes each level of the tree has, from the leaves up to the root."""
        if self.node_size == 0 or self.features_count == 0:
            return []
        sizes = [self.features_count]
        while True:  # at least one level above the leaves: a single feature has a root too
            sizes.append((sizes[-1] + self.fanout - 1) // self.fanout)
            if sizes[-1] == 1:
                return sizes

    def tree(self) -> np.ndarray:
        """The index's nodes, mapped from the file (root first); empty when the file
        has no index or its index runs past its end."""
        nodes = self.nodes
        if not nodes or self.first > self.size:
            return np.zeros(0, dtype=_NODE)
        return np.memmap(self.path, dtype=_NODE, mode="r", offset=self.index_at, shape=nodes)

    def leaf_offsets(self) -> np.ndarray:
        """Where the index's leaves put the features (byte offsets in the file), in the
        leaves' order; empty when there is no index."""
        nodes = self.tree()
        if not len(nodes):
            return np.zeros(0, dtype=np.int64)
        offsets = nodes["offset"][len(nodes) - self.features_count :]
        return offsets[offsets < self.size].astype(np.int64) + self.first


def fgb_header(path: Path) -> FgbHeader:
    """The header of the FlatGeobuf file at ``path``; ``ValueError`` when it is not one
    or its header cannot be read."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        magic = f.read(12)
        if len(magic) < 12 or magic[:3] != b"fgb" or magic[4:7] != b"fgb":
            raise ValueError("not a FlatGeobuf file")
        header_size = struct.unpack_from("<I", magic, 8)[0]
        if 12 + header_size > size:
            raise ValueError("its header runs past the end of the file")
        table = Table.root(f.read(header_size))
    return FgbHeader(
        path=path,
        size=size,
        features_count=table.scalar(8, "<Q", 0),
        node_size=table.scalar(9, "<H", 16),
        geometry_type=table.scalar(2, "<B", 0),
        envelope=table.numbers(1, "<f8"),
        index_at=12 + header_size,
    )
