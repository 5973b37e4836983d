"""Where a layer's features lie, as boxes narrow enough to meet numbers with.

A table of positions kept beside the features (a plain table, text GDAL does not read)
lies where the features do, and numbers are met with a box of them only when it is
narrower than 10 degrees: numbers anywhere on Earth could be anything. One box for the
whole layer will not do: a sender who adds one feature on the far side of the world
widens it past the limit and leaves the rest unmet. So the features are gathered into
tiles (2 degrees, or 100 km) as they are read: a batch within one tile by its box, a
batch over a few tiles by all of them, else each feature by its box's corners and a
feature wider than a tile by each of its vertices. When the whole layer is wider than
10 degrees, the tiles are joined where they touch: a group narrower than 10 degrees is
one window, however far the other groups are. A wider group (a country's data, the
world's) is met in cells of 4 tiles a side at every offset, so that a cluster up to
6 degrees (300 km) across lies whole in one.

More windows than ``MAX_WINDOWS``, or a group that cannot be taken to lon/lat narrowly
(a tile near a pole), leave the places incomplete: what needs meeting is then not passed
(``compliance.measure.vector_layers``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from pyproj import CRS

from compliance.geo.crs_identity import unit_m
from compliance.measure.placement import box_to_wgs84
from compliance.measure.table_positions import WIDEST_DEG, Window, holds_zero

__all__ = ["MAX_WINDOWS", "FeaturePlaces", "Places"]

MAX_WINDOWS = 64
_MAX_TILES = 50_000
_TILE_DEG = 2.0  # a tile's side: in degrees, or about as many metres in a projected CRS
_TILE_M = 100_000.0
_CELL_TILES = 4  # a wide group's cells are 4 tiles a side, at every offset
_GROUP_TILES = 1024
_KEY_LIMIT = 1 << 30  # tile numbers past this are no positions on Earth in any unit
_GRID_CELLS = 1 << 20
_WHOLESALE = 25  # a batch over this many tiles or fewer takes them all, unlooked at


@dataclass(frozen=True)
class Places:
    """A layer's windows, and whether every feature lies in one of them."""

    windows: list[Window]
    complete: bool


@dataclass
class FeaturePlaces:
    """Tiles of a layer's features in its CRS, gathered batch by batch."""

    crs: CRS
    tile: float = field(init=False)  # a tile's side in the CRS's unit
    _tiles: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    _overflow: bool = False

    def __post_init__(self) -> None:
        self.tile = _TILE_DEG if self.crs.is_geographic else _TILE_M / unit_m(self.crs)

    def add(
        self, box: np.ndarray, boxes: np.ndarray, present: np.ndarray, coords: np.ndarray,
        owner: np.ndarray,
    ) -> None:  # fmt: skip
        """One batch: the box of its rows, each row's box (``present``: those that have
        one), every coordinate and its row."""
        if self._overflow:
            return
        if np.all(box[2:] - box[:2] <= self.tile):  # the usual batch: one box, kept whole
            kx, ky = np.floor(box[:2] / self.tile).clip(-_KEY_LIMIT, _KEY_LIMIT).tolist()
            held = self._tiles.get((int(kx), int(ky)))
            self._tiles[int(kx), int(ky)] = box.copy() if held is None else _union(held, box)
            return
        low, high = np.floor(box[:2] / self.tile), np.floor(box[2:] / self.tile)
        if np.prod(high - low + 1) <= _WHOLESALE:  # a few tiles: each taken whole
            xs, ys = np.meshgrid(np.arange(low[0], high[0] + 1), np.arange(low[1], high[1] + 1))
            self._occupy(xs.ravel(), ys.ravel())
            return
        live = boxes if present.all() else boxes[present]
        keys = np.floor(live * (1.0 / self.tile))
        if np.abs(np.concatenate([low, high])).max() > _KEY_LIMIT:
            keys = keys.clip(-_KEY_LIMIT, _KEY_LIMIT)
        # A row whose box spans two tiles or fewer on each axis lies in its corners' tiles.
        narrow = (keys[:, 2] - keys[:, 0] <= 1) & (keys[:, 3] - keys[:, 1] <= 1)
        if not narrow.all():
            wide = np.flatnonzero(present)[~narrow]
            vertices = coords[np.isin(owner, wide), :2]
            vertices = vertices[np.isfinite(vertices).all(axis=1)]
            found = np.floor(vertices * (1.0 / self.tile)).clip(-_KEY_LIMIT, _KEY_LIMIT)
            self._occupy(found[:, 0], found[:, 1])
            keys = keys[narrow]
        x0, y0, x1, y1 = keys.T
        self._occupy(np.concatenate([x0, x1, x0, x1]), np.concatenate([y0, y1, y1, y0]))

    def _occupy(self, kx: np.ndarray, ky: np.ndarray) -> None:
        """Take each tile numbered (``kx``, ``ky``) whole."""
        if not kx.size:
            return
        lx, ly = kx.min(), ky.min()
        sx, sy = kx.max() - lx + 1, ky.max() - ly + 1
        if sx * sy <= _GRID_CELLS:  # marked on a grid of the batch's own tiles
            grid = np.zeros(int(sx * sy), dtype=bool)
            grid[((kx - lx) * sy + (ky - ly)).astype(np.int64)] = True
            at = np.flatnonzero(grid)
            found = np.column_stack([at // int(sy) + lx, at % int(sy) + ly])
        else:
            found = np.unique(np.column_stack([kx, ky]), axis=0)
        for x, y in found.astype(np.int64).tolist():
            whole = np.array([x, y, x + 1, y + 1], dtype=float) * self.tile
            held = self._tiles.get((x, y))
            self._tiles[x, y] = whole if held is None else _union(held, whole)
            if len(self._tiles) > _MAX_TILES:
                self._overflow = True
                self._tiles.clear()
                return

    def places(self) -> Places:
        """The windows: each touching group of tiles narrow enough, else its cells."""
        if self._overflow:
            return Places([], False)
        windows: list[Window] = []
        complete = True
        for group in _groups(self._tiles):
            box = _union_of(self._tiles[k] for k in group)
            found = self._window(box)
            if found is not None:
                windows += found
                continue
            cells = _cells(group, prune=not self._near_zero(box))
            complete = complete and cells is not None
            for cell in cells or []:
                found = self._window(_union_of(self._tiles[k] for k in cell))
                complete = complete and found is not None
                windows += found or []
                if len(windows) > MAX_WINDOWS:
                    return Places([], False)
        if len(windows) > MAX_WINDOWS:
            return Places([], False)
        return Places(windows, complete)

    def _near_zero(self, box: np.ndarray) -> bool:
        """Whether the box, in its CRS or in lon/lat, holds zero on an axis."""
        own = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        frames = [Window(own, bool(self.crs.is_geographic))]
        footprint = box_to_wgs84(own, self.crs)
        frames += [Window(tuple(footprint.bounds), True)] if footprint is not None else []
        return any(holds_zero(frame, axis) for frame in frames for axis in (0, 1))

    def _window(self, box: np.ndarray) -> list[Window] | None:
        """``box`` as windows (in the CRS and, projected, in lon/lat); None when it spans
        more than 10 degrees or cannot be placed."""
        own = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        footprint = box_to_wgs84(own, self.crs)
        if footprint is None:
            return None
        lonlat = footprint.bounds
        if lonlat[2] - lonlat[0] > WIDEST_DEG or lonlat[3] - lonlat[1] > WIDEST_DEG:
            return None
        if self.crs.is_geographic:
            return [Window(own, True)]
        return [Window(own, False, unit_m(self.crs)), Window(tuple(lonlat), True)]


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])


