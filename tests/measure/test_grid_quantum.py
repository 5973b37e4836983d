"""The grid a layer's coordinates sit on is found from every coordinate: one value off
the grid anywhere in a batch (first, between the chunks the test runs over, last) makes
the grid finer. Truth from each value's decimal digits, not from the project's arithmetic."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from compliance.measure.detail_accumulator import _CHUNK, _QuantumSearch

START = 4  # the search's coarsest grid, 10 km


def own_exponent(value: float) -> int:
    """The exponent of the last significant digit of the shortest decimal for ``value``."""
    return int(Decimal(repr(float(value))).normalize().as_tuple().exponent)


def truth(values: np.ndarray) -> int:
    return min(START, *(own_exponent(v) for v in values))


def on_grid(rng: np.random.Generator, n: int, exponent: int, origin: float) -> np.ndarray:
    """``n`` values on the 10**exponent grid, written as their shortest decimals say."""
    k = rng.integers(0, 10**6, n)
    return np.array([float(Decimal(int(origin) + int(i)) * Decimal(10) ** exponent) for i in k])


@pytest.mark.parametrize(
    ("exponent", "origin"), [(-3, 200_000), (-6, 127), (0, 400_000), (2, 3_000)]
)  # mm in a projected CRS, a micro-degree, a metre, 100 m
@pytest.mark.parametrize("where", ["first", "past the first chunk", "last"])
def test_one_value_off_the_grid_anywhere_makes_it_finer(exponent, origin, where):
    rng = np.random.default_rng(abs(exponent) * 10 + len(where))
    values = on_grid(rng, _CHUNK + 5_000, exponent, origin)
    assert truth(values) >= exponent
    found = _QuantumSearch().search(values.reshape(-1, 2))
    assert found == truth(values)
    at = {"first": 0, "past the first chunk": _CHUNK + 17, "last": values.size - 1}[where]
    off = values.copy()
    off[at] = float(Decimal(repr(float(off[at]))) + Decimal(10) ** (exponent - 2))
    assert own_exponent(off[at]) == exponent - 2
    assert _QuantumSearch().search(off.reshape(-1, 2)) == truth(off) == exponent - 2


def test_full_precision_values_sit_on_no_grid():
    # Below one: a double resolves the finest grid tried (1e-9) by far; a grid within a
    # few ulps of a large value counts as held (see _on_grid), finer than a micrometre.
    rng = np.random.default_rng(7)
    values = rng.uniform(0.1, 1.0, 2 * _CHUNK)
    assert truth(values) < -12
    assert _QuantumSearch().search(values.reshape(-1, 2)) is None


@pytest.mark.parametrize("n", [1, 2, 7, 300, 2048])  # values; a batch within the first search
@pytest.mark.parametrize(("exponent", "origin"), [(-6, 127), (-2, 300_000), (1, 50)])
def test_a_small_batch_finds_its_grid_from_every_value(n, exponent, origin):
    rng = np.random.default_rng(n + 7 * (exponent + 6))
    values = on_grid(rng, n, exponent, origin)
    assert _QuantumSearch().search(values.reshape(-1, 1)) == truth(values)
    for at in {0, n // 2, n - 1}:
        off = values.copy()
        off[at] = float(Decimal(repr(float(off[at]))) + Decimal(10) ** (exponent - 3))
        assert _QuantumSearch().search(off.reshape(-1, 1)) == truth(off) == exponent - 3
    # A full-precision value below one (see the test above): on no grid the search tries.
    off = values.copy()
    off[n - 1] = rng.uniform(0.1, 1.0)
    assert truth(off) < -9
    assert _QuantumSearch().search(off.reshape(-1, 1)) is None


def test_points_keep_their_own_grid_after_lines_on_a_finer_one():
    # A batch of points alone is searched once for both grids; after lines on a finer grid
    # the points' own grid is still searched from the points.
    from pyproj import CRS

    from compliance.measure.detail_accumulator import DetailAccumulator
    from compliance.measure.line_detail import BatchCoordinates

    rng = np.random.default_rng(11)
    points = on_grid(rng, 400, -3, 127).reshape(-1, 2)
    lines = on_grid(rng, 400, -7, 127).reshape(-1, 2)
    detail = DetailAccumulator(CRS("EPSG:4326"))
    alone = detail.measure(BatchCoordinates(points, [], points.copy()))
    assert alone.grid == alone.point_grid == truth(points.ravel())
    detail.merge(detail.measure(BatchCoordinates(lines, [(lines, np.arange(200))], points[:0])))
    assert detail.quantum.exponent == truth(lines.ravel()) < truth(points.ravel())
    after = detail.measure(BatchCoordinates(points, [], points.copy()))
    assert after.grid == truth(lines.ravel())
    assert after.point_grid == truth(points.ravel())
