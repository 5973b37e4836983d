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

Nor is the unit the geometry's: a column is met in every unit a coordinate is commonly
written in, with either sign (``compliance.tracks``), and beside a projected layer as
longitude and latitude as well (an unnamed column of degrees beside eastings).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from pyproj import CRS, Transformer

from compliance.arrays import finite_rows, lonlat_sized_boxes
from compliance.geo.crs_identity import WGS84, unit_m
from compliance.geo.geodesy import transformer
from compliance.text_digits import column_bytes
from compliance.tracks import FrameTracks, bowed, union

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


class AxisTracks:
    """The numeric columns of a layer, and the first numbers written in its text columns,
    each met with the x and the y of its rows' boxes batch by batch, in any unit
    (``compliance.tracks``): in the layer's CRS and, for a projected one, as longitude
    and latitude too (a column of degrees beside eastings); ``columns``: those that
    follow an axis off the geometry."""

    def __init__(self, names: list[str], crs: CRS | None) -> None:
        self.names = names
        self.crs = crs
        # Without a CRS, the first boxes read tell degrees from other units.
        self._own: FrameTracks[tuple[str, int]] | None = None
        self._lonlat: FrameTracks[tuple[str, int]] | None = None
        self._to: Transformer | None = None  # to longitude and latitude, once needed
        if crs is not None and crs.is_geographic:
            self._own = FrameTracks(True)
        elif crs is not None:
            self._own = FrameTracks(False, unit_m(crs))
            self._lonlat = FrameTracks(True)

    def add(self, columns: dict[str, list[np.ndarray]], boxes: np.ndarray) -> None:
        """``columns``: each column's numbers as floats (NaN where none): one array for a
        numeric column, one per number in order for a text column; ``boxes``: each row's
        box (min x, min y, max x, max y; NaN where it has none)."""
        placed = finite_rows(boxes)
        if not placed.any():
            return  # nothing to meet the numbers with
        if self._own is None:
            self._own = FrameTracks(bool(lonlat_sized_boxes(boxes[placed]).all()))
        series: dict[tuple[str, int], np.ndarray] = {
            (name, slot): values
            for name, slots in columns.items()
            for slot, values in enumerate(slots)
        }
        if not series:
            return
        extent = union(boxes, placed)
        self._own.add(series, boxes, placed, extent)
        if self._lonlat is not None and self.crs is not None:
            if self._to is None:
                self._to = transformer(self.crs, WGS84)
            lonlat = _LonLat(self._to, boxes)
            if (around := lonlat.extent(extent)) is not None:
                self._lonlat.add(series, lonlat.boxes, placed, around)

    @property
    def columns(self) -> list[str]:
        frames = [f for f in (self._own, self._lonlat) if f is not None]
        found = set().union(*(f.following() for f in frames))
        found -= set().union(*(f.repeating() for f in frames))
        names = {name for name, _ in found}
        return [name for name in self.names if name in names]


class _LonLat:
    """A projected batch's row boxes as longitude and latitude, each made when first
    asked for."""

    def __init__(self, to: Transformer, boxes: np.ndarray) -> None:
        self._to, self._boxes = to, boxes
        self._made = np.empty((0, 4))
        self._done = np.zeros(0, dtype=bool)

    def extent(
        self, extent: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float] | None:
        """The rows' union as longitude and latitude, None where the CRS cannot say."""
        found = self._lonlat(np.array([extent], dtype=float))[0]
        return (found[0], found[1], found[2], found[3]) if np.isfinite(found).all() else None

    def boxes(self, rows: np.ndarray) -> np.ndarray:
        """The boxes of ``rows`` as longitude and latitude (NaN where the CRS cannot say)."""
        if not self._done.size:
            self._made = np.full(self._boxes.shape, np.nan)
            self._done = np.zeros(len(self._boxes), dtype=bool)
        todo = rows[~self._done[rows]]
        if todo.size:
            self._made[todo], self._done[todo] = self._lonlat(self._boxes[todo]), True
        return self._made[rows]

    def _lonlat(self, boxes: np.ndarray) -> np.ndarray:
        """Each box's corners and edge midpoints carried over, and the box that holds
        them widened for the bend of its edges (``compliance.tracks.bowed``)."""
        x0, y0, x1, y1 = boxes.T
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        xs = np.concatenate([x0, x1, x0, x1, xm, xm, x0, x1])
        ys = np.concatenate([y0, y0, y1, y1, y0, y1, ym, ym])
        lon, lat = (
            np.asarray(a).reshape(8, -1) for a in self._to.transform(xs, ys, errcheck=False)
        )
        with np.errstate(invalid="ignore"):
            out = bowed(
                np.column_stack(
                    [lon.min(axis=0), lat.min(axis=0), lon.max(axis=0), lat.max(axis=0)]
                )
            )
        out[~finite_rows(out)] = np.nan
        return out


def numbers_in_text(column: pa.Array, slots: int = _TEXT_SLOTS) -> list[np.ndarray]:
    """The first ``slots`` numbers that could be coordinates written in each value of a
    text column ("37.512345, 127.045612", "site 4 at E 322512.4"), as floats; NaN where a
    value has fewer. Empty when no value holds one (most text columns: names, codes).
    Digits are ASCII's: a column with others is folded first (``text_digits``)."""
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
