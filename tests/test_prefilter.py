"""The box fast path may skip exact geometry only when that cannot change an answer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box

from compliance.prefilter import CLEAR, INSIDE, CellGrid
from compliance.wkb_bounds import wkb_boxes

SHAPES = [
    Point(1, 2),
    Point(1, 2, 3),
    LineString([(0, 0), (3, 4), (-1, 2)]),
    LineString([(0, 0, 1), (3, 4, 1)]),
    box(0, 0, 2, 3),
    Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2)]]),
    MultiPolygon([box(5, 5, 6, 7)]),
    MultiPolygon([box(0, 0, 1, 1), box(3, 3, 4, 4)]),
    MultiLineString([[(1, 1), (9, -3)]]),
    shapely.GeometryCollection([Point(0, 0)]),
    Polygon(),
    None,
]


@pytest.mark.parametrize("start", range(4))
def test_wkb_boxes_match_shapely_or_defer(start):
    # Slicing shifts the rows' byte offsets, so every alignment of the coordinate doubles is hit.
    geoms = np.array(SHAPES, dtype=object)
    column = pa.array(shapely.to_wkb(geoms, flavor="iso")).slice(start)
    found = wkb_boxes(column)
    expected = shapely.bounds(geoms[start:])
    assert np.array_equal(found.bounds[found.fast], expected[found.fast])
    assert found.null.tolist() == [g is None for g in geoms[start:]]
    # Every simple shape takes the fast path; multi-part and holed ones are left to shapely.
    fast_kinds = {type(g).__name__ for g, f in zip(geoms[start:], found.fast, strict=True) if f}
    assert fast_kinds <= {"Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString"}
    assert found.has_z is any(g is not None and g.has_z for g in geoms[start:])


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("start", range(3))
def test_wkb_boxes_of_rows_with_many_and_uneven_point_counts(start):
    # Rows of a common length are read as a table, the rest run by run: both must give
    # shapely's boxes, and a non-finite coordinate anywhere must defer the row.
    rng = np.random.default_rng(start)
    counts = np.concatenate(
        [rng.integers(2, 70, 400), np.full(600, 5), np.full(400, 17), rng.integers(60, 400, 40)]
    )
    counts = np.concatenate([rng.permutation(counts), [64, 65, 2]])
    geoms = []
    for i, n in enumerate(counts):
        xy = rng.normal(size=(int(n), 2)) * 1000
        if i % 50 == 7:
            xy[rng.integers(n), rng.integers(2)] = np.inf if i % 100 == 7 else np.nan
        geoms.append(LineString(xy) if i % 3 else MultiLineString([xy]))
    geoms = np.array(geoms, dtype=object)
    column = pa.array(shapely.to_wkb(geoms, flavor="iso")).slice(start)
    found = wkb_boxes(column)
    finite = np.array([np.isfinite(shapely.get_coordinates(g)).all() for g in geoms[start:]])
    assert found.fast.tolist() == finite.tolist()
    assert np.array_equal(found.bounds[found.fast], shapely.bounds(geoms[start:])[found.fast])


def test_big_endian_wkb_is_deferred():
    column = pa.array([shapely.to_wkb(box(0, 0, 1, 1), byte_order=0)])
    assert not wkb_boxes(column).fast.any()


def test_grid_never_clears_a_feature_that_touches_a_zone():
    rng = np.random.default_rng(3)
    centres = rng.random((300, 2)) * 1000
    zones = shapely.buffer(shapely.points(centres), rng.random(300) * 8 + 1)
    grid = CellGrid.build(zones, cells=128, find_inside=True)
    feats = shapely.box(
        *(np.hstack([c := rng.random((20000, 2)) * 1000, c + rng.random((20000, 2)) * 6]).T)
    )
    # Features that only touch a zone at one point: a box whose corner sits on a zone's boundary.
    corner = shapely.get_coordinates(shapely.boundary(zones[:50]))[::7][:200]
    touching = shapely.box(corner[:, 0], corner[:, 1], corner[:, 0] + 3, corner[:, 1] + 3)
    feats = np.concatenate([feats, touching])
    state = grid.classify(shapely.bounds(feats))
    tree = shapely.STRtree(zones)
    hit = np.zeros(feats.size, dtype=bool)
    hit[np.unique(tree.query(feats, predicate="intersects")[0])] = True
    assert not np.any(hit & (state == CLEAR)), "a feature touching a zone was cleared by its box"
    assert np.all(hit[state == INSIDE]), "a feature called inside does not touch"
    assert (state == CLEAR).mean() > 0.5, "the grid should clear most features here"


def test_non_finite_boxes_are_never_cleared():
    grid = CellGrid.build(np.array([box(0, 0, 1, 1)], dtype=object))
    state = grid.classify(np.array([[np.nan, np.nan, np.nan, np.nan], [5.0, 5.0, 6.0, 6.0]]))
    assert state[0] != CLEAR and state[1] == CLEAR
