"""The cells of a two-dimensional SQLite R*Tree (a GeoPackage's spatial index), read
from its shadow tables.

An R*Tree ``t`` keeps its nodes in ``t_node`` (nodeno, data) and each node's parent in
``t_parent``. A node's data: two bytes (the tree's depth, in the root, node 1), the
number of cells (two bytes), then the cells, each a 64-bit id and the box as 32-bit
floats (minx, maxx, miny, maxy), all big-endian. A leaf's cell holds a row's id and box,
a cell above the leaves a child node's number and the union of that node's cells.

The leaves are handed over a chunk of nodes at a time, in bounded memory (a million rows
are some 30,000 nodes); what the nodes above them hold is met with their children as
the walk goes: a node no cell points to, or a cell whose box is not its child's, is a
fault (``RtreeWalk.faults``).

A node's bytes past its last cell are zeros when SQLite writes the node whole. Deleting
a cell moves the cells after it down and leaves the last one's bytes behind: a copy of a
cell that is still there, or, when the last cell was deleted, the box of a row that is
gone. Such leftovers must be copies of live cells; any other number there (a deleted
row's box, or a position put there) is a fault.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from compliance.arrays import box_unions, keyed_hashes

__all__ = ["RtreeWalk", "rtree_cells"]

_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])  # 24 bytes
_XY = np.array([0, 2, 1, 3])  # minx, maxx, miny, maxy -> minx, miny, maxx, maxy
_NODES = 512  # nodes per statement (some 25,000 cells)
_LOOKUPS = 10_000  # leftover leaf cells met with the live cells of their ids, one by one
_MASK = (1 << 64) - 1
_NONE = (np.zeros(0, np.int64), np.zeros((0, 4), np.float32))


def _sum(ids: np.ndarray, boxes: np.ndarray, key: np.ndarray) -> int:
    """The keyed digest of (id, box) pairs; -0.0 counted as 0.0, as the R*Tree's own
    comparisons count it."""
    return int(keyed_hashes(ids, boxes + np.float32(0.0), key).sum(dtype=np.uint64))


@dataclass
class _Parsed:
    """The cells of a chunk of nodes: ``read`` nodes, numbered ``numbers``, whose cells
    (``ids``, ``boxes``: minx, miny, maxx, maxy as 32-bit floats) run ``counts`` a node;
    ``leaf`` per cell."""

    read: int
    numbers: np.ndarray
    counts: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    leaf: np.ndarray

    @classmethod
    def of(
        cls, numbers: np.ndarray, leaves: np.ndarray, counts: list[int], parts: list[bytes]
    ) -> _Parsed:
        cells = np.frombuffer(b"".join(parts), dtype=_CELL)
        count = np.array(counts, dtype=np.int64)
        return cls(
            len(counts),
            numbers,
            count,
            cells["id"].astype(np.int64),
            cells["box"].astype(np.float32)[:, _XY],
            np.repeat(leaves, count),
        )

    def unions(self) -> tuple[np.ndarray, np.ndarray]:
        """Each node with cells, and the union of its cells' boxes."""
        filled = self.counts > 0
        if not filled.any():
            return _NONE
        starts = (np.cumsum(self.counts) - self.counts)[filled]
        return self.numbers[filled], box_unions(self.boxes, starts)

    def children(self) -> tuple[np.ndarray, np.ndarray]:
        """The cells above the leaves: child node numbers and boxes."""
        return self.ids[~self.leaf], self.boxes[~self.leaf]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rtree_cells(
    db: sqlite3.Connection, name: str, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The cells of the R*Tree ``name`` whose ids are ``ids``, looked up one by one (for
    a few): ids, and boxes (minx, miny, maxx, maxy) as 32-bit floats."""
    # By position, not name: a GeoPackage names the columns id, minx, maxx, miny, maxy,
    # SpatiaLite pkid, xmin, xmax, ymin, ymax; the first is the rowid either way.
    sql = f"SELECT * FROM {_quoted(name)} WHERE rowid = ?"
    rows = [r[:5] for i in ids.tolist() for r in db.execute(sql, (i,)).fetchall()]
    found = np.array([r[0] for r in rows], dtype=np.int64)
    boxes = np.array(rows, dtype=np.float64).reshape(-1, 5)[:, 1:][:, _XY]
    return found, boxes.astype(np.float32)


class RtreeWalk:
    """One walk over the R*Tree ``name`` of ``db``; ``ValueError`` or ``sqlite3.Error``
    when it is not a two-dimensional R*Tree whose shadow tables can be read."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db = db
        self._name = name
        root = db.execute(f"SELECT data FROM {_quoted(name + '_node')} WHERE nodeno = 1").fetchone()
        if root is None or not isinstance(root[0], bytes) or len(root[0]) < 4:
            raise ValueError(f"{name} has no root node")
        self.depth = struct.unpack_from(">H", root[0])[0]
        self._nodes, self._level = self._levels(*self._parents())
        # Cells above the leaves (child node, box) and each node's union of its cells, met
        # as keyed multiset digests (some 80,000 nodes per million rows: held whole, they
        # were the one part of a check's memory that grew with the rows). Only a tree
        # they find at odds is read again, whole, to say where (``_exact``).
        self._key = np.frombuffer(os.urandom(16), dtype=np.uint64)
        self._child_sum = self._union_sum = self._child_count = 0
        self._unhashable = False  # a NaN box: its bits may match where its value does not
        # Cells left past the ends of leaves and of nodes above them; bytes past the last
        # whole cell that are not zeros.
        self._left: dict[bool, list[tuple[np.ndarray, np.ndarray]]] = {
            True: [_NONE],
            False: [_NONE],
        }
        self._left_bytes = 0
        self.faults: list[str] = []

    def _parents(self) -> tuple[np.ndarray, np.ndarray]:
        """The parent table's nodes and their parents, read a slice at a time into arrays
        of its size (some 80,000 rows per million features)."""
        table = _quoted(self._name + "_parent")
        size = int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        pairs = np.empty((size, 2), dtype=np.int64)
        cursor, at = self._db.execute(f"SELECT nodeno, parentnode FROM {table}"), 0
        while (rows := cursor.fetchmany(16_384)) and at < size:
            part = np.array(rows, dtype=np.int64).reshape(-1, 2)[: size - at]
            pairs[at : at + len(part)] = part
            at += len(part)
        return pairs[:at, 0], pairs[:at, 1]

    def _levels(self, node: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each node's level below the root (nodes sorted, and their levels), from the
        parent table, a level at a time from the root; the nodes it cannot place are
        counted as a fault. A few arrays of the table's size at once, whatever its depth."""
        order = np.argsort(node, kind="stable")
        node, parent = node[order], parent[order]
        level = np.full(len(node), -1, dtype=np.int8)  # SQLite's R*Trees are 40 deep at most
        frontier = np.array([1], dtype=np.int64)  # the nodes of the level above, sorted
        for depth in range(1, self.depth + 1):
            at = np.minimum(np.searchsorted(frontier, parent), len(frontier) - 1)
            placed = (frontier[at] == parent) & (level < 0)
            level[placed] = depth
            frontier = node[placed]  # sorted, as ``node`` is
            if not frontier.size:
                break
        placed = level >= 0
        self._unplaced = int(len(level) - np.count_nonzero(placed))
        nodes = np.concatenate([[1], node[placed]])
        levels = np.concatenate([[0], level[placed]]).astype(np.int8)
        order = np.argsort(nodes, kind="stable")
        return nodes[order], levels[order]

    def leaves(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The leaves' cells, a chunk of nodes at a time: ids and boxes (minx, miny,
        maxx, maxy, as stored). ``faults`` is complete once the walk has ended."""
        sql = (
            f"SELECT nodeno, data FROM {_quoted(self._name + '_node')} "
            "WHERE nodeno > ? ORDER BY nodeno LIMIT ?"
        )
        last, nodes = 0, 0
        while rows := self._db.execute(sql, (last, _NODES)).fetchall():
            last = int(rows[-1][0])
            nodes += len(rows)
            cells = self._cells(rows)
            if cells is not None:
                yield cells
        self._finish(nodes)
        self._leftover_faults()

    def _cells(self, rows: list[tuple[int, object]]) -> tuple[np.ndarray, np.ndarray] | None:
        """The chunk's cells parsed at once: the leaves' handed back, the others' kept,
        and each node's union kept for the cell that points at it."""
        parsed, left = self._parsed(rows)
        for past, at_leaf in left:
            self._keep_left(past, at_leaf)
        if parsed.read < len(rows):
            self.faults.append(
                f"{len(rows) - parsed.read} nodes of {self._name} cannot be read as its nodes"
            )
        node, union = parsed.unions()
        child, child_box = parsed.children()
        self._unhashable |= bool(np.isnan(union).any() or np.isnan(child_box).any())
        root = node == 1  # no cell points at the root
        self._union_sum = (self._union_sum + _sum(node[~root], union[~root], self._key)) & _MASK
        self._child_sum = (self._child_sum + _sum(child, child_box, self._key)) & _MASK
        self._child_count += len(child)
        if not parsed.leaf.any():
            return None
        return parsed.ids[parsed.leaf], parsed.boxes[parsed.leaf]

    def _parsed(self, rows: list[tuple[int, object]]) -> tuple[_Parsed, list[tuple[bytes, bool]]]:
        """A chunk of node rows parsed: the cells of those that read as this tree's
        nodes, and the bytes past each one's last cell that are not zeros (with whether
        it is a leaf)."""
        numbers = np.array([r[0] for r in rows], dtype=np.int64)
        at = np.minimum(np.searchsorted(self._nodes, numbers), len(self._nodes) - 1)
        levels = np.where(self._nodes[at] == numbers, self._level[at], -1)
        kept, counts, parts, left = [], [], [], []
        for i, (_, data) in enumerate(rows):
            if not isinstance(data, bytes) or len(data) < 4 or levels[i] < 0:
                continue
            count = struct.unpack_from(">H", data, 2)[0]
            if len(data) < 4 + count * _CELL.itemsize:
                continue
            kept.append(i)
            counts.append(count)
            parts.append(data[4 : 4 + count * _CELL.itemsize])
            past = data[4 + count * _CELL.itemsize :]
            if past.strip(b"\0"):
                left.append((past, bool(levels[i] == self.depth)))
        parsed = _Parsed.of(numbers[kept], levels[kept] == self.depth, counts, parts)
        return parsed, left

    def _exact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every cell above the leaves (child, box) and every node's union (node, union),
        the tree read again whole: only where the digests find it at odds, or cells past a
        node's end above the leaves are to be met with the live ones."""
        sql = (
            f"SELECT nodeno, data FROM {_quoted(self._name + '_node')} "
            "WHERE nodeno > ? ORDER BY nodeno LIMIT ?"
        )
        children, unions, last = [_NONE], [_NONE], 0
        while rows := self._db.execute(sql, (last, _NODES)).fetchall():
            last = int(rows[-1][0])
            parsed = self._parsed(rows)[0]
            unions.append(parsed.unions())
            children.append(parsed.children())
        child, child_box = (np.concatenate(part) for part in zip(*children, strict=True))
        node, union = (np.concatenate(part) for part in zip(*unions, strict=True))
        return child, child_box, node, union

    def _keep_left(self, past: bytes, leaf: bool) -> None:
        whole = len(past) // _CELL.itemsize * _CELL.itemsize
        self._left_bytes += bool(past[whole:].strip(b"\0"))
        raw = np.frombuffer(past[:whole], dtype=np.uint8).reshape(-1, _CELL.itemsize)
        cells = np.frombuffer(past[:whole], dtype=_CELL)[raw.any(axis=1)]
        self._left[leaf].append(
            (cells["id"].astype(np.int64), cells["box"][:, _XY].astype(np.float32))
        )

    def _leftover_faults(self) -> None:
        """Each cell left past a node's end must be a copy of a live cell: a leaf's, of
        the row with its id; one above the leaves, of the cell pointing at its node."""
        wrong = self._left_bytes
        for leaf in (True, False):
            ids, boxes = (np.concatenate(part) for part in zip(*self._left[leaf], strict=True))
            if not len(ids):
                continue
            if leaf and len(ids) > _LOOKUPS:
                wrong += len(ids)
                continue
            live = rtree_cells(self._db, self._name, np.unique(ids)) if leaf else self._exact()[:2]
            wrong += len(ids) - int(np.count_nonzero(_copies(ids, boxes, *live)))
        if wrong:
            self.faults.append(
                f"{wrong} cells past the ends of the nodes of {self._name} hold boxes of no "
                "row or node it holds (rows deleted or moved, or numbers put there)"
            )

    def _finish(self, nodes: int) -> None:
        """Each node but the root must be the child of exactly one cell above it, with
        the union of its own cells as that cell's box."""
        if self._unplaced:
            self.faults.append(f"{self._unplaced} nodes of {self._name} hang from no node")
        if (
            self._child_count == nodes - 1
            and self._child_sum == self._union_sum
            and not self._unhashable
        ):
            return  # each node but the root pointed at once, with its union as the box
        child, child_box, node, union = self._exact()
        order = np.argsort(child, kind="stable")
        child, child_box = child[order], child_box[order]
        stray = len(child) != nodes - 1 or (len(child) > 0 and len(node) == 0)
        if stray or np.any(child[1:] == child[:-1]):
            self.faults.append(
                f"the cells above the leaves of {self._name} point at nodes other than its own"
            )
            return
        if not len(child):
            return
        # The unions come in node order (the walk reads the nodes so).
        at = np.minimum(np.searchsorted(node, child), len(node) - 1)
        same = (node[at] == child) & (union[at] == child_box).all(axis=1)
        if not same.all():
            wrong = int(np.count_nonzero(~same))
            self.faults.append(f"{wrong} cells of {self._name} hold boxes other than their nodes'")


def _copies(
    ids: np.ndarray, boxes: np.ndarray, live: np.ndarray, live_boxes: np.ndarray
) -> np.ndarray:
    """Which (id, box) cells are, to the bit, a live cell with that id."""
    if not len(live):
        return np.zeros(len(ids), dtype=bool)
    order = np.argsort(live, kind="stable")
    live, live_boxes = live[order], live_boxes[order]
    at = np.minimum(np.searchsorted(live, ids), len(live) - 1)
    bits = np.ascontiguousarray(boxes, dtype=np.float32).view(np.uint32)
    live_bits = np.ascontiguousarray(live_boxes[at], dtype=np.float32).view(np.uint32)
    return (live[at] == ids) & (bits == live_bits).all(axis=1)
