"""Every number a value writes down: in text, or as the items of a list.

A position need not be a column of its own. "site 4, 127.045612 37.512345", a JSON
array ``[126.9054, 37.5521]`` (GeoJSON keeps a property's array as a list, GML a
property given twice) or the sixth and seventh of seven numbers a row writes are the
position all the same. So no number is passed over for its place in the value: each is
taken with the row it is in (``Written``), whatever comes before it, and the scans
meet a row's numbers together (``compliance.tracks``: a row follows its box when some
number of it does).

In text, a number that could be a coordinate worth keeping has decimals or four digits
and more ("127.045612", "322512"): a whole degree places nothing. Positions written in
degrees, minutes and seconds are read as decimal degrees first.

A blob holds numbers as its bytes: ``struct.pack("<2d", lon, lat)`` is a position to
whoever knows the layout. So a binary column is read as text where its values are text,
and its bytes as doubles and floats of either byte order from every offset (random
bytes, a photo's, seldom make a double the size of a coordinate), and, in values of a
few numbers at most, as 32-bit integers too (integers of 1e-7 degrees), and floats in
values of a few kilobytes (``_LAYOUTS``); all of a row's numbers are the row's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from compliance.text_digits import column_bytes, fold_column

__all__ = ["Written", "written_numbers"]

_NUMBER = re.compile(r"-?\d+\.\d+|-?\d{4,}", re.ASCII)
# Degrees, minutes and seconds ("37°30'12.3\"N", "N 37 30.205'", "37도 30분 12.3초"):
# read as decimal degrees before the numbers are taken.
_DEGREE_MARKS = ("°".encode(), "º".encode(), "도".encode(), "度".encode())
_DMS = re.compile(
    r"(?P<h1>[NSEW])?\s*(?P<d>\d{1,3})\s*(?:°|º|도|度)\s*(?P<m>\d{1,2}(?:\.\d+)?)\s*(?:'|′|분|分)?"
    r"(?:\s*(?P<s>\d{1,2}(?:\.\d+)?)\s*(?:\"|″|''|초|秒)?)?(?:(?P<h2>[NSEW])|\s+(?P<h3>[NSEW])(?!\s*\d))?",
    re.ASCII | re.IGNORECASE,
)
# Digits to 0, the point kept, all else a blank: "x=127.04" -> "  000.00".
_SHAPES = bytes(48 if chr(b).isdigit() and b < 128 else 46 if b == 46 else 32 for b in range(256))
# Arrow's kernel (RE2) for a large column: the characters no number holds become blanks,
# and the pieces left that are a number whole are taken; the few others ("127.04-37.51",
# "1.2.3") are read in Python. No number spans a blank, so each value gives what
# ``findall`` gives.
_NOT_IN_NUMBERS_RE2 = r"[^0-9.\-]+"
_WHOLE_NUMBER_RE2 = r"^(?:-?\d+\.\d+|-?\d{4,})$"
_SOME_NUMBER_RE2 = r"-?\d+\.\d+|-?\d{4,}"
# Up to this many values a column is read in Python: Arrow's kernel costs its import.
_MATCH_HERE = 4096
# A whole number in a list places something from this size on (as four digits in text).
_WHOLE_FROM = 1000
# Layouts a blob's bytes are read in, each with the longest value it is read in (None:
# any). Random bytes (a photo's) make integers of any size and floats the size of
# coordinates often (a quarter of floats, a thirtieth of doubles): integers in a long
# value would place some rows anywhere, and floats cost their count to meet.
_LAYOUTS: dict[str, int | None] = {
    "<f8": None, ">f8": None, "<f4": 4096, ">f4": 4096, "<i4": 64, ">i4": 64,
}  # fmt: skip
_INTEGERS = ("<i4", ">i4")
# A double read from random bytes is this size seldom: the others are dropped first.
_SIZED = (1e-6, 1e12)


@dataclass(frozen=True)
class Written:
    """Numbers written in a column's values, each with the row (of the column) it is in,
    rows ascending."""

    values: np.ndarray
    rows: np.ndarray

    @staticmethod
    def empty() -> Written:
        return Written(np.empty(0), np.empty(0, dtype=np.int64))

    @staticmethod
    def joined(values: list[np.ndarray], rows: list[np.ndarray]) -> Written:
        """Parts of numbers with their rows, as one (rows ascending, each part's order
        within a row kept)."""
        if not values:
            return Written.empty()
        at = np.concatenate(rows).astype(np.int64)
        order = np.argsort(at, kind="stable")
        return Written(np.concatenate(values)[order], at[order])


def written_numbers(column: pa.Array) -> Written | None:
    """The numbers a text, list or binary column writes (or holds as bytes), None for a
    column of another type."""
    if isinstance(column, pa.ExtensionArray):  # GDAL's JSON fields: text underneath
        column = column.storage
    kind = column.type
    if pa.types.is_string_view(kind):
        column, kind = column.cast(pa.large_string()), pa.large_string()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _in_text(column)
    if _is_list(kind):
        return _in_lists(column)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return _in_blobs(column)
    return None


def _is_list(kind: pa.DataType) -> bool:
    return (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    )


def _in_lists(column: pa.Array) -> Written:
    """The items of each list (lists of lists, of numbers or of text, at any depth)."""
    rows = np.arange(len(column))
    while _is_list(column.type):
        column, parents = _items(column)
        rows = rows[parents]
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        found = _in_text(fold_column(column, column_bytes(column)))
        return Written(found.values, rows[found.rows])
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return Written.empty()
    # Nulls come out as NaN (as floats).
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)
    keep = np.isfinite(values)
    if pa.types.is_integer(kind):
        keep &= np.abs(values) >= _WHOLE_FROM
    return Written(values[keep], rows[keep])


def _items(column: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """A column of lists' items, one level down, and the row of each. Read from the
    lists' offsets where no list is null: Arrow's ``flatten`` and parent indices import
    its kernels (50 ms), which a small check spares."""
    if column.null_count:
        import pyarrow.compute as pc

        return column.flatten(), np.asarray(pc.list_parent_indices(column), dtype=np.intp)
    n = len(column)
    if pa.types.is_fixed_size_list(column.type):
        size = column.type.list_size
        items = column.values.slice(column.offset * size, n * size)
        return items, np.repeat(np.arange(n), size)
    offsets = column.offsets.to_numpy(zero_copy_only=False).astype(np.intp)
    items = column.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    return items, np.repeat(np.arange(n), np.diff(offsets))


def _in_blobs(column: pa.Array) -> Written:
    """The numbers a binary column writes as text (values that are UTF-8) and holds as
    bytes (``_packed``)."""
    texts = []
    for value in column.to_pylist():
        try:
            texts.append(value.decode("utf-8") if value is not None else None)
        except UnicodeDecodeError:
            texts.append(None)
    found = [_in_text(fold_column(text := pa.array(texts, pa.large_string()), column_bytes(text)))]
    found += [_packed(column, layout, longest) for layout, longest in _LAYOUTS.items()]
    return Written.joined([f.values for f in found], [f.rows for f in found])


def _packed(column: pa.Array, layout: str, longest: int | None) -> Written:
    """Each value's bytes (of values ``longest`` bytes long at most) read as numbers of
    ``layout`` from every offset, as far as whole items go: the buffer is read at each
    alignment in one view, and each item that lies within one value is that value's
    row's."""
    size = np.dtype(layout).itemsize
    kind = np.int64 if pa.types.is_large_binary(column.type) else np.int32
    _, offset_buffer, data_buffer = column.buffers()
    if not len(column) or offset_buffer is None or data_buffer is None:
        return Written.empty()
    offsets = np.frombuffer(offset_buffer, dtype=kind)[
        column.offset : column.offset + len(column) + 1
    ].astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    if longest is not None:
        short = (ends - starts) <= longest
        if not short.any():
            return Written.empty()
        # Only short values: their bytes end to end, each value's place in them.
        edges = np.zeros(len(data) + 1, dtype=np.int64)
        np.add.at(edges, starts[short], 1)
        np.add.at(edges, ends[short], -1)
        data = data[np.cumsum(edges[:-1]) > 0]
        lengths = np.where(short, ends - starts, 0)
        ends = np.cumsum(lengths)
        starts = ends - lengths
    values, rows = [], []
    for shift in range(size):
        whole = (len(data) - shift) // size
        if whole <= 0:
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            read = data[shift : shift + whole * size].view(layout).astype(float)
            sized = np.isfinite(read) & (np.abs(read) >= _SIZED[0]) & (np.abs(read) <= _SIZED[1])
        if layout in _INTEGERS:
            sized &= np.abs(read) >= _WHOLE_FROM
        at = np.flatnonzero(sized)
        begin = shift + at * size
        row = np.searchsorted(starts, begin, side="right") - 1
        inside = (row >= 0) & (begin + size <= ends[np.maximum(row, 0)])
        values.append(read[at[inside]])
        rows.append(row[inside])
    return Written.joined(values, rows)


