"""The numbers taken from text and list columns (``written_numbers``): every number of
each value, with its row; the same from Python's regex and from Arrow's kernel, from any
layout of a text column (a slice, large strings, string views, no data buffer), from
lists of numbers or text at any depth, and degrees, minutes and seconds with their
hemispheres. Truth: the numbers are written here, and read back with float()."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from compliance.measure import written_numbers as module
from compliance.measure.written_numbers import Written, written_numbers


def _per_row(found: Written | None, rows: int) -> list[list[float]]:
    assert found is not None
    assert (np.diff(found.rows) >= 0).all()  # rows ascending
    out: list[list[float]] = [[] for _ in range(rows)]
    for row, value in zip(found.rows.tolist(), found.values.tolist(), strict=True):
        out[row].append(value)
    return out


def _values(n: int) -> list[str | None]:
    rng = np.random.default_rng(5)
    out: list[str | None] = []
    for i in range(n):
        x, y = 126.9 + rng.random(), 37.4 + rng.random()
        out.append([f"{y:.6f}, {x:.6f}", f"site {i} E {x * 2500:.1f}", None, "", "lot 12",
                    f"-{x:.4f} and {i * 10007} then {y:.3f} {x:.2f} {y:.1f}",
                    f"1000.5 2000.5 3000.5 4000.5 5000.5 {x:.7f} {y:.7f}",
                    f"{x:.4f}-{y:.4f} 1.2.3.4 --5.5 x12345.6y 12-34 .5678"][i % 8])  # fmt: skip
    return out


def _truth(text: str | None) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d+|-?\d{4,}", text or "")]


def test_every_number_of_every_value_is_taken_with_its_row():
    column = pa.array(_values(80))
    assert _per_row(written_numbers(column), 80) == [_truth(v) for v in _values(80)]
    # The sixth and seventh numbers of a row are there, after five others.
    assert len(_per_row(written_numbers(column), 80)[6]) == 7
    # Numbers joined by a dash or a point are taken as findall takes them.
    x = float(column[7].as_py()[:8])
    assert _per_row(written_numbers(column), 80)[7][:4] == [
        x,
        float(column[7].as_py()[8:17]),
        1.2,
        3.4,
    ]


def test_pythons_regex_and_arrows_kernel_take_the_same_numbers(monkeypatch):
    column = pa.array(_values(600))
    python = _per_row(written_numbers(column), 600)  # 600 values: Python's regex
    monkeypatch.setattr(module, "_MATCH_HERE", 10)
    kernel = _per_row(written_numbers(column), 600)  # past 10 values: Arrow's kernel
    assert kernel == python
    assert python == [_truth(v) for v in _values(600)]


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda a: a.slice(3, 5), id="slice"),
        pytest.param(lambda a: a.cast(pa.large_string()), id="large"),
        pytest.param(lambda a: a.cast(pa.string_view()), id="view"),
    ],
)
def test_every_layout_of_a_text_column_gives_its_numbers(layout):
    column = pa.array(_values(14))
    laid = layout(column)
    expected = _per_row(written_numbers(laid.cast(pa.string())), len(laid))
    assert _per_row(written_numbers(laid), len(laid)) == expected
    assert expected == [_truth(v) for v in laid.cast(pa.string()).to_pylist()]
    assert any(expected)


def test_columns_without_a_coordinate_sized_number_give_none():
    for column in (pa.array(["poi 1", "poi 22", None]), pa.array(["", ""]),
                   pa.array([None, None], pa.string())):  # fmt: skip
        found = written_numbers(column)
        assert found is not None and found.values.size == 0 and found.rows.size == 0
    assert written_numbers(pa.array([1.5, 2.5])) is None  # not written: a number


def test_lists_give_each_item_with_its_row():
    precise = [[126.9054109, 37.5521934], None, [], [1, 2, 3, 4, 5, 126.91, 37.56]]
    found = _per_row(written_numbers(pa.array(precise, pa.list_(pa.float64()))), 4)
    assert found == [[126.9054109, 37.5521934], [], [], [1, 2, 3, 4, 5, 126.91, 37.56]]
    # Whole numbers place something from four digits on, as in text.
    ints = pa.array([[1, 2, 1270454, -3751234], [12, 999]], pa.list_(pa.int64()))
    assert _per_row(written_numbers(ints), 2) == [[1270454.0, -3751234.0], []]


def test_lists_of_lists_and_of_text_and_slices():
    nested = pa.array([[[126.9, 37.5], [127.1, 37.6]], None, [[127.2, 37.7]]])
    assert _per_row(written_numbers(nested), 3) == [[126.9, 37.5, 127.1, 37.6], [], [127.2, 37.7]]
    assert _per_row(written_numbers(nested.slice(1)), 2) == [[], [127.2, 37.7]]
    texts = pa.array([["site", "126.9054 37.5521"], ["３７．５６１２"], None])
    assert _per_row(written_numbers(texts), 3) == [[126.9054, 37.5521], [37.5612], []]
    fixed = pa.array([[126.9, 37.5], [127.1, 37.6]], pa.list_(pa.float64(), 2))
    assert _per_row(written_numbers(fixed), 2) == [[126.9, 37.5], [127.1, 37.6]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("37°30'12.3\"N 127°02'44.2\"E", [37.50341667, 127.04561111]),
        ("33°51'S 151°12'E", [-33.85, 151.2]),
        ("S 33° 51' W 151° 12'", [-33.85, -151.2]),
        ("N 37° 30.205' E 127° 2.737'", [37.50341667, 127.04561667]),
        ("37도 30분 12.3초, 127도 2분 44.2초", [37.50341667, 127.04561111]),
        ("37°30'12.3\" S", [-37.50341667]),
    ],
)
def test_degrees_minutes_and_seconds_are_read_as_decimal_degrees(text, expected):
    got = _per_row(written_numbers(pa.array([text])), 1)[0]
    assert got == pytest.approx(expected, abs=1e-8)


def _naive_packed(blobs: list[bytes | None]) -> list[list[float]]:
    """Each blob's numbers as ``written_numbers`` reads bytes, one layout and offset at
    a time with ``struct`` (the layouts' limits and size bounds as there)."""
    out: list[list[float]] = []
    for blob in blobs:
        found: list[float] = []
        for layout, longest in module._LAYOUTS.items():
            if blob is None or (longest is not None and len(blob) > longest):
                continue
            code = {"f8": "d", "f4": "f", "i4": "i"}[layout[1:]]
            size = np.dtype(layout).itemsize
            for shift in range(size):
                for k in range((len(blob) - shift) // size):
                    (v,) = struct.unpack(
                        layout[0] + code, blob[shift + k * size : shift + (k + 1) * size]
                    )
                    v = float(v)
                    small, large = module._SIZED
                    if (
                        np.isfinite(v)
                        and small <= abs(v) <= large
                        and (layout not in module._INTEGERS or abs(v) >= module._WHOLE_FROM)
                    ):
                        found.append(v)
        out.append(sorted(found))
    return out


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_blobs_give_their_bytes_read_in_every_layout_and_offset(kind):
    rng = np.random.default_rng(8)
    blobs: list[bytes | None] = [
        struct.pack("<2d", 127.0451234, 37.5123456), None, b"",
        b"xy" + struct.pack(">2f", 127.04, 37.51), struct.pack("<2i", 1270451234, 375123456),
        rng.bytes(100), rng.bytes(5000),
    ]  # fmt: skip
    column = pa.array(blobs, kind)
    # No value here is text: the bytes alone give the numbers.
    got = [sorted(v) for v in _per_row(written_numbers(column), len(blobs))]
    assert got == _naive_packed(blobs)
    assert 127.0451234 in got[0] and 37.5123456 in got[0]
    assert 1270451234.0 in got[4]
    sliced = column.slice(3, 3)
    assert [sorted(v) for v in _per_row(written_numbers(sliced), 3)] == _naive_packed(blobs[3:6])


def _list_layouts() -> list[pa.Array]:
    plain = pa.array([[1.5, None, 3.0], [], [4.0], [5.0, 6.0]])
    nested = pa.array([[[1, 2], []], [[3]], [], [[4, 5, 6]]])
    fixed = pa.array([[1, 2], [3, 4], [5, 6], [7, 8]], pa.list_(pa.int64(), 2))
    return [
        plain,
        plain.slice(1),
        plain.slice(1, 2),
        plain.cast(pa.large_list(pa.float64())).slice(2),
        nested,
        nested.slice(1),
        fixed,
        fixed.slice(1, 2),
        pa.array([[1.0], None, [2.0, 3.0]]),  # a null list: Arrow's kernels
        pa.array([[]], pa.list_(pa.int64())),
    ]


@pytest.mark.parametrize("column", _list_layouts(), ids=range(len(_list_layouts())))
def test_list_items_and_their_rows_are_arrows_own(column):
    import pyarrow.compute as pc

    items, rows = module._items(column)
    assert items.equals(column.flatten())
    assert rows.tolist() == pc.list_parent_indices(column).to_pylist()


def test_lists_without_a_null_list_are_read_without_arrows_kernels(tmp_path):
    """Lists as a reader hands them over (Arrow IPC here, as GDAL's stream): read with
    their offsets, without importing ``pyarrow.compute`` (50 ms a check process)."""
    path = tmp_path / "lists.arrow"
    table = pa.table(
        {
            "a": pa.array([[126.9054109, 37.5521934], [], [1, 2]]),
            "n": pa.array([[[1270454]], [[12, 3751234]], []]),
            "f": pa.array([[126.9, 37.5], [127.1, 37.6], [1.0, 2.0]], pa.list_(pa.float64(), 2)),
        }
    )
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    code = (
        "import sys, json\n"
        "from compliance.cli.lean_import import without_data_frames\n"
        "without_data_frames()\n"
        "import pyarrow as pa\n"
        "from compliance.measure.written_numbers import written_numbers\n"
        f"table = pa.ipc.open_file({str(path)!r}).read_all().combine_chunks()\n"
        "out = {}\n"
        "for name in table.column_names:\n"
        "    found = written_numbers(table.column(name).chunk(0))\n"
        "    out[name] = [found.values.tolist(), found.rows.tolist()]\n"
        "print(json.dumps([out, 'pyarrow.compute' in sys.modules]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found, loaded = json.loads(run.stdout)
    assert found == {
        "a": [[126.9054109, 37.5521934, 1.0, 2.0], [0, 0, 2, 2]],
        "n": [[1270454.0, 3751234.0], [0, 1]],
        "f": [[126.9, 37.5, 127.1, 37.6, 1.0, 2.0], [0, 0, 1, 1, 2, 2]],
    }
    assert loaded is False
