"""Which shapes' boxes meet, counted in chunks whose pairs are bounded before they are met.

Rings drawn around one point with few vertices have boxes within boxes: each meets every
other, and a query of a few thousand of them returns millions of pairs. So the pairs a
chunk can return are bounded first, exactly and cheaply: a box meets at most as many
boxes as it overlaps on either axis alone, counted for all of them by two sorted searches
per axis (``axis_bound``). Chunks are cut so that their bounds sum to ``AT_ONCE`` at most;
a caller stops at its own budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely

from compliance.arrays import median

__all__ = ["AT_ONCE", "axis_bound", "box_pairs", "chunked", "crowded"]

AT_ONCE = 1 << 22  # pairs of boxes a chunk may return, at most
_CHUNK = 4_096  # shapes a chunk holds, at most (a caller may stop after any)
_SAMPLE = 256  # shapes whose boxes are met first, to tell a crowded layer cheaply
_SAMPLE_STEP = 8
_SPAN = 16  # cells a box covers, and boxes a cell holds, on the grid at most


def axis_bound(bounds: np.ndarray) -> np.ndarray:
    """For each box (rows of minx, miny, maxx, maxy), how many boxes it overlaps on the
    axis where it overlaps fewer (itself counted): at least how many it meets."""
    counts = []
    for low, high in ((bounds[:, 0], bounds[:, 2]), (bounds[:, 1], bounds[:, 3])):
        # Boxes starting at or before this one's end, less those ending before its start.
        starts, ends = np.sort(low), np.sort(high)
        counts.append(np.searchsorted(starts, high, "right") - np.searchsorted(ends, low, "left"))
    return np.minimum(*counts)


def chunked(shapes: np.ndarray, order: np.ndarray) -> Iterator[np.ndarray]:
    """The places in ``order`` cut into chunks whose boxes meet ``AT_ONCE`` boxes at most
    between them (or one shape, whatever it meets: it is returned once)."""
    bound = axis_bound(shapely.bounds(shapes))[order]
    start = 0
    while start < order.size:
        ends = np.cumsum(bound[start : start + _CHUNK])
        stop = start + max(1, int(np.searchsorted(ends, AT_ONCE, "right")))
        yield order[start:stop]
        start = stop


def crowded(tree: shapely.STRtree, shapes: np.ndarray, most: float) -> bool:
    """Whether a sample of ``shapes`` meets more than ``most`` boxes of the ``tree`` each,
    on average: a few at a time, stopping as soon as they do. A guard on cost, not a
    finding: shapes it passes are still met, and counted, in full."""
    sample = shapes[np.random.default_rng(0).permutation(shapes.size)[:_SAMPLE]]
    found = 0
    for start in range(0, sample.size, _SAMPLE_STEP):
        found += tree.query(sample[start : start + _SAMPLE_STEP]).shape[1]
        if found > most * sample.size:
            return True
    return False


def box_pairs(bounds: np.ndarray, most: float) -> np.ndarray | None:
    """The pairs of boxes (rows of minx, miny, maxx, maxy) that meet (their places, each
    pair once, the lower first); None as soon as they outnumber ``most`` a box (boxes
    within boxes). Boxes of like size are met on a grid (``_grid_pairs``), others in an
    STR-tree."""
    if not len(bounds):
        return np.empty((0, 2), dtype=int)
    pairs = _grid_pairs(bounds)
    if pairs is not None:
        return pairs if len(pairs) <= most * len(bounds) else None
    shapes = shapely.box(*bounds.T)
    tree = shapely.STRtree(shapes)
    if crowded(tree, shapes, most):
        return None
    found: list[np.ndarray] = []
    total = 0
    for chunk in chunked(shapes, np.arange(shapes.size)):
        i, j = tree.query(shapes[chunk])
        i = chunk[i]
        found.append(np.column_stack([i[i < j], j[i < j]]))
        total += found[-1].shape[0]
        if total > most * shapes.size:
            return None
    return np.concatenate(found)


def _grid_pairs(bounds: np.ndarray) -> np.ndarray | None:
    """The pairs of boxes that meet, found on a grid of cells the size of the larger side
    of the median box: each box is filed under the cells it covers, and a pair is met in
    the cell holding the low corner of where they overlap (so once). None where a box
    covers more than ``_SPAN`` cells or a cell holds more than ``_SPAN`` boxes: boxes of
    unlike size, or piled up, for the tree."""
    size = median(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]))
    if not np.isfinite(size) or size <= 0:
        return None
    low = np.floor(bounds[:, :2] / size).astype(np.int64)
    high = np.floor(bounds[:, 2:] / size).astype(np.int64)
    wide, tall = (high - low + 1).T
    if (wide * tall > _SPAN).any():
        return None
    box = np.repeat(np.arange(len(bounds)), wide * tall)
    step = np.arange(box.size) - np.repeat(np.cumsum(wide * tall) - wide * tall, wide * tall)
    cx, cy = low[box, 0] + step % wide[box], low[box, 1] + step // wide[box]
    order = np.lexsort((box, cy, cx))
    box, cx, cy = box[order], cx[order], cy[order]
    cell = np.flatnonzero(np.r_[True, (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1]), True])
    if np.diff(cell).max() > _SPAN:
        return None  # boxes piled up in a cell
    found: list[np.ndarray] = [np.empty((0, 2), dtype=int)]
    for k in range(1, int(np.diff(cell).max())):
        same = (cx[k:] == cx[:-k]) & (cy[k:] == cy[:-k])
        i, j, x, y = box[:-k][same], box[k:][same], cx[k:][same], cy[k:][same]
        meet = (bounds[i, :2] <= bounds[j, 2:]).all(axis=1) & (bounds[j, :2] <= bounds[i, 2:]).all(
            axis=1
        )
        corner = np.floor(np.maximum(bounds[i, :2], bounds[j, :2]) / size).astype(np.int64)
        keep = meet & (corner[:, 0] == x) & (corner[:, 1] == y)
        found.append(np.column_stack([i[keep], j[keep]]))  # i < j: sorted by box in a cell
    return np.concatenate(found)
