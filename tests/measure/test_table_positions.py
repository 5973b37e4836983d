"""``table_positions``: a value of millions of numbers is met as a value of a few.

``holds_a_table`` first keeps the numbers that lie in some window's range in some unit,
a slice at a time; the answer must be the one the whole value gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from compliance.measure import table_positions as module
from compliance.measure.table_positions import Window, holds_a_table
from compliance.measure.written_numbers import Written

WINDOWS = [
    [Window((126.9, 37.5, 127.0, 37.6), True)],
    [Window((190_000.0, 540_000.0, 200_000.0, 550_000.0), False), Window((126.8, 37.3, 126.9, 37.4), True)],
    [Window((-0.2, 51.4, 0.1, 51.6), True)],  # across the prime meridian
]  # fmt: skip


def _value(
    rng: np.random.Generator, size: int, window: Window, hidden: int, far: bool = False
) -> np.ndarray:
    """``size`` numbers of any size (or ``far`` from every window in every unit),
    ``hidden`` of them in the window's ranges."""
    if far:
        values = rng.uniform(1e12, 1e13, size)
    else:
        values = rng.uniform(-1e7, 1e7, size) * rng.choice([1e-6, 1e-3, 1.0, 1e3], size)
    x0, y0, x1, y1 = window.box
    values[:hidden] = rng.uniform(x0, x1, hidden)
    values[hidden : 2 * hidden] = rng.uniform(y0, y1, hidden)
    return rng.permutation(values)


@pytest.mark.parametrize("windows", WINDOWS)
@pytest.mark.parametrize("hidden", [0, 3, 6, 40])
def test_a_long_value_is_met_as_its_whole(windows, hidden):
    rng = np.random.default_rng(hidden)
    values = _value(rng, 300_000, windows[0], hidden)
    written = Written(values, np.zeros(values.size, dtype=np.int64))
    whole = any(module._crowded(values, w) for w in windows)  # every number, at once
    assert holds_a_table(written, windows) == whole


@pytest.mark.parametrize("windows", WINDOWS)
@pytest.mark.parametrize("hidden", [0, 4, 5, 40])
def test_five_positions_among_far_numbers_are_a_table(windows, hidden):
    values = _value(np.random.default_rng(hidden), 300_000, windows[0], hidden, far=True)
    written = Written(values, np.zeros(values.size, dtype=np.int64))
    assert holds_a_table(written, windows) == (hidden >= 5)


def test_only_numbers_outside_every_window_are_left_out():
    rng = np.random.default_rng(1)
    windows = WINDOWS[1]
    values = rng.uniform(-1e9, 1e9, 200_000)
    kept = module._near_some_window(values, windows)
    left = np.setdiff1d(values, kept)
    for window in windows:
        scaled = left[None, :] / module.divisors(window.degrees, window.unit_m)[:, None]
        reach = module.REACH[window.degrees]
        for axis in (0, 1):
            low, high = window.box[axis] - reach, window.box[axis + 2] + reach
            assert not ((scaled >= low) & (scaled <= high)).any()
