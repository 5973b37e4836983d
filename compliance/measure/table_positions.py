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
whose two numbers both lie there, however many other rows it has (``RowPairs``). Only ranges narrower than 10 degrees are
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
from compliance.measure.attribute_tracks import numbers_in_text
from compliance.text_digits import column_bytes, fold_column
from compliance.tracks import REACH, divisors

__all__ = ["ColumnRanges", "RowPairs", "Window", "windows_of"]

_LEAST_ROWS = 5
_WIDEST_DEG = 10.0
_LIKE_SPAN = 1e-3  # two axes of one set of positions spread alike


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
    if lonlat[2] - lonlat[0] > _WIDEST_DEG or lonlat[3] - lonlat[1] > _WIDEST_DEG:
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
    """Each numeric column's range, and that of the first numbers written in each text
    column, gathered batch by batch."""

    windows: tuple[Window, ...] = ()  # where the layers' features lie, for ``RowPairs``
    _ranges: dict[tuple[str, int], _Range] = field(default_factory=dict)
    _pairs: RowPairs = field(init=False)
    # A table of fewer rows than a pair is met on is never met: its batches wait here
    # until as many rows came (most catalogue tables hold a row or two).
    _waiting: list[pa.RecordBatch] = field(default_factory=list)
    _rows: int = 0

    def __post_init__(self) -> None:
        self._pairs = RowPairs(self.windows)

    def add(self, batch: pa.RecordBatch) -> None:
        self._rows += batch.num_rows
        if self._rows < _LEAST_ROWS:
            self._waiting.append(batch)
            return
        for waiting in self._waiting:
            self._add(waiting)
        self._waiting.clear()
        self._add(batch)

    def _add(self, batch: pa.RecordBatch) -> None:
        series: dict[tuple[str, int], np.ndarray] = {}
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            kind = column.type
            if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
                # Values as SQLite stores them: text, numbers written out, or blobs.
                try:
                    column = column.cast(pa.large_string())
                except pa.ArrowInvalid:
                    column = _text_only(column)
                column = fold_column(column, column_bytes(column))
                kind = column.type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                slots = numbers_in_text(column)
            elif _numeric(kind):
                slots = [numbers(column)]
            else:
                continue
            for slot, values in enumerate(slots):
                series[(name, slot)] = values
                given = np.isfinite(values)
                if count := int(np.count_nonzero(given)):
                    found = self._ranges.setdefault((name, slot), _Range())
                    found.rows += count
                    found.least = min(
                        found.least, float(np.min(values, where=given, initial=np.inf))
                    )
                    found.most = max(
                        found.most, float(np.max(values, where=given, initial=-np.inf))
                    )

        self._pairs.add(series)

    def positions(self, windows: Iterable[Window]) -> list[str]:
        """The columns that hold one axis of a pair whose every value lies within a
        window's x range and within its y range, in some unit; in the table's order."""
        ranges = {
            k: r for k, r in self._ranges.items() if r.rows >= _LEAST_ROWS and r.most > r.least
        }
        found: set[str] = set()
        for window in windows:
            xs, ys = (self._within(ranges, window, axis) for axis in (0, 1))
            zero = [_holds_zero(window, axis) for axis in (0, 1)]
            for kx, x_units in xs.items():
                for ky, y_units in ys.items():
                    if kx != ky and any(
                        _paired((ux, sx), (uy, sy), zero)
                        for ux, sx in x_units.items()
                        for uy, sy in y_units.items()
                    ):
                        found |= {kx[0], ky[0]}
        found |= self._pairs.columns()
        names = dict.fromkeys(name for name, _ in self._ranges)
        return [name for name in names if name in found]

    @staticmethod
    def _within(
        ranges: dict[tuple[str, int], _Range], window: Window, axis: int
    ) -> dict[tuple[str, int], dict[float, float]]:
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
    per pair of columns and units, batch by batch."""

    windows: tuple[Window, ...]
    _joint: Counter[tuple[int, tuple[str, int], tuple[str, int], float, float]] = field(
        default_factory=Counter
    )
    # (window, series, axis, unit) -> least and most of its values there, in that unit
    _spans: dict[tuple[int, tuple[str, int], int, float], list[float]] = field(default_factory=dict)

    def add(self, series: dict[tuple[str, int], np.ndarray]) -> None:
        for w, window in enumerate(self.windows):
            units = divisors(window.degrees, window.unit_m)
            reach = REACH[window.degrees]
            hits: list[dict[tuple[tuple[str, int], float], np.ndarray]] = [{}, {}]
            for axis in (0, 1):
                low, high = window.box[axis] - reach, window.box[axis + 2] + reach
                for key, values in series.items():
                    scaled = values[None, :] / units[:, None]  # units x rows; NaN: outside
                    inside = (scaled >= low) & (scaled <= high)
                    for k in np.flatnonzero(inside.any(axis=1)):
                        unit = float(units[k])
                        hits[axis][key, unit] = inside[k]
                        there = scaled[k][inside[k]]
                        span = self._spans.setdefault((w, key, axis, unit), [np.inf, -np.inf])
                        span[0], span[1] = min(span[0], there.min()), max(span[1], there.max())
            for (kx, ux), at_x in hits[0].items():
                for (ky, uy), at_y in hits[1].items():
                    if kx != ky and (both := int(np.count_nonzero(at_x & at_y))):
                        self._joint[w, kx, ky, ux, uy] += both

    def columns(self) -> set[str]:
        """The columns of the pairs that lie where a layer's features do on five rows or
        more, each varying there."""
        found: set[str] = set()
        for (w, kx, ky, ux, uy), rows in self._joint.items():
            if rows < _LEAST_ROWS or {kx[0], ky[0]} <= found:
                continue
            x0, x1 = self._spans[w, kx, 0, ux]
            y0, y1 = self._spans[w, ky, 1, uy]
            zero = [_holds_zero(self.windows[w], axis) for axis in (0, 1)]
            if x1 > x0 and y1 > y0 and _paired((abs(ux), x1 - x0), (abs(uy), y1 - y0), zero):
                found |= {kx[0], ky[0]}
        return found


def _holds_zero(window: Window, axis: int) -> bool:
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


def _text_only(column: pa.Array) -> pa.Array:
    """A column of bytes as text, null where a value is not UTF-8 (a blob)."""
    values = []
    for value in column.to_pylist():
        try:
            values.append(value.decode("utf-8") if value is not None else None)
        except UnicodeDecodeError:
            values.append(None)
    return pa.array(values, type=pa.large_string())
