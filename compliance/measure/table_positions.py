"""Positions kept in a table without geometry, whatever its columns are called.

A GeoPackage (a database, a folder of layers) can carry a plain table beside its layers:
a log of surveyed points, say, in columns named ``p`` and ``q``. Its rows are no
features, so nothing draws or measures them, and a rule that goes by names misses
innocent ones. But positions stay where the features are: every value of one column
lies within the x range of a layer's features (or a kilometre past it), every value of
another within their y range, in the layer's CRS or as longitude and latitude, in any
unit and sign ``compliance.tracks`` tries. A table with such a pair (five rows at least,
each column's values varying) is reported; and, since a sender can add a row of numbers
anywhere (every value then no longer lies there), so is a table with five rows at least
whose two numbers both lie there, however many other rows it has (``RowPairs``): two
numbers of one column, wherever its text writes them, or of two. Only ranges narrower than 10 degrees are
met: numbers anywhere on Earth could be anything; and on an axis whose range holds zero
(near the equator or a prime meridian) a unit larger than the frame's counts only when
the other axis takes the same one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from compliance.measure.attribute_positions import numbers
from compliance.measure.written_numbers import Written, written_numbers
from compliance.readers.geojson_unread import FEW_NUMBERS
from compliance.tracks import REACH, divisors

__all__ = [
    "WIDEST_DEG",
    "ColumnRanges",
    "RowPairs",
    "Window",
    "holds_a_table",
    "holds_zero",
    "windows_of",
]

_LEAST_ROWS = 5
WIDEST_DEG = 10.0
_LIKE_SPAN = 1e-3  # two axes of one set of positions spread alike
_SLICE = 1 << 16  # numbers scaled by every unit at once


@dataclass(frozen=True)
class Window:
    """Where a layer's features lie in one frame: their box (min x, min y, max x, max y),
    in degrees or in a projected unit ``unit_m`` metres long."""

    box: tuple[float, float, float, float]
    degrees: bool
    unit_m: float = 1.0


def windows_of(
    box: tuple[float, ...] | None,
    lonlat: tuple[float, ...] | None,
    degrees: bool,
    unit_m: float,
) -> list[Window]:
    """A layer's windows: its extent ``box`` in its CRS and, for a projected one, its
    extent as longitude and latitude ``lonlat``; none when the layer spans more than
    10 degrees (or cannot be placed to tell)."""
    if box is None or lonlat is None:
        return []
    if lonlat[2] - lonlat[0] > WIDEST_DEG or lonlat[3] - lonlat[1] > WIDEST_DEG:
        return []
    own = Window((box[0], box[1], box[2], box[3]), degrees, unit_m)
    if degrees:
        return [own]
    return [own, Window((lonlat[0], lonlat[1], lonlat[2], lonlat[3]), True)]


@dataclass
class _Range:
    rows: int = 0
    least: float = np.inf
    most: float = -np.inf


@dataclass
class ColumnRanges:
    """Each numeric column's range, gathered batch by batch, and the rows of every column
    (numbers written in text too) that lie where the features do (``RowPairs``)."""

    windows: tuple[Window, ...] = ()  # where the layers' features lie, for ``RowPairs``
    _ranges: dict[str, _Range] = field(default_factory=dict)
    _names: dict[str, None] = field(default_factory=dict)  # every column met, in order
    _pairs: RowPairs = field(init=False)
    # A table of fewer rows than a pair is met on is never met: its batches wait here
    # until as many rows came (most catalogue tables hold a row or two).
    _waiting: list[tuple[dict[str, np.ndarray], dict[str, Written], int]] = field(
        default_factory=list
    )
    _rows: int = 0
    _crowded: set[str] = field(default_factory=set)  # a value holds a table of positions
    _written: Counter[str] = field(default_factory=Counter)  # numbers each text column writes

    def __post_init__(self) -> None:
        self._pairs = RowPairs(self.windows)

    def add(self, batch: pa.RecordBatch) -> None:
        series, written = self._numbers(batch)
        # One value can hold many positions, in a table of any size.
        for name, found in written.items():
            self._written[name] += found.values.size
            if name not in self._crowded and holds_a_table(found, self.windows):
                self._crowded.add(name)
        self._rows += batch.num_rows
        self._waiting.append((series, written, batch.num_rows))
        if self._rows < _LEAST_ROWS:
            return
        for waiting in self._waiting:
            self._add(*waiting)
        self._waiting.clear()

    def _numbers(self, batch: pa.RecordBatch) -> tuple[dict[str, np.ndarray], dict[str, Written]]:
        """The numeric columns' values, and the numbers the other columns write."""
        series: dict[str, np.ndarray] = {}
        written: dict[str, Written] = {}  # numbers written in text: as many as a row writes
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            self._names[name] = None
            kind = column.type
            # Binary: values as SQLite stores them (text, numbers written out, or blobs),
            # read as text and as bytes (``written_numbers``).
            if _numeric(kind):
                series[name] = numbers(column)
            elif (found_in := written_numbers(column)) is not None and found_in.values.size:
                written[name] = found_in
        return series, written

    def _add(self, series: dict[str, np.ndarray], written: dict[str, Written], rows: int) -> None:
        for name, values in series.items():
            given = np.isfinite(values)
            if count := int(np.count_nonzero(given)):
                found = self._ranges.setdefault(name, _Range())
                found.rows += count
                found.least = min(found.least, float(np.min(values, where=given, initial=np.inf)))
                found.most = max(found.most, float(np.max(values, where=given, initial=-np.inf)))
        self._pairs.add(series, written, rows)

    def positions(self, windows: Iterable[Window]) -> list[str]:
        """The columns that hold one axis of a pair whose every value lies within a
        window's x range and within its y range, in some unit; in the table's order."""
        ranges = {
            k: r for k, r in self._ranges.items() if r.rows >= _LEAST_ROWS and r.most > r.least
        }
        found: set[str] = set()
        for window in windows:
            xs, ys = (self._within(ranges, window, axis) for axis in (0, 1))
            zero = [holds_zero(window, axis) for axis in (0, 1)]
            for kx, x_units in xs.items():
                for ky, y_units in ys.items():
                    if kx != ky and any(
                        _paired((ux, sx), (uy, sy), zero)
                        for ux, sx in x_units.items()
                        for uy, sy in y_units.items()
                    ):
                        found |= {kx, ky}
        found |= self._pairs.columns() | self._crowded
        return [name for name in self._names if name in found]

    def numbered(self) -> list[str]:
        """The columns that could hold positions, met with no window: two numeric columns
        varying over five rows or more, or a text column writing ten numbers or more."""
        varying = {k for k, r in self._ranges.items() if r.rows >= _LEAST_ROWS and r.most > r.least}
        found = {k for k, n in self._written.items() if n >= 2 * _LEAST_ROWS}
        if len(varying) >= 2:
            found |= varying
        return [name for name in self._names if name in found]

    @staticmethod
    def _within(
        ranges: dict[str, _Range], window: Window, axis: int
    ) -> dict[str, dict[float, float]]:
        """The series inside the window along ``axis``, each with the units (their sizes,
        the sign aside) that put it there and its span in each."""
        units = divisors(window.degrees, window.unit_m)
        reach = REACH[window.degrees]
        low, high = window.box[axis] - reach, window.box[axis + 2] + reach
        out = {}
        for key, found in ranges.items():
            ends = (found.least / units, found.most / units)
            inside = (np.fmin(*ends) >= low) & (np.fmax(*ends) <= high)
            if inside.any():
                spans = (found.most - found.least) / np.abs(units[inside])
                out[key] = dict(zip(np.abs(units[inside]).tolist(), spans.tolist(), strict=True))
        return out


