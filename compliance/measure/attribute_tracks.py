"""Numeric attributes that follow each row's position, whatever they are named.

A column's name is the sender's choice: precise eastings in a column named ``elev`` and
northings in one named ``code`` leave with the file as surely as ``POINT_X``/``POINT_Y``
(``attribute_positions`` meets the named pairs). So every numeric column is met with
each row's own geometry, one axis at a time. A column follows an axis when, on every
row with a geometry (three at least), its value lies within about a kilometre of the
row's box along that axis, and its values are not all the same: a count, a measure or
a code does not sit beside each row's own coordinate, and a constant near the data (a
speed limit of 127 beside data at 127°E) does not move with it. Such a column that lies
off some row's box (past the round-off of a number written in decimals) keeps a
position the geometry does not show; one that always lies on it repeats it. Other
rows' positions in a shuffled order are found as far as they stay within that reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from compliance.arrays import AxisTrack, lonlat_sized_boxes
from compliance.measure.table_values import column_bytes

__all__ = ["AxisTracks", "numbers_in_text"]

# Numbers written in text: the first few of each value that could be a coordinate worth
# keeping (with decimals, or four digits and more: "127.045612", "322512"; a whole
# degree places nothing) are met with the row, as a numeric column's are.
_TEXT_SLOTS = 4
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
# The same for Arrow's kernel (RE2): the first number, then each later one optional (its
# group "" when absent); a value without one does not match.
_ONE_RE2 = r"-?\d+\.\d+|-?\d{4,}"
_NUMBERS_RE2 = rf"^.*?(?P<n0>{_ONE_RE2})" + "".join(
    rf"(?:.*?(?P<n{k}>{_ONE_RE2}))?" for k in range(1, _TEXT_SLOTS)
)
# Up to this many values a column is read in Python: Arrow's kernel costs its import.
_MATCH_HERE = 4096


@dataclass
class AxisTracks:
    """The numeric columns of a layer, and the first numbers written in its text columns,
    each met with the x and the y of its rows' boxes batch by batch; ``columns``: those
    that follow an axis off the geometry."""

    names: list[str]
    geographic: bool | None  # None: no CRS; the first boxes read tell
    _tracks: dict[tuple[str, int, int], AxisTrack] = field(default_factory=dict)

    def add(self, columns: dict[str, list[np.ndarray]], boxes: np.ndarray) -> None:
        """``columns``: each column's numbers as floats (NaN where none): one array for a
        numeric column, one per number in order for a text column; ``boxes``: each row's
        box (min x, min y, max x, max y; NaN where it has none)."""
        if self.geographic is None:
            placed = boxes[np.isfinite(boxes).all(axis=1)]
            if not len(placed):
                return  # nothing to meet the numbers with yet
            self.geographic = bool(lonlat_sized_boxes(placed).all())
        for name, slots in columns.items():
            for slot, values in enumerate(slots):
                for axis in (0, 1):
                    track = self._tracks.setdefault((name, slot, axis), AxisTrack())
                    track.add(values, boxes[:, axis], boxes[:, axis + 2], self.geographic)

    @property
    def columns(self) -> list[str]:
        degrees = bool(self.geographic)
        found = {name for (name, _, _), t in self._tracks.items() if t.follows(degrees)}
        return [name for name in self.names if name in found]


def numbers_in_text(column: pa.Array, slots: int = _TEXT_SLOTS) -> list[np.ndarray]:
    """The first ``slots`` numbers that could be coordinates written in each value of a
    text column ("37.512345, 127.045612", "site 4 at E 322512.4"), as floats; NaN where a
    value has fewer. Empty when no value holds one (most text columns: names, codes)."""
    # One scan of the column's bytes first (they may hold more than its rows, as a
    # slice's do, which only costs the scan below): a name or code column ends here.
    data = column_bytes(column)
    sexagesimal = data is None or any(mark in data for mark in _DEGREE_MARKS)
    if data is not None:
        shapes = data.translate(_SHAPES)
        if b"0.0" not in shapes and b"0000" not in shapes and not sexagesimal:
            return []
    if len(column) > _MATCH_HERE and not sexagesimal:
        return _numbers_by_kernel(column, slots)
    out = [np.full(len(column), np.nan) for _ in range(slots)]
    for row, value in enumerate(column.to_pylist()):
        if value:
            if sexagesimal:
                value = _DMS.sub(_as_degrees, value)
            for k, number in enumerate(_NUMBER.findall(value)[:slots]):
                out[k][row] = float(number)
    return out


def _as_degrees(match: re.Match[str]) -> str:
    """A position written in degrees, minutes (and seconds) as decimal degrees."""
    degrees = int(match["d"]) + float(match["m"]) / 60 + float(match["s"] or 0) / 3600
    # A letter after the number is its hemisphere when it touches it or ends the text;
    # one before the next number (with a blank between) is that number's.
    hemisphere = (match["h1"] or match["h2"] or match["h3"] or "").upper()
    return f" {-degrees if hemisphere in ('S', 'W') else degrees!r} "


def _numbers_by_kernel(column: pa.Array, slots: int) -> list[np.ndarray]:
    import pyarrow.compute as pc  # a large column: Arrow's kernel, worth its import

    parts = pc.extract_regex(column, _NUMBERS_RE2)
    out = []
    for k in range(slots):
        found = pc.struct_field(parts, [k])
        found = pc.if_else(pc.equal(found, ""), None, found)
        out.append(
            np.asarray(
                pc.cast(found, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False),
                dtype=float,
            )
        )
    return out
