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
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import numpy as np

__all__ = ["RtreeWalk", "rtree_cells"]

_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])  # 24 bytes
_XY = np.array([0, 2, 1, 3])  # minx, maxx, miny, maxy -> minx, miny, maxx, maxy
_NODES = 512  # nodes per statement (some 25,000 cells)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def rtree_cells(path: Path, name: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells of the R*Tree ``name`` of the SQLite file at ``path`` whose ids are
    ``ids``, looked up one by one (for a few): ids, and boxes (minx, miny, maxx, maxy)
    as 32-bit floats."""
    sql = f"SELECT id, minx, miny, maxx, maxy FROM {_quoted(name)} WHERE id = ?"
    with closing(_connect(path)) as db:
        rows = [r for i in ids.tolist() for r in db.execute(sql, (i,)).fetchall()]
    found = np.array([r[0] for r in rows], dtype=np.int64)
    return found, np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 4).astype(
        np.float32
    )


class RtreeWalk:
    """One walk over the R*Tree ``name`` of the SQLite file at ``path``, on a connection
    of its own (closed with the walk); ``ValueError`` or ``sqlite3.Error`` when it is not
    a two-dimensional R*Tree whose shadow tables can be read."""

    def __init__(self, path: Path, name: str) -> None:
        self._db = db = _connect(path)
        self._name = name
        try:
            self._start(db, name)
        except BaseException:
            db.close()
            raise

    def _start(self, db: sqlite3.Connection, name: str) -> None:
        root = db.execute(f"SELECT data FROM {_quoted(name + '_node')} WHERE nodeno = 1").fetchone()
        if root is None or not isinstance(root[0], bytes) or len(root[0]) < 4:
            raise ValueError(f"{name} has no root node")
        self.depth = struct.unpack_from(">H", root[0])[0]
        pairs = np.array(
            db.execute(f"SELECT nodeno, parentnode FROM {_quoted(name + '_parent')}").fetchall(),
            dtype=np.int64,
        ).reshape(-1, 2)
        self._level = self._levels(pairs)
        self._children: list[np.ndarray] = []  # cells above the leaves: child, box
        self._unions: list[np.ndarray] = []  # each node's number and the union of its cells
        self.faults: list[str] = []

    def _levels(self, pairs: np.ndarray) -> dict[int, int]:
        """Each node's level below the root, from the parent table (the nodes it cannot
        place are counted as a fault)."""
        nodes, levels = np.array([1]), np.array([0])
        todo = pairs
        for depth in range(1, self.depth + 1):
            at = np.minimum(np.searchsorted(nodes, todo[:, 1]), len(nodes) - 1)
            placed = (nodes[at] == todo[:, 1]) & (levels[at] == depth - 1)
            nodes = np.concatenate([nodes, todo[placed, 0]])
            levels = np.concatenate([levels, np.full(int(placed.sum()), depth)])
            order = np.argsort(nodes, kind="stable")
            nodes, levels = nodes[order], levels[order]
            todo = todo[~placed]
        self._unplaced = len(todo)
        return dict(zip(nodes.tolist(), levels.tolist(), strict=True))

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

    def close(self) -> None:
        self._db.close()

    def _cells(self, rows: list[tuple[int, object]]) -> tuple[np.ndarray, np.ndarray] | None:
        """The chunk's cells parsed at once: the leaves' handed back, the others' kept,
        and each node's union kept for the cell that points at it."""
        numbers, counts, levels, parts = [], [], [], []
        bad = 0
        for nodeno, data in rows:
            level = self._level.get(int(nodeno))
            count = (
                struct.unpack_from(">H", data, 2)[0]
                if isinstance(data, bytes) and len(data) >= 4
                else -1
            )
            if level is None or count < 0 or len(data) < 4 + count * _CELL.itemsize:  # type: ignore[arg-type]
                bad += 1
                continue
            numbers.append(nodeno)
            counts.append(count)
            levels.append(level)
            parts.append(data[4 : 4 + count * _CELL.itemsize])  # type: ignore[index]
        if bad:
            self.faults.append(f"{bad} nodes of {self._name} cannot be read as its nodes")
        cells = np.frombuffer(b"".join(parts), dtype=_CELL)
        ids = cells["id"].astype(np.int64)
        boxes = cells["box"].astype(np.float64)[:, _XY]
        count = np.array(counts, dtype=np.int64)
        filled = count > 0
        if filled.any():
            starts = (np.cumsum(count) - count)[filled]
            unions = [
                np.fmin.reduceat(boxes[:, 0], starts),
                np.fmin.reduceat(boxes[:, 1], starts),
                np.fmax.reduceat(boxes[:, 2], starts),
                np.fmax.reduceat(boxes[:, 3], starts),
            ]
            self._unions.append(
                np.column_stack([np.array(numbers, dtype=np.float64)[filled], *unions])
            )
        leaf = np.repeat(np.array(levels) == self.depth, count)
        if not leaf.all():
            self._children.append(np.column_stack([ids[~leaf].astype(np.float64), boxes[~leaf]]))
        if not leaf.any():
            return None
        return ids[leaf], boxes[leaf]

    def _finish(self, nodes: int) -> None:
        """Each node but the root must be the child of exactly one cell above it, with
        the union of its own cells as that cell's box."""
        if self._unplaced:
            self.faults.append(f"{self._unplaced} nodes of {self._name} hang from no node")
        children = np.concatenate(self._children) if self._children else np.zeros((0, 5))
        unions = np.concatenate(self._unions) if self._unions else np.zeros((0, 5))
        pointed = np.sort(children[:, 0])
        stray = len(children) != nodes - 1 or (len(children) > 0 and len(unions) == 0)
        if stray or np.any(pointed[1:] == pointed[:-1]):
            self.faults.append(
                f"the cells above the leaves of {self._name} point at nodes other than its own"
            )
            return
        order = np.argsort(children[:, 0])
        known = np.searchsorted(unions[:, 0], children[order, 0])
        known = np.minimum(known, len(unions) - 1)
        same = (unions[known, 0] == children[order, 0]) & (
            unions[known, 1:] == children[order, 1:]
        ).all(axis=1)
        if not same.all():
            wrong = int(np.count_nonzero(~same))
            self.faults.append(f"{wrong} cells of {self._name} hold boxes other than their nodes'")
