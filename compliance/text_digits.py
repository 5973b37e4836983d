"""Numbers written with other digits than ASCII's, carried into ASCII before text is read.

A position written "３７．５６１２３４" (full-width forms, as CJK text often writes digits),
"٣٧٫٥٦١٢" (Arabic-Indic, with the Arabic decimal separator) or "३७.५६" (Devanagari) is
the same number to anyone who reads it; Python's ``float`` takes any script's decimal
digits, but not their points. The text scans look for ASCII digits, so a value holding
such a digit or point is folded first (``fold``): NFKC turns the full-width and small
forms into ASCII (digits, the point, and the letters and brackets of WKT written in
full-width forms), every other script's decimal digit becomes its ASCII digit, and the
Arabic decimal separator and the minus sign their ASCII marks.

Most text is ASCII and is left as it is after one test of its bytes. Other text (Korean
addresses, say) is looked up code point by code point in a table of those digits and
points, in NumPy: 0.08 ms for 750 Korean addresses (55 KB). Only values holding one are
folded.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import pyarrow as pa

__all__ = ["column_bytes", "fold", "fold_batch", "fold_column", "has_foreign_digits"]

# Beyond the decimal digits, the marks that join digits into one number: the full-width
# and small full stops and the Arabic decimal separator ("37．5" is one number, "37,5"
# two either way). A sign or a blank between numbers changes nothing the scans need (the
# tracks try both signs), and text without a digit of another script or one of these
# marks reads the same folded or not: only text with one is folded.
_POINTS = {0xFF0E: ".", 0xFE52: ".", 0x066B: "."}
_BMP = 0x10000
_ASCII = bytes(range(128))
_SURROGATES = slice(0xD800, 0xE000)
# The first digit (0) of each run of ten beyond the BMP, as of Unicode 14
# (tests/test_text_digits.py holds it to this Python's own table).
_BEYOND_BMP = (
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0,
    0x1E950, 0x1FBF0,
)  # fmt: skip


@cache
def _table() -> tuple[np.ndarray, dict[int, str]]:
    """Which UTF-16 code units are a digit or a decimal point of another script (or the
    first half of a pair whose block holds digits beyond the BMP), and what
    ``str.translate`` turns the digits and points into. Built on first use (about 3 ms):
    a process that meets only ASCII never builds it."""
    points = np.arange(_BMP, dtype=np.uint32)
    points[_SURROGATES] = 0x20  # no characters of their own
    table = np.char.isdecimal(points.view("<U1"))
    table[:128] = False
    digits = {int(p): str(unicodedata.decimal(chr(p))) for p in np.flatnonzero(table)}
    table[list(_POINTS)] = True
    for start in _BEYOND_BMP:
        table[0xD800 + ((start - _BMP) >> 10)] = True
    return table, digits | _POINTS | {0x2212: "-"}


def has_foreign_digits(data: bytes | str) -> bool:
    """Whether UTF-8 ``data`` (or text) holds a digit or a decimal point of another
    script. Undecodable bytes count as none: they are no character."""
    if data.isascii():
        return False
    if isinstance(data, bytes):
        # ASCII bytes are never part of a longer character: without them, the rest is the
        # text's other characters, fewer to look at where most of it is ASCII (a CRS
        # catalogue's 4 MB of WKT: 24 -> 2 ms).
        data = data.translate(None, _ASCII)
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    hits = np.take(_table()[0], units)
    if not hits.any():
        return False
    if (hits & ((units < 0xD800) | (units >= 0xDC00))).any():
        return True
    # A pair's block holds other characters too (emoji beside the segmented digits).
    return any(c.isdecimal() for c in text if ord(c) >= _BMP)


def fold(text: str) -> str:
    """``text`` with its digits, signs and forms in ASCII (the same text when it is
    ASCII already)."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKC", text)
    table = _table()[1]
    beyond = {p for p in map(ord, folded) if p >= _BMP and chr(p).isdecimal()}
    if beyond:
        table = table | {p: str(unicodedata.decimal(chr(p))) for p in beyond}
    return folded.translate(table)


def fold_column(column: pa.Array, data: bytes | None) -> pa.Array:
    """A text column, its values folded (``fold``) when any holds a digit or a point of
    another script; ``data``: the values' bytes end to end (None when they are not at
    hand: the values are looked at one by one)."""
    if data is not None and not has_foreign_digits(data):
        return column
    values = column.to_pylist()
    if data is None and not any(v and has_foreign_digits(v) for v in values):
        return column
    return pa.array([fold(v) if v else v for v in values], pa.large_string())


def fold_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with each text column ``fold_column``-ed (the same batch when none
    holds a foreign digit)."""
    columns = list(batch.columns)
    changed = False
    for k, column in enumerate(columns):
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            folded = fold_column(column, column_bytes(column))
            changed |= folded is not column
            columns[k] = folded
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def column_bytes(column: pa.Array) -> bytes | None:
    """A text column's values end to end (a slice's buffer may hold more than its rows);
    None when the column is not laid out as offsets and one data buffer."""
    if column.type.num_buffers != 3:
        return None
    data = column.buffers()[2]
    return data.to_pybytes() if data is not None else b""
