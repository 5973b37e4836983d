"""Other scripts' digits found in text and folded into ASCII: held to Python's own
Unicode database (``unicodedata``, ``str.isdecimal``), computed here independently."""

from __future__ import annotations

import random
import sys
import unicodedata

import pyarrow as pa
import pytest

from compliance import text_digits
from compliance.text_digits import column_bytes, fold, fold_batch, fold_column, has_foreign_digits

_POINTS = "\uff0e\ufe52\u066b"  # full-width and small full stops, Arabic decimal separator
_ALL_DECIMALS = [chr(p) for p in range(128, sys.maxunicode + 1) if chr(p).isdecimal()]


def _truth(text: str) -> bool:
    return any((ord(c) >= 128 and c.isdecimal()) or c in _POINTS for c in text)


def test_the_runs_beyond_the_bmp_are_this_pythons():
    starts = [c for c in _ALL_DECIMALS if ord(c) >= 0x10000 and unicodedata.decimal(c) == 0]
    assert tuple(ord(c) for c in starts) == text_digits._BEYOND_BMP


def test_every_decimal_digit_of_every_script_folds_into_its_ascii_digit():
    assert len(_ALL_DECIMALS) > 600
    for c in _ALL_DECIMALS:
        assert has_foreign_digits(c), hex(ord(c))
        assert has_foreign_digits(c.encode()), hex(ord(c))
        assert fold(c) == str(unicodedata.decimal(c)), hex(ord(c))


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("３７．５６１２３４", "37.561234"),
        ("٣٧٫٥٦١٢", "37.5612"),
        ("۳۷٫۵۶", "37.56"),
        ("३७.५६", "37.56"),
        ("๓๗.๕๖", "37.56"),
        ("37．5", "37.5"),
        ("−３３.８６", "-33.86"),
        ("ＰＯＩＮＴ（１２６.９ ３７.５）", "POINT(126.9 37.5)"),
        ("𝟑𝟕.𝟓", "37.5"),
    ],
)
def test_numbers_in_other_scripts_read_as_their_values(written, read):
    assert has_foreign_digits(written)
    assert fold(written) == read


def test_the_test_agrees_with_the_unicode_database_on_mixed_text():
    rng = random.Random(11)
    pool = (
        [chr(c) for c in range(0x20, 0x7F)]
        + list("서울특별시종로구（주）・…※“”")
        + ["🏠", "🤔", "🯰", "\U0001d7ce", "\udc80"]
        + rng.sample(_ALL_DECIMALS, 40)
        + list(_POINTS)
        + [chr(c) for c in rng.sample(range(0x80, 0x30000), 300)]
    )
    for _ in range(3000):
        text = "".join(rng.choices(pool, k=rng.randint(0, 12)))
        assert has_foreign_digits(text) == _truth(text), ascii(text)
        data = text.encode("utf-8", "surrogatepass")
        assert has_foreign_digits(data) == _truth(data.decode("utf-8", "replace")), ascii(text)


def test_korean_text_with_ascii_digits_and_full_width_brackets_is_left_alone():
    column = pa.array(["서울특별시 종로구 세종대로 175 （주）", "가게 12호 🏠", None])
    assert not has_foreign_digits(column_bytes(column))
    assert fold_column(column, column_bytes(column)) is column
    batch = pa.RecordBatch.from_arrays([column, pa.array([1, 2, 3])], names=["a", "b"])
    assert fold_batch(batch) is batch


def test_a_batch_folds_only_its_text_columns_with_foreign_digits():
    batch = pa.RecordBatch.from_arrays(
        [pa.array(["３７．５", None, "abc"]), pa.array(["x", "y", "z"]), pa.array([1, 2, 3])],
        names=["a", "b", "c"],
    )
    folded = fold_batch(batch)
    assert folded.column("a").to_pylist() == ["37.5", None, "abc"]
    assert folded.column("b") is batch.column("b") or folded.column("b").equals(batch.column("b"))
    assert folded.column("c").to_pylist() == [1, 2, 3]
    assert folded.schema.names == ["a", "b", "c"]


def test_a_column_without_its_bytes_at_hand_is_looked_at_value_by_value():
    column = pa.array(["a", "٣٧٫٥"], pa.string_view()) if hasattr(pa, "string_view") else None
    if column is None:
        pytest.skip("no string_view in this pyarrow")
    assert column_bytes(column) is None
    assert fold_column(column, None).to_pylist() == ["a", "37.5"]