@dataclass
class RowPairs:
    """Rows whose number in one column lies within a window's x range and whose number
    in another lies within its y range (in some unit each, as ``ColumnRanges``), counted
    per pair of columns and units, batch by batch. A text column's row may write both:
    two of its numbers, whatever else it writes."""

    windows: tuple[Window, ...]
    _joint: Counter[tuple[int, str, str, float, float]] = field(default_factory=Counter)
    # (window, column, axis, unit) -> least and most of its values there, in that unit
    _spans: dict[tuple[int, str, int, float], list[float]] = field(default_factory=dict)

    def add(self, series: dict[str, np.ndarray], written: dict[str, Written], rows: int) -> None:
        """``series``: numeric columns, a value a row; ``written``: the numbers text
        columns write; ``rows``: the batch's."""
        every = {**series, **{name: w.values for name, w in written.items()}}
        twice = {name: _twice(w.rows, rows) for name, w in written.items()}
        for w, window in enumerate(self.windows):
            units = divisors(window.degrees, window.unit_m)
            reach = REACH[window.degrees]
            hits: list[dict[tuple[str, float], np.ndarray]] = [{}, {}]
            for axis in (0, 1):
                low, high = window.box[axis] - reach, window.box[axis + 2] + reach
                for key, values in every.items():
                    scaled = values[None, :] / units[:, None]  # units x values; NaN: outside
                    inside = (scaled >= low) & (scaled <= high)
                    for k in np.flatnonzero(inside.any(axis=1)):
                        unit = float(units[k])
                        at = inside[k]
                        if key in written:  # a row is there when a number of it is
                            at = np.zeros(rows, dtype=bool)
                            at[written[key].rows[inside[k]]] = True
                        hits[axis][key, unit] = at
                        there = scaled[k][inside[k]]
                        span = self._spans.setdefault((w, key, axis, unit), [np.inf, -np.inf])
                        span[0], span[1] = min(span[0], there.min()), max(span[1], there.max())
            for (kx, ux), at_x in hits[0].items():
                for (ky, uy), at_y in hits[1].items():
                    both = at_x & at_y
                    if kx == ky:  # one text column: two numbers of a row, not one twice
                        if kx not in written:
                            continue
                        both &= twice[kx]
                    if count := int(np.count_nonzero(both)):
                        self._joint[w, kx, ky, ux, uy] += count

    def columns(self) -> set[str]:
        """The columns of the pairs that lie where a layer's features do on five rows or
        more, each varying there."""
        found: set[str] = set()
        for (w, kx, ky, ux, uy), rows in self._joint.items():
            if rows < _LEAST_ROWS or {kx, ky} <= found:
                continue
            x0, x1 = self._spans[w, kx, 0, ux]
            y0, y1 = self._spans[w, ky, 1, uy]
            zero = [holds_zero(self.windows[w], axis) for axis in (0, 1)]
            if x1 > x0 and y1 > y0 and _paired((abs(ux), x1 - x0), (abs(uy), y1 - y0), zero):
                found |= {kx, ky}
        return found


