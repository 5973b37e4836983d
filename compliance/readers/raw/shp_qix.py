"""A shapefile's ``.qix`` spatial index, met with the tree its shapes make.

GDAL writes a ``.qix`` (``SPATIAL_INDEX=YES``, ``CREATE SPATIAL INDEX``) as shapelib's
quadtree: a header (``SQT``, byte order, version, shape count, depth), then its nodes
depth first, each the byte count of its subnodes, a box, its shapes' numbers and its
number of subnodes. The tree is a function of the shapes: the root's box is the ``.shp``
header's; a node's four quarters cut its box across the longer side at 55% from either
end, twice; a shape sits in the first quarter that holds its box, as deep as the depth
allows; then a node with no shape and one subnode gives its place to that subnode. GDAL
reads the index only to find shapes, so a sender can write any numbers into its boxes
(the precise box of each coarsened shape) and the file still reads as before.

The tree is built here from the shapes' boxes, all shapes a level at a time, and the
file must hold exactly it: each node the same box under the same parent, with as many
subnodes (in any order: shapelib moves them as it drops empty ones), and each shape in
the node it belongs to, in order.
"""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import numpy as np

from compliance.arrays import distinct
from compliance.readers.raw.record_chain import RecordLayout, walk_records
from compliance.readers.raw.shp_boxes import record_boxes

__all__ = ["index_beside", "qix_faults"]

_SPLIT = 0.55  # shapelib's SHP_SPLIT_RATIO
# Paths of quarters are numbered in base 5 in 64-bit integers: 26 levels fit.
_MAX_DEPTH = 26
# A node: its subnodes' byte count, a box (4 doubles), a shape count, the shapes'
# numbers (4 bytes each), a subnode count.
_NODE = RecordLayout("<i4", field=36, lead=44, unit=4, least=0)


class _Tree:
    """A tree as compared: per node (in any order) its box, its parent's box (NaNs for
    the root), its number of subnodes; per shape, the box of the node that holds it."""

    def __init__(self, box: np.ndarray, parent: np.ndarray, subnodes: np.ndarray,
                 shape_box: np.ndarray) -> None:  # fmt: skip
        self.rows = np.empty((len(box), 9))
        self.rows[:, :4] = box
        self.rows[:, 4:8] = parent
        self.rows[:, 8] = subnodes
        self.shape_box = shape_box

    def keys(self) -> list[bytes]:
        return [row.tobytes() for row in self.rows]


