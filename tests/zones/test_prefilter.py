"""The box fast path may skip exact geometry only when that cannot change an answer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box

from compliance.arrays import finite_rows
from compliance.locations import rules_dir
from compliance.measure.wkb_bounds import numpy_boxes, wkb_boxes
from compliance.zones.prefilter import CLEAR, INSIDE, CellGrid, _summed
from compliance.zones.territory import load_territory

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
    found = numpy_boxes(column)
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
    found = numpy_boxes(column)
    finite = np.array([np.isfinite(shapely.get_coordinates(g)).all() for g in geoms[start:]])
    assert found.fast.tolist() == finite.tolist()
    assert np.array_equal(found.bounds[found.fast], shapely.bounds(geoms[start:])[found.fast])


def test_big_endian_wkb_is_deferred_by_the_numpy_reader():
    column = pa.array([shapely.to_wkb(box(0, 0, 1, 1), byte_order=0)])
    assert not numpy_boxes(column).fast.any()


def _mixed_shapes(n: int, seed: int) -> np.ndarray:
    """Every WKB form, 2-D and 3-D, with NaN and infinite coordinates and empties mixed in."""
    rng = np.random.default_rng(seed)
    empties = ["POINT EMPTY", "LINESTRING EMPTY", "POLYGON EMPTY", "MULTIPOLYGON EMPTY"]
    geoms = []
    for i in range(n):
        xy = rng.normal(size=(int(rng.integers(4, 30)), 3)) * 1000
        if i % 5 == 0:  # never the first point: a ring must stay closed
            xy[rng.integers(1, len(xy)), rng.integers(2)] = [np.nan, np.inf, -np.inf][i % 3]
        flat = xy[:, :2] if i % 2 else xy
        kind = i % 7
        if kind == 0:
            geoms.append(shapely.points(flat[0]))
        elif kind == 1:
            geoms.append(shapely.linestrings(flat))
        elif kind == 2:
            geoms.append(shapely.polygons(np.vstack([flat, flat[:1]])))
        elif kind == 3:
            geoms.append(shapely.multipoints(flat))
        elif kind == 4:
            geoms.append(
                MultiPolygon(
                    [box(*xy[0, :2], *(xy[0, :2] + 5)), box(*xy[0, :2] + 9, *xy[0, :2] + 12)]
                )
            )
        elif kind == 5:
            geoms.append(
                shapely.geometrycollections(
                    [shapely.points(flat[0]), shapely.linestrings(flat[1:3])]
                )
            )
        else:
            geoms.append(shapely.from_wkt(empties[i % 4]))
    return np.array([*geoms, None], dtype=object)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize(("byte_order", "start"), [(1, 0), (1, 3), (0, 0), (0, 5)])
def test_wkb_boxes_are_geos_envelopes_for_every_form(byte_order, start):
    # GeoArrow's kernel reads every form in either byte order: its boxes must be GEOS's,
    # NaN passed over, empties and infinite coordinates without a finite box.
    geoms = _mixed_shapes(2100, seed=byte_order)
    column = pa.array(shapely.to_wkb(geoms, flavor="iso", byte_order=byte_order)).slice(start)
    found = wkb_boxes(column)
    expected = shapely.bounds(geoms[start:])
    assert found.null.tolist() == [g is None for g in geoms[start:]]
    assert found.fast.tolist() == [g is not None for g in geoms[start:]]
    finite = np.isfinite(expected).all(axis=1)
    assert np.isfinite(found.bounds).all(axis=1).tolist() == finite.tolist()
    assert np.array_equal(found.bounds[finite], expected[finite])
    assert found.has_z


def test_has_z_is_read_from_every_byte_order_and_ewkb():
    flat = [Point(1, 2), LineString([(0, 0), (1, 1)])]
    assert not wkb_boxes(pa.array(shapely.to_wkb(flat, byte_order=0))).has_z
    for order in (0, 1):
        for flavor in ("iso", "extended"):
            wkb = shapely.to_wkb([*flat, Point(1, 2, 3)], byte_order=order, flavor=flavor)
            assert wkb_boxes(pa.array(wkb)).has_z, (order, flavor)


def test_a_batch_geoarrow_refuses_is_read_by_numpy_and_shapely():
    # A circular string (WKB type 8) is a form GeoArrow does not read: the whole batch goes
    # the other way, where the simple rows still get their boxes and the curve is deferred.
    curve = (
        bytes.fromhex("0108000000")
        + (3).to_bytes(4, "little")
        + np.array([0, 0, 1, 1, 2, 0], dtype="<f8").tobytes()
    )
    column = pa.array([shapely.to_wkb(box(0, 0, 1, 2)), curve, shapely.to_wkb(Point(5, 6))])
    found = wkb_boxes(column)
    assert found.fast.tolist() == [True, False, True]
    assert found.bounds[0].tolist() == [0, 0, 1, 2]
    assert found.bounds[2].tolist() == [5, 6, 5, 6]


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


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (33, 17), (1024, 1024), (700, 1024)])
def test_the_summed_area_table_counts_every_cell_up_to_each_corner(shape):
    mask = np.random.default_rng(shape[0] * 7 + shape[1]).random(shape) < 0.3
    table = _summed(mask).reshape(shape[0] + 1, shape[1] + 1)
    assert not table[0].any() and not table[:, 0].any()
    # Truth: summed in the other order, in int64 (each axis's cumsum as NumPy does it).
    assert np.array_equal(table[1:, 1:], mask.astype(np.int64).cumsum(axis=1).cumsum(axis=0))
    rng = np.random.default_rng(1)
    for y, x in zip(rng.integers(0, shape[0], 20), rng.integers(0, shape[1], 20), strict=True):
        assert table[y + 1, x + 1] == np.count_nonzero(mask[: y + 1, : x + 1])


def test_non_finite_boxes_are_never_cleared():
    grid = CellGrid.build(np.array([box(0, 0, 1, 1)], dtype=object))
    state = grid.classify(np.array([[np.nan, np.nan, np.nan, np.nan], [5.0, 5.0, 6.0, 6.0]]))
    assert state[0] != CLEAR and state[1] == CLEAR


def test_a_hole_poking_out_of_its_shell_stays_inside_the_box():
    # GEOS's envelope of a polygon is its shell's; the box must hold every coordinate read.
    shell = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
    hole = [(1, 1), (1, 6), (2, 1), (1, 1)]
    column = pa.array([shapely.to_wkb(Polygon(shell, [hole]))])
    assert wkb_boxes(column).bounds[0].tolist() == [0, 0, 4, 6]


def test_finite_rows_flags_a_box_with_any_value_not_finite():
    rng = np.random.default_rng(5)
    boxes = rng.normal(size=(400, 4)) * 1e6
    for i, bad in enumerate([np.nan, np.inf, -np.inf] * 40):
        boxes[3 * i + 1, i % 4] = bad
    expected = np.isfinite(boxes).all(axis=1)
    assert finite_rows(boxes).tolist() == expected.tolist()
    # Strided and empty inputs too: a column slice of a wider table, and no rows at all.
    wide = np.hstack([boxes, boxes])
    assert finite_rows(wide[:, 2:6]).tolist() == np.isfinite(wide[:, 2:6]).all(axis=1).tolist()
    assert finite_rows(np.empty((0, 4))).size == 0


def _inside_truth(polygons: np.ndarray, grid: CellGrid, grow: float = 0.0) -> np.ndarray:
    """Per cell: GEOS says the union contains the cell's closed box, grown by ``grow``
    cells on every side (computed here, apart from the grid's own way)."""
    ys, xs = np.mgrid[0 : grid.ny, 0 : grid.nx]
    x0, y0, c = grid.x0, grid.y0, grid.cell
    g = grow * c
    cells = shapely.box(
        x0 + xs * c - g, y0 + ys * c - g, x0 + (xs + 1) * c + g, y0 + (ys + 1) * c + g
    )
    return shapely.contains(shapely.union_all(polygons), cells)


def _inside_cells(grid: CellGrid) -> np.ndarray:
    """Per cell: the grid calls it inside (from its summed-area table)."""
    if grid.inside_sum is None:
        return np.zeros((grid.ny, grid.nx), dtype=bool)
    table = grid.inside_sum.reshape(grid.ny + 1, grid.nx + 1)
    return np.diff(np.diff(table, axis=0), axis=1) == 1


def _territory_tiles(name: str, grown_m: float) -> np.ndarray:
    territory = load_territory(name, rules_dir() / "territories" / f"{name}.geojson", grown_m)
    return territory.areas.grown(np.arange(min(len(territory.areas), 60)))


def _slit_square() -> np.ndarray:
    # A square cut by a crack far thinner than any cell, from its edge to past its middle:
    # the cells the crack runs through are not inside, though their centres are.
    return np.array([shapely.difference(box(0, 0, 100, 100), box(49.99, -1, 50.01, 70))])


POLYGON_SETS = {
    "circles": lambda: shapely.buffer(
        shapely.points(np.random.default_rng(4).random((200, 2)) * 1000), 40.0
    ),
    "holes": lambda: np.array(
        [
            shapely.difference(
                box(0, 0, 90, 60),
                shapely.union_all(shapely.buffer(shapely.points([[20, 20], [60, 30]]), 9)),
            )
        ]
    ),
    "shared edges": lambda: np.array([box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 20, 11)]),
    "slit": _slit_square,
    # A site a third of a millimetre across, ten thousand kilometres from the origin: at
    # 512 cells a side, a cell is about 300 units of the coordinates' round-off.
    "far from the origin": lambda: shapely.buffer(
        shapely.points([[1e7 + 1e-4, 5e6 + 1.2e-4], [1e7 + 2e-4, 5e6 + 1.5e-4]]), 1e-4
    ),
    "kr territory grown": lambda: _territory_tiles("kr", 22_224.0),
    "in territory": lambda: _territory_tiles("in", 22_224.0),
}