def holds_a_table(column: Written, windows: Iterable[Window]) -> bool:
    """Whether a value of the column writes more than a few numbers that hold a table of
    positions where the features lie (``_crowded``)."""
    counts = np.bincount(column.rows) if column.rows.size else np.zeros(0, dtype=int)
    starts = np.r_[0, np.cumsum(counts)]
    windows = list(windows)
    for row in np.flatnonzero(counts > FEW_NUMBERS).tolist():
        values = _near_some_window(column.values[starts[row] : starts[row + 1]], windows)
        if any(_crowded(values, window) for window in windows):
            return True
    return False


def _near_some_window(values: np.ndarray, windows: list[Window]) -> np.ndarray:
    """The values that lie within some window's x or y range in some unit: the only ones
    ``_crowded`` counts. Met a slice at a time, so that a value of millions of numbers
    (a document's unread text) is not scaled by every unit at once."""
    if values.size <= _SLICE:
        return values
    kept = []
    for start in range(0, values.size, _SLICE):
        part = values[start : start + _SLICE]
        near = np.zeros(part.size, dtype=bool)
        for window in windows:
            units = divisors(window.degrees, window.unit_m)
            reach = REACH[window.degrees]
            with np.errstate(over="ignore", invalid="ignore"):
                scaled = part[None, :] / units[:, None]
            for axis in (0, 1):
                low, high = window.box[axis] - reach, window.box[axis + 2] + reach
                near |= ((scaled >= low) & (scaled <= high)).any(axis=0)
        kept.append(part[near])
    return np.concatenate(kept)


def _crowded(values: np.ndarray, window: Window) -> bool:
    """Whether one value's numbers hold a table of positions of their own: five at
    least within the window's x range and five within its y range, in one unit (a list
    of positions is written in one), each varying there."""
    units = divisors(window.degrees, window.unit_m)
    reach = REACH[window.degrees]
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values[None, :] / units[:, None]
    spans = []
    for axis in (0, 1):
        low, high = window.box[axis] - reach, window.box[axis + 2] + reach
        inside = (scaled >= low) & (scaled <= high)
        there = np.where(inside, scaled, np.nan)
        with np.errstate(invalid="ignore"):
            span = np.nanmax(there, axis=1, initial=-np.inf) - np.nanmin(
                there, axis=1, initial=np.inf
            )
        spans.append(np.where(inside.sum(axis=1) >= _LEAST_ROWS, span, 0.0))
    zero = [holds_zero(window, axis) for axis in (0, 1)]
    return any(
        _paired((abs(float(units[k])), spans[0][k]), (abs(float(units[k])), spans[1][k]), zero)
        for k in np.flatnonzero((spans[0] > 0) & (spans[1] > 0))
    )


def _twice(rows: np.ndarray, count: int) -> np.ndarray:
    """Which of ``count`` rows write two numbers or more."""
    return np.bincount(rows, minlength=count) >= 2


def holds_zero(window: Window, axis: int) -> bool:
    reach = REACH[window.degrees]
    return window.box[axis] - reach <= 0.0 <= window.box[axis + 2] + reach


def _paired(x: tuple[float, float], y: tuple[float, float], zero: list[bool]) -> bool:
    """Whether two series, each with its unit and span in it, can be a pair of
    positions. Around zero any small count divided by a large unit is a coordinate there:
    on an axis whose range holds zero (the equator, a prime meridian) a unit larger than
    the frame's counts only when the other axis, away from zero, takes the same one and
    the two spread alike (a thousandth of the other's span at least); near both, never."""
    for (unit, span), (other, other_span), near_zero, other_zero in (
        (x, y, zero[0], zero[1]),
        (y, x, zero[1], zero[0]),
    ):
        if near_zero and unit > 1.0:
            if other_zero or unit != other or span < _LIKE_SPAN * other_span:
                return False
    return True


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
