"""``distinct`` gives what ``np.unique`` gives, without loading ``numpy.ma``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from compliance.arrays import distinct, finite_rows, median, rows_all


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint8, np.uint32, np.uint64])
@pytest.mark.parametrize("size", [0, 1, 7, 1_000, 300_000])
@pytest.mark.parametrize("spread", [1, 3, 1_000, 10**6, 2**40])
def test_distinct_equals_np_unique(dtype, size, spread):
    info = np.iinfo(dtype)
    low = max(-spread, int(info.min))
    high = min(spread, int(info.max))
    values = np.random.default_rng(size + spread).integers(low, high, size, endpoint=True)
    values = values.astype(dtype)

    got = distinct(values)

    expected = np.unique(values)
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


def test_distinct_of_a_two_dimensional_array_is_flat():
    values = np.array([[5, 1, 5], [70_000, 1, -3]])
    assert distinct(values).tolist() == [-3, 1, 5, 70_000]


@pytest.mark.parametrize("values", [np.array([1.5, 1.5]), np.array([True, False])])
def test_distinct_takes_integers_only(values):
    with pytest.raises(TypeError, match="integers"):
        distinct(values)


@pytest.mark.parametrize(
    "calls",
    [
        "distinct(np.array([3, 1, 3])); distinct(np.array([2**40, -1]))",
        "median(np.array([3.0, 1.0, 2.5, 7.0])); median(np.array([2.0, 1.0, 5.0]))",
    ],
)
def test_distinct_and_median_do_not_load_numpy_ma(calls):
    code = (
        "import sys, numpy as np\n"
        "from compliance.arrays import distinct, median\n"
        f"{calls}\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_holds_no_number_takes_plain_nans_and_infinities_only() -> None:
    import struct

    from compliance.arrays import holds_no_number

    def with_payload(bits: int) -> float:
        return float(struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_0000 | bits))[0])

    rows = np.array(
        [
            [np.nan, np.nan, np.nan, np.nan],
            [np.inf, np.inf, -np.inf, -np.inf],
            [-np.nan, np.nan, np.inf, np.nan],
            [np.nan, np.nan, with_payload(127_123_456), np.nan],  # a coordinate in the payload
            [np.nan, 0.0, np.nan, np.nan],
        ]
    )
    assert np.isnan(rows[3, 2])
    assert holds_no_number(rows).tolist() == [True, True, True, False, False]


@pytest.mark.parametrize("width", [1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("layout", ["plain", "every other row", "columns reversed", "fortran"])
def test_rows_all_equals_all_along_rows(width, layout):
    flags = np.random.default_rng(width).random((5000, width)) > 0.1
    flags = {
        "plain": flags,
        "every other row": flags[::2],
        "columns reversed": flags[:, ::-1],
        "fortran": np.asfortranarray(flags),
    }[layout]
    assert np.array_equal(rows_all(flags), flags.all(axis=1))


def test_finite_rows_finds_every_nan_and_infinity():
    boxes = np.random.default_rng(3).random((4000, 4))
    for i, bad in enumerate([np.nan, np.inf, -np.inf, -np.nan]):
        boxes[(i * 997) % 4000, i] = bad
    assert np.array_equal(finite_rows(boxes), np.isfinite(boxes).all(axis=1))
    assert finite_rows(boxes).sum() == 3996


@pytest.mark.parametrize("size", [1, 2, 3, 10, 11, 1000])
def test_median_equals_np_median(size):
    rng = np.random.default_rng(size)
    for values in (rng.normal(size=size), rng.integers(0, 5, size), np.arange(size)[::-1]):
        assert median(values) == pytest.approx(float(np.median(values)), abs=0, rel=1e-15)
    assert np.isnan(median(np.array([]))) and np.isnan(median(np.array([1.0, np.nan, 2.0])))