@pytest.mark.parametrize("cells", [16, 128, 512])
@pytest.mark.parametrize("name", sorted(POLYGON_SETS))
def test_inside_cells_are_cells_geos_finds_inside(name, cells):
    polygons = POLYGON_SETS[name]()
    grid = CellGrid.build(polygons, cells=cells, find_inside=True)

    inside = _inside_cells(grid)

    assert not (inside & ~_inside_truth(polygons, grid)).any(), "called inside, is not"
    # Only cells the boundary comes within a cell of may be missed (an edge's box, an edge
    # being at most a cell long, reaches no further).
    far_inside = _inside_truth(polygons, grid, grow=1.01)
    assert not (far_inside & ~inside).any()
    assert far_inside.any() or cells < 128  # at 16 cells a side, no circle holds 3 x 3 cells


def test_a_crack_through_a_square_splits_its_inside_cells():
    polygons = _slit_square()
    grid = CellGrid.build(polygons, cells=16, find_inside=True)
    inside = _inside_cells(grid)
    column = int((50.0 - grid.x0) // grid.cell)
    crack_rows = int((70.0 - grid.y0) // grid.cell)
    assert not inside[: crack_rows + 1, column].any()
    assert inside[crack_rows + 2, column] and inside[crack_rows + 2, column + 1]
    assert inside[1:-2, 2].all()  # a column far from the crack, but for the outline's rows