def _in_text(column: pa.Array) -> Written:
    """Every number that could be a coordinate written in each value of a text column
    ("37.512345, 127.045612", "site 4 at E 322512.4"). Digits are ASCII's: a column with
    others is folded first (``text_digits``)."""
    # One scan of the column's bytes first (they may hold more than its rows, as a
    # slice's do, which only costs the scan below): a name or code column ends here.
    data = column_bytes(column)
    sexagesimal = data is None or any(mark in data for mark in _DEGREE_MARKS)
    if data is not None:
        shapes = data.translate(_SHAPES)
        if b"0.0" not in shapes and b"0000" not in shapes and not sexagesimal:
            return Written.empty()
    if len(column) > _MATCH_HERE and not sexagesimal:
        return _by_kernel(column)
    return _in_python(column.to_pylist(), np.arange(len(column)), sexagesimal)


def _in_python(texts: list[str | None], rows: np.ndarray, sexagesimal: bool) -> Written:
    values: list[float] = []
    at: list[int] = []
    for row, value in zip(rows.tolist(), texts, strict=True):
        if value:
            if sexagesimal:
                value = _DMS.sub(_as_degrees, value)
            found = _NUMBER.findall(value)
            values += map(float, found)
            at += [row] * len(found)
    return Written(np.array(values, dtype=float), np.array(at, dtype=np.int64))


