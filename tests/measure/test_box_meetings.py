"""Which boxes meet: the grid, the tree and the bound on what a chunk returns, against
pairs met one by one here (shapely's own ``intersects`` on every pair of boxes)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from compliance.measure import box_meetings
from compliance.measure.box_meetings import axis_bound, box_pairs, chunked


def _truth(bounds: np.ndarray) -> set[tuple[int, int]]:
    boxes = shapely.box(*bounds.T)
    i, j = np.triu_indices(len(boxes), 1)
    meet = shapely.intersects(boxes[i], boxes[j])
    return set(zip(i[meet].tolist(), j[meet].tolist(), strict=True))


def _layout(kind: str, rng: np.random.Generator, n: int = 600) -> np.ndarray:
    """Boxes as maps draw them: buildings apart, rows touching, sizes mixed, points."""
    if kind == "apart":
        i, j = np.divmod(np.arange(n), 25)
        xy = np.column_stack([i * 15.0, j * 15.0])
        return np.column_stack([xy, xy + 10.0])
    if kind == "touching":
        i, j = np.divmod(np.arange(n), 25)
        xy = np.column_stack([i * 12.0, j * 20.0])
        return np.column_stack([xy, xy + [12.0, 10.0]])
    xy = rng.random((n, 2)) * 500
    wh = rng.random((n, 2)) * (200 if kind == "mixed" else 20)
    if kind == "points":
        wh[: n // 2] = 0.0
    return np.column_stack([xy, xy + wh])


@pytest.mark.parametrize("kind", ["apart", "touching", "random", "mixed", "points"])
def test_the_pairs_that_meet_are_all_found_once(kind):
    bounds = _layout(kind, np.random.default_rng(7))
    pairs = box_pairs(bounds, most=len(bounds))
    assert pairs is not None
    found = list(map(tuple, pairs.tolist()))
    assert len(found) == len(set(found))  # each once
    assert set(found) == _truth(bounds)


def test_the_grid_and_the_tree_agree(monkeypatch):
    """Mixed sizes leave the grid for the tree; the same boxes of like size stay on it."""
    bounds = _layout("mixed", np.random.default_rng(3))
    assert box_meetings._grid_pairs(bounds) is None
    like = _layout("random", np.random.default_rng(3))
    on_grid = box_meetings._grid_pairs(like)
    assert on_grid is not None
    monkeypatch.setattr(box_meetings, "_grid_pairs", lambda bounds: None)
    in_tree = box_pairs(like, most=len(like))
    assert in_tree is not None
    assert set(map(tuple, on_grid.tolist())) == set(map(tuple, in_tree.tolist()))


def test_boxes_within_boxes_are_crowded():
    r = 1.0 + np.arange(2_000.0)
    nested = np.column_stack([-r, -r, r, r])
    assert box_pairs(nested, most=32) is None
    assert box_pairs(_layout("apart", np.random.default_rng(0)), most=32) is not None


@pytest.mark.parametrize("kind", ["apart", "touching", "mixed"])
def test_the_axis_bound_holds_what_a_box_meets(kind):
    bounds = _layout(kind, np.random.default_rng(11))
    met = np.ones(len(bounds), dtype=int)  # itself
    for i, j in _truth(bounds):
        met[i] += 1
        met[j] += 1
    assert (axis_bound(bounds) >= met).all()


def test_a_chunk_returns_at_most_its_bound(monkeypatch):
    monkeypatch.setattr(box_meetings, "AT_ONCE", 500)
    r = 1.0 + np.arange(300.0)
    shapes = shapely.box(-r, -r, r, r)  # each meets all 300
    tree = shapely.STRtree(shapes)
    order = np.random.default_rng(0).permutation(len(shapes))
    parts = list(chunked(shapes, order))
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(300))
    assert all(tree.query(shapes[part]).shape[1] <= 500 for part in parts if len(part) > 1)
    assert max(map(len, parts)) == 1  # two of them would meet 600 boxes
