"""Numbers a FlatGeobuf file's spatial index holds that are not its features'.

The index is a packed R-tree (``compliance.readers.raw.fgb_index``) whose every number
follows from the features: a leaf holds its feature's box and start, a node above holds
the union of its children's boxes and where its first child is, and the header's
envelope is the root's box. Readers use the index only to find features near a query,
so a sender can coarsen the features and keep their precise positions in the leaves (a
point's leaf box is the point), or write anything into the nodes: no reader shows them,
and they leave with the file. Every number is recomputed here from what it indexes and
must be the same, to the bit: the writers compute them as these checks do (GDAL's
``PackedRTree``, the reference implementations). The leaves are met with the features'
boxes as the scan reads them (``LeafBoxes``), the rest with the index itself
(``tree_faults``).
"""

from __future__ import annotations

import numpy as np

from compliance.arrays import box_unions, holds_no_number, rows_all
from compliance.readers.raw.fgb_index import FgbHeader

__all__ = ["LeafBoxes", "tree_faults"]


def _unions(children: np.ndarray, fanout: int) -> np.ndarray:
    """The box of each run of ``fanout`` children, as the writers expand an empty box
    (infinite, inverted) by each child's: a NaN bound never replaces one."""
    out = box_unions(children, np.arange(0, len(children), fanout))
    unset = np.isnan(out)
    out[:, :2][unset[:, :2]] = np.inf
    out[:, 2:][unset[:, 2:]] = -np.inf
    return out


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, whether two boxes hold the same numbers (NaN the same as NaN)."""
    return rows_all((a == b) | (np.isnan(a) & np.isnan(b)))


def _node_faults(header: FgbHeader, tree: np.ndarray) -> tuple[int, int]:
    """How many nodes above the leaves hold a box, and how many a position, other than
    their children's."""
    boxes, fanout = tree["box"], header.fanout
    wrong_boxes = wrong_offsets = 0
    end = len(tree)
    sizes = header.levels()
    for below, size in zip(sizes, sizes[1:], strict=False):
        child_at, at = end - below, end - below - size
        expected = _unions(np.asarray(boxes[child_at:end]), fanout)
        wrong_boxes += int(np.count_nonzero(~_same(np.asarray(boxes[at:child_at]), expected)))
        first_child = child_at + np.arange(size, dtype=np.uint64) * fanout
        wrong_offsets += int(np.count_nonzero(tree["offset"][at:child_at] != first_child))
        end = child_at
    return wrong_boxes, wrong_offsets


def tree_faults(header: FgbHeader, starts: np.ndarray) -> list[str]:
    """What the index and the header's envelope hold beyond what they index. ``starts``:
    where each feature starts, walked from the file (``fgb_records``)."""
    faults = []
    envelope = header.envelope
    if envelope is not None and len(envelope) > 8:
        faults.append(f"its header's envelope holds {len(envelope)} numbers")
    tree = header.tree()
    if not len(tree):
        return faults
    if (
        envelope is not None
        and len(envelope) >= 4
        and not _same(envelope[None, :4], tree["box"][:1])[0]
    ):
        faults.append("its header's envelope is not the box of its features")
    leaves = np.sort(header.leaf_offsets())
    count = header.features_count
    if len(leaves) != count or not np.array_equal(leaves, starts[:count]):
        faults.append("the leaves of its spatial index point where no feature starts")
    boxes, offsets = _node_faults(header, tree)
    if boxes:
        faults.append(f"{boxes} nodes of its spatial index hold boxes other than their children's")
    if offsets:
        faults.append(f"{offsets} nodes of its spatial index point elsewhere than their children")
    return faults


class LeafBoxes:
    """The box the spatial index keeps for each feature, met with the feature's own box as
    the scan reads the features (in file order, as GDAL reads a file it is not asked to
    search)."""

    def __init__(self, header: FgbHeader) -> None:
        tree = header.tree()
        self.count = header.features_count if len(tree) else 0
        leaves = tree[len(tree) - self.count :]
        offsets = np.asarray(leaves["offset"])
        # The writers put the features in the leaves' order: the leaves are already sorted.
        self._order = None if np.all(offsets[1:] > offsets[:-1]) else np.argsort(offsets)
        self._boxes = leaves["box"]
        self.name = header.path.name
        self.read = 0
        self.differ = 0

    def add(
        self, boxes: np.ndarray, exact: np.ndarray, empty: np.ndarray, geometries: object = None
    ) -> None:
        """The next features' boxes (``exact``: those measured from all their vertices;
        ``empty``: those with no vertex, whose leaf box must hold no number: plain NaNs and
        infinities only).
        Features the scan cannot box (undecodable, non-finite vertices) are held by their
        own findings. A leaf holds a box and nothing more: ``geometries`` is not needed."""
        start = self.read
        self.read += len(boxes)
        stop = min(self.read, self.count)
        if stop <= start:
            return
        rows = slice(start, stop) if self._order is None else self._order[start:stop]
        kept = np.asarray(self._boxes[rows])
        n = stop - start
        differ = exact[:n] & ~_same(kept, boxes[:n])
        filled = empty[:n] & ~holds_no_number(kept)
        self.differ += int(np.count_nonzero(differ | filled))

    def faults(self) -> list[str]:
        """What the leaves hold that the features do not, once every feature is read."""
        faults = []
        if self.differ:
            faults.append(
                f"{self.name}: {self.differ} leaves of its spatial index hold boxes that are "
                "not their features'"
            )
        if self.count and self.read != self.count:
            faults.append(
                f"{self.name}: its spatial index has {self.count} leaves for the {self.read} "
                "features read"
            )
        return faults