def _as_degrees(match: re.Match[str]) -> str:
    """A position written in degrees, minutes (and seconds) as decimal degrees."""
    degrees = int(match["d"]) + float(match["m"]) / 60 + float(match["s"] or 0) / 3600
    # A letter after the number is its hemisphere when it touches it or ends the text;
    # one before the next number (with a blank between) is that number's.
    hemisphere = (match["h1"] or match["h2"] or match["h3"] or "").upper()
    return f" {-degrees if hemisphere in ('S', 'W') else degrees!r} "


def _by_kernel(column: pa.Array) -> Written:
    import pyarrow.compute as pc  # a large column: Arrow's kernel, worth its import

    pieces = pc.ascii_split_whitespace(
        pc.replace_substring_regex(column, pattern=_NOT_IN_NUMBERS_RE2, replacement=" ")
    )
    flat = pieces.flatten()
    rows = np.asarray(pc.list_parent_indices(pieces), dtype=np.int64)
    whole = np.asarray(pc.match_substring_regex(flat, _WHOLE_NUMBER_RE2).fill_null(False))
    values = np.asarray(pc.cast(flat.filter(pa.array(whole)), pa.float64()), dtype=float)
    found = Written(values, rows[whole])
    other = np.flatnonzero(~whole)
    some = pc.match_substring_regex(flat.take(pa.array(other)), _SOME_NUMBER_RE2)
    other = other[np.asarray(some.fill_null(False))]
    if not other.size:
        return found
    # Each number with its piece, so that a row's numbers keep their order.
    rest = _in_python(flat.take(pa.array(other)).to_pylist(), other, False)
    piece = np.concatenate([np.flatnonzero(whole), rest.rows])
    order = np.argsort(piece, kind="stable")
    return Written(np.concatenate([found.values, rest.values])[order], rows[piece[order]])
