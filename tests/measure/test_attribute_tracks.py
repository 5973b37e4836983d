"""The numbers taken from text columns (``attribute_tracks.numbers_in_text``): the same
from Python's regex and from Arrow's kernel, from any layout of a text column (a slice,
large strings, string views, no data buffer), and degrees, minutes and seconds with
their hemispheres. Truth: the numbers are written here, and read back with float()."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from compliance.measure import attribute_tracks
from compliance.measure.attribute_tracks import numbers_in_text


def _as_lists(slots: list[np.ndarray]) -> list[list[float | None]]:
    return [[None if np.isnan(v) else float(v) for v in slot] for slot in slots]


def _values(n: int) -> list[str | None]:
    rng = np.random.default_rng(5)
    out: list[str | None] = []
    for i in range(n):
        x, y = 126.9 + rng.random(), 37.4 + rng.random()
        out.append([f"{y:.6f}, {x:.6f}", f"site {i} E {x * 2500:.1f}", None, "", "lot 12",
                    f"-{x:.4f} and {i * 10007} then {y:.3f} {x:.2f} {y:.1f}"][i % 6])  # fmt: skip
    return out


def test_pythons_regex_and_arrows_kernel_take_the_same_numbers(monkeypatch):
    column = pa.array(_values(600))
    python = _as_lists(numbers_in_text(column))  # 600 values: Python's regex
    monkeypatch.setattr(attribute_tracks, "_MATCH_HERE", 10)
    kernel = _as_lists(numbers_in_text(column))  # past 10 values: Arrow's kernel
    assert kernel == python
    # Truth for one row of each writing.
    assert python[0][0] == float(column[0].as_py().split(", ")[0])
    assert [python[k][5] for k in range(4)] == [
        float(v) for v in column[5].as_py().replace(" and ", " ").replace(" then ", " ").split()[:4]
    ]


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda a: a.slice(3, 5), id="slice"),
        pytest.param(lambda a: a.cast(pa.large_string()), id="large"),
        pytest.param(lambda a: a.cast(pa.string_view()), id="view"),
    ],
)
def test_every_layout_of_a_text_column_gives_its_numbers(layout):
    column = pa.array(_values(12))
    expected = _as_lists(numbers_in_text(layout(column).cast(pa.string())))
    assert _as_lists(numbers_in_text(layout(column))) == expected
    assert any(v is not None for v in expected[0])


def test_columns_without_a_coordinate_sized_number_give_none():
    assert numbers_in_text(pa.array(["poi 1", "poi 22", None])) == []
    assert numbers_in_text(pa.array(["", ""])) == []
    assert numbers_in_text(pa.array([None, None], pa.string())) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("37°30'12.3\"N 127°02'44.2\"E", [37.50341667, 127.04561111]),
        ("33°51'S 151°12'E", [-33.85, 151.2]),
        ("S 33° 51' W 151° 12'", [-33.85, -151.2]),
        ("N 37° 30.205' E 127° 2.737'", [37.50341667, 127.04561667]),
        ("37도 30분 12.3초, 127도 2분 44.2초", [37.50341667, 127.04561111]),
        ("37°30'12.3\" S", [-37.50341667, None]),
    ],
)
def test_degrees_minutes_and_seconds_are_read_as_decimal_degrees(text, expected):
    slots = _as_lists(numbers_in_text(pa.array([text])))
    got = [slots[0][0], slots[1][0]]
    assert got == pytest.approx(expected, abs=1e-8)