def _halves(box: tuple[np.ndarray, ...]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Boxes (columns x0, y0, x1, y1) cut in two across their longer side, as shapelib's
    SHPTreeSplitBounds cuts them: the same operations on doubles, so the same bits (the
    halves overlap by a tenth)."""
    x0, y0, x1, y1 = box
    wide = (x1 - x0) > (y1 - y0)
    sx, sy = (x1 - x0) * _SPLIT, (y1 - y0) * _SPLIT
    first = (x0, y0, np.where(wide, x0 + sx, x1), np.where(wide, y1, y0 + sy))
    second = (np.where(wide, x1 - sx, x0), np.where(wide, y0, y1 - sy), x1, y1)
    return first, second


def _quarters(box: tuple[np.ndarray, ...]) -> list[tuple[np.ndarray, ...]]:
    """The four quarters of each box, in shapelib's order (each half cut again)."""
    one, two = _halves(box)
    return [*_halves(one), *_halves(two)]


def _paths(root: np.ndarray, boxes: np.ndarray, depth: int) -> np.ndarray:
    """Each shape's node as its path of quarters from the root, numbered in base 5 (a
    digit 1-4 a level); all shapes a level at a time."""
    code = np.zeros(len(boxes), dtype=np.int64)
    going = np.arange(len(boxes))
    node = tuple(np.full(len(boxes), v) for v in root)
    b = tuple(np.ascontiguousarray(boxes[:, k]) for k in range(4))
    for _ in range(depth - 1):
        if not len(going):
            break
        quarters = _quarters(node)
        chosen = np.full(len(going), -1)
        for k in range(3, -1, -1):  # the first quarter that holds the box wins
            q = quarters[k]
            inside = (b[0] >= q[0]) & (b[2] <= q[2]) & (b[1] >= q[1]) & (b[3] <= q[3])
            chosen[inside] = k
        down = np.flatnonzero(chosen >= 0)
        pick = chosen[down]
        node = tuple(
            np.choose(pick, [quarters[k][axis][down] for k in range(4)]) for axis in range(4)
        )
        going = going[down]
        code[going] = code[going] * 5 + pick + 1
        b = tuple(column[down] for column in b)
    return code


def _expected(root: np.ndarray, boxes: np.ndarray, depth: int) -> _Tree:
    """The tree shapelib writes for ``boxes`` under ``root``."""
    code = _paths(root, boxes, depth)
    prefixes, level = [np.zeros(1, np.int64)], code
    while level.any():
        prefixes.append(level[level > 0])
        level = level // 5
    nodes = distinct(np.concatenate(prefixes))
    parent = np.searchsorted(nodes, nodes // 5)
    parent[0] = -1  # the root (code 0 sorts first)
    shapes = np.bincount(np.searchsorted(nodes, code), minlength=len(nodes))
    subnodes = np.bincount(parent[1:], minlength=len(nodes))
    box = np.empty((len(nodes), 4))
    box[0] = root
    digits = np.zeros(len(nodes), dtype=np.int64)
    rest = nodes.copy()
    while rest.any():
        digits += rest > 0
        rest //= 5
    for d in range(1, int(digits.max()) + 1):  # parents before their children
        rows = np.flatnonzero(digits == d)
        above = box[parent[rows]]
        quarters = _quarters(tuple(above[:, k] for k in range(4)))
        which = nodes[rows] % 5 - 1
        for axis in range(4):
            box[rows, axis] = np.choose(which, [q[axis] for q in quarters])
    # A node with no shape and one subnode gives its place to it (shapelib's trim).
    gone = (shapes == 0) & (subnodes == 1)
    up = parent.copy()
    while True:
        lift = (up >= 0) & gone[np.maximum(up, 0)]
        if not lift.any():
            break
        up[lift] = parent[up[lift]]
    kept = np.flatnonzero(~gone)
    above = np.where(up[kept, None] >= 0, box[np.maximum(up[kept], 0)], np.nan)
    return _Tree(box[kept], above, subnodes[kept], box[np.searchsorted(nodes, code)])


def _held(qix: Path, data: bytes, shapes: int) -> _Tree:
    """The tree the file holds; ValueError where its bytes are not a tree of ``shapes``
    shapes."""
    walk = walk_records(qix, 16, np.zeros(0, dtype=np.int64), _NODE)
    if walk.damaged:
        raise ValueError(walk.damaged)
    at = walk.starts
    view = np.frombuffer(data, dtype=np.uint8)
    head = np.ascontiguousarray(view[at[:, None] + np.arange(40)])
    size = head[:, :4].copy().view("<i4").reshape(-1).astype(np.int64)
    box = head[:, 4:36].copy().view("<f8")
    count = head[:, 36:40].copy().view("<i4").reshape(-1).astype(np.int64)
    subs_at = at + 40 + 4 * count
    subnodes = np.ascontiguousarray(view[subs_at[:, None] + np.arange(4)]).view("<i4").reshape(-1)
    parent = _parents(at, subs_at + 4 + size, len(data))
    if np.any(np.bincount(parent[1:], minlength=len(at)) != subnodes):
        raise ValueError("a node's subnode count is not the nodes under it")
    holder = np.repeat(np.arange(len(at)), count)
    firsts = np.cumsum(count) - count
    where = at[holder] + 40 + 4 * (np.arange(len(holder)) - firsts[holder])
    ids = np.ascontiguousarray(view[where[:, None] + np.arange(4)]).view("<i4").reshape(-1)
    ids = ids.astype(np.int64)
    if len(ids) != shapes or np.any((ids < 0) | (ids >= shapes)):
        raise ValueError(f"it lists {len(ids)} shape numbers for {shapes} shapes")
    if np.any((holder[1:] == holder[:-1]) & (ids[1:] <= ids[:-1])):
        raise ValueError("a node lists its shapes out of order")
    shape_box = np.full((shapes, 4), np.nan)
    shape_box[ids] = box[holder]
    if np.bincount(ids, minlength=shapes).max(initial=1) > 1:
        raise ValueError("it lists a shape twice")
    above = np.where(parent[:, None] >= 0, box[np.maximum(parent, 0)], np.nan)
    return _Tree(box, above, subnodes.astype(np.int64), shape_box)


def _parents(at: np.ndarray, ends: np.ndarray, size: int) -> np.ndarray:
    """Each node's parent (-1 for the root), from where the nodes (depth first) start and
    where their subtrees end; ValueError where the ends do not nest."""
    parent = np.empty(len(at), dtype=np.int64)
    stack: list[tuple[int, int]] = []
    for j, (start, end) in enumerate(zip(at.tolist(), ends.tolist(), strict=True)):
        while stack and start >= stack[-1][1]:
            if start != stack.pop()[1]:
                raise ValueError("a node's byte count is not that of its subnodes")
        if j and not stack:
            raise ValueError("nodes follow the root's subtree")
        if stack and end > stack[-1][1]:
            raise ValueError("a node runs past its parent's end")
        parent[j] = stack[-1][0] if stack else -1
        stack.append((j, end))
    if any(end != size for _, end in stack):
        raise ValueError("a node's byte count is not that of its subnodes")
    return parent


def qix_faults(qix: Path, root_box: np.ndarray, boxes: np.ndarray) -> list[str]:
    """What the ``.qix`` at ``qix`` holds that the tree of the shapes' ``boxes`` (rows of
    min x, min y, max x, max y, in the ``.shx``'s order; zeros for a shape with no point)
    under ``root_box`` (the ``.shp`` header's) does not; empty when it is that tree."""
    data = qix.read_bytes()
    if len(data) < 16 or data[:3] != b"SQT" or data[3:8] != b"\x01\x01\x00\x00\x00":
        return [f"{qix.name}: not a spatial index GDAL writes (little-endian SQT version 1)"]
    count, depth = struct.unpack_from("<ii", data, 8)
    if count != len(boxes) or not 0 < depth <= _MAX_DEPTH:
        return [f"{qix.name}: its header counts {count} shapes at depth {depth}"]
    try:
        held = _held(qix, data, count)
    except (ValueError, IndexError) as exc:
        return [f"{qix.name}: its tree could not be followed ({exc})"]
    expected = _expected(np.asarray(root_box, dtype=np.float64), boxes, depth)
    same_nodes = held.rows.shape == expected.rows.shape and np.array_equal(
        _canonical(held.rows), _canonical(expected.rows), equal_nan=True
    )
    misplaced = int(
        (held.shape_box.view(np.uint64) != expected.shape_box.view(np.uint64)).any(axis=1).sum()
    )
    if same_nodes and not misplaced:
        return []
    wrong = sum((Counter(held.keys()) - Counter(expected.keys())).values())
    return [
        f"{qix.name}: its spatial index is not the tree of its shapes ({wrong} nodes hold "
        f"boxes that are not the tree's, {misplaced} shapes sit in nodes they do not belong to)"
    ]


def _canonical(rows: np.ndarray) -> np.ndarray:
    """``rows`` in an order that does not depend on the nodes' order."""
    bits = rows.view(np.uint64)
    return rows[np.lexsort(bits.T[::-1])]


def index_beside(shp: Path, read: np.ndarray) -> list[str]:
    """What the ``.qix`` beside ``shp`` holds that its shapes (the records at ``read``,
    those GDAL reads, in the ``.shx``'s order) do not; empty without a ``.qix``."""
    qix = next((p for p in (shp.with_suffix(".qix"), shp.with_suffix(".QIX")) if p.is_file()), None)
    if qix is None:
        return []
    with shp.open("rb") as f:
        root = np.frombuffer(f.read(100)[36:68], dtype="<f8")
    return qix_faults(qix, root, record_boxes(shp, read))