def _union_of(boxes: Iterable[np.ndarray]) -> np.ndarray:
    every = np.array(list(boxes))
    return np.concatenate([every[:, :2].min(axis=0), every[:, 2:].max(axis=0)])


def _groups(tiles: dict[tuple[int, int], np.ndarray]) -> list[list[tuple[int, int]]]:
    """The tiles joined where they touch (eight neighbours), each group in order."""
    unseen = set(tiles)
    groups = []
    for start in sorted(tiles):
        if start not in unseen:
            continue
        unseen.discard(start)
        group, todo = [start], [start]
        while todo:
            kx, ky = todo.pop()
            for step in ((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)):
                near = (kx + step[0], ky + step[1])
                if near in unseen:
                    unseen.discard(near)
                    group.append(near)
                    todo.append(near)
        groups.append(sorted(group))
    return groups


def _cells(group: list[tuple[int, int]], prune: bool) -> list[list[tuple[int, int]]] | None:
    """A wide group's tiles in cells of ``_CELL_TILES`` a side, at every offset: a
    cluster over that many tiles or fewer on each axis (6 degrees, 300 km across at
    least) lies whole in some cell. A cell's window is at most a tile wider (a tile's box
    reaches into the next): 10 degrees. With ``prune``, a cell whose tiles another cell
    holds too is left out (the larger meets all it would; not near a zero, where a larger
    window is stricter, ``table_positions._paired``). A group of more than
    ``_GROUP_TILES`` tiles is not cut (None)."""
    if len(group) > _GROUP_TILES:
        return None
    cells: dict[tuple[int, int, int, int], set[tuple[int, int]]] = {}
    for ox in range(_CELL_TILES):
        for oy in range(_CELL_TILES):
            for kx, ky in group:
                cell = (ox, oy, (kx + ox) // _CELL_TILES, (ky + oy) // _CELL_TILES)
                cells.setdefault(cell, set()).add((kx, ky))
    distinct = sorted({frozenset(c) for c in cells.values()}, key=len, reverse=True)
    kept: list[frozenset[tuple[int, int]]] = []
    for tiles in distinct:
        if not (prune and any(tiles <= other for other in kept)):
            kept.append(tiles)
            if len(kept) > MAX_WINDOWS:  # more than can be met: no need to count on
                return None
    return [sorted(tiles) for tiles in kept]
