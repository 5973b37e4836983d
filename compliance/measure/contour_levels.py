"""Numbers that lie on a layer's lines or polygons as contour levels do, whatever the field
is called.

A field named as heights (``ELEVATION``) makes 2-D contours 3-D data
(``driver_fields.HEIGHT_NAME``); renamed ``v``, the same levels passed as any number. So a
numeric field (or a text field of numbers) of a layer of lines or polygons is met with
its geometries, as contours are drawn:

- its values are at least three levels (``MAX_LEVELS`` at most), and it is not a row
  number (each feature its own value, counting from 0 or 1 in steps of one);
- most of its features (``CONTOUR_SHARE``) lie as contours do: lines as contour lines
  (``contour_lines``: touching no line of another level, the nearest of other levels one
  level up or down), polygons as filled contours or contour bands (``contour_areas``).
  Levels are taken in their order, not on an interval: levels shifted off a round step
  lie the same way. A few features drawn across the contours (decoys of other levels)
  are set aside rather than spoiling every contour they cross. Values written a little
  off their levels, or lifted off each other's step, are read so too (``level_groups``,
  ``level_lattice``): levels if any reading lies as contours do.

A road's lane count meets other roads; buildings' floors are no bands. Such a field is
reported, and the verdict held where reading it as heights would change it
(``Profile.elevation_unsure``). Geometry is held up to ``MAX_LEVEL_BYTES`` and met as one
window; a larger layer is met window by window. Past the first window, lines are met
batch by batch from their shared ends: lines of two levels that end where the other ends
are matched within each batch, and a layer whose matched pairs outnumber a fifth of its
lines is cleared (no fifth set aside could part them: a road network); else its field is
reported unmet. Polygons are met whole in each window, and counted across the windows.
Isolines of other quantities (isobars) lie as contours do: a person tells which.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyarrow as pa
import shapely

from compliance.arrays import median
from compliance.measure.box_meetings import box_pairs
from compliance.measure.contour_areas import CROWDED, area_fits, drawn_areas
from compliance.measure.contour_lines import (
    CONTOUR_SHARE,
    MIN_FEATURES,
    Crowded,
    contour_fits,
    drawn_lines,
    matched_ends,
)
from compliance.measure.level_groups import READ_SO, group_bounds, level_starts, ranks, readings
from compliance.measure.level_lattice import lattice_of, lattice_starts
from compliance.measure.level_values import row_numbers
from compliance.measure.wkb_bounds import wkb_boxes, wkb_kinds
from compliance.readers.sources import decode_wkb

__all__ = ["MAX_LEVEL_BYTES", "MAX_LEVELS", "LevelLines", "LevelsFound"]

MAX_LEVELS = 5_000  # levels: more is no contour set (1 m from the sea to 5,000 m)
MAX_LEVEL_BYTES = 64 << 20  # geometry held to meet the levels with at once (a window)
_LINEAR = (1, 2, 5, 7)  # line, ring, multi-line; a collection's lines (its parts are cut)
_AREAS = (3, 6)  # polygon, multi-polygon


@dataclass
class LevelsFound:
    """The fields whose numbers lie as contour levels do (with what was seen), and those
    that could not be met with the geometries (with why)."""

    levels: dict[str, str] = field(default_factory=dict)
    unmet: dict[str, str] = field(default_factory=dict)  # field -> why it was not met


@dataclass
class _Column:
    # One number per row, NaN where none, batch by batch: only the window's (see ``add``).
    values: list[np.ndarray] = field(default_factory=list)
    # The distinct values, sorted; past ``MAX_LEVELS`` of them, only their groups' bounds
    # (``level_groups``), and the values are no longer read as written (``exact``).
    distinct: np.ndarray = field(default_factory=lambda: np.empty(0))
    exact: bool = True
    valued: int = 0  # rows with a number
    # Features with a level, and those lying as contours do, over the windows met: in
    # each window, those of the reading (``level_groups.readings``) under which most do,
    # and how many each reading gave so.
    drawn: int = 0
    fit: int = 0
    read_as: dict[str, int] = field(default_factory=dict)
    # Past the first window: lines matched within batches (pairs of two levels sharing
    # an end, no line in two pairs), by reading, and the lines with a level met so.
    matched: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    unseen: bool = False  # a window passed over while the field held fewer than 3 levels
    crowded: bool = False  # a window whose geometries were too crowded to meet (``Crowded``)
    # Past MAX_LEVELS values that do not group: the lattice they gather about, kept.
    lattice: tuple[float, float] | None = None
    _read: tuple[np.ndarray, dict[str, np.ndarray]] | None = None  # (of distinct, readings)

    def readings(self) -> dict[str, np.ndarray]:
        """The levels read each way (``level_groups.readings``; and on the lattice the
        values gather about where no other reading parts them: ``level_lattice``), until
        the values change."""
        if self._read is not None and self._read[0] is self.distinct:
            return self._read[1]
        read = readings(self.distinct, self.exact, MAX_LEVELS)
        lattice = self.lattice
        if lattice is None and len(read) == 1:
            lattice = lattice_of(self.distinct, MAX_LEVELS)
        if lattice is not None:
            low, high = float(self.distinct[0]), float(self.distinct[-1])
            if (starts := lattice_starts(lattice, low, high, MAX_LEVELS)) is not None:
                read["lattice"] = starts
        self._read = (self.distinct, read)
        return read


class LevelLines:
    """Fed a layer's batches (each numeric field's value per row, the WKB geometries),
    tells at the end which fields lie on the lines or polygons as contour levels do."""

    def __init__(self) -> None:
        self._columns: dict[str, _Column] = {}
        self._dropped: set[str] = set()
        self._wkb: list[pa.Array] = []
        self._bytes = 0
        self._windows = 0

    def add(self, batch: pa.RecordBatch, wkb: pa.Array, skip: Collection[str] = ()) -> None:
        """The batch's numeric fields and text fields of numbers (but those in ``skip``),
        met with its geometries ``wkb`` when its window is full, or at the end."""
        for name in batch.schema.names:
            if name in self._dropped or name in skip:
                continue
            values = row_numbers(batch.column(name), MAX_LEVELS)
            kept = self._columns.setdefault(name, _Column())
            if values is None or not self._keep(kept, values):
                self._dropped.add(name)
                self._columns.pop(name, None)
                continue
            kept.values.append(values)
            kept.valued += int(np.isfinite(values).sum())
        if not self._columns:
            self._wkb = []  # nothing left to meet the geometries with
            return
        self._wkb.append(wkb)
        self._bytes += wkb.nbytes
        if self._bytes > MAX_LEVEL_BYTES:
            self._meet_window()

    def _meet_window(self, final: bool = False) -> None:
        """The geometries held met with each column's values, counted; then let go. In
        the first window, lines are met whole; past it, batch by batch from their ends."""
        wkb = pa.concat_arrays(self._wkb) if self._wkb else pa.array([], pa.binary())
        starts = np.cumsum([0] + [len(w) for w in self._wkb])
        self._wkb, self._bytes = [], 0
        self._windows += 1
        met = {n: c for n, c in self._columns.items() if self._in_window(c, len(wkb))}
        for name, column in self._columns.items():
            if name not in met:
                column.values = []
        if not met:
            return
        boxed = _area_boxes(wkb)
        if boxed is not None:
            for name in [n for n, c in met.items() if _out_of_reach(c, *boxed, final)]:
                met.pop(name).values = []
        if not met:
            return
        lines, areas = _decoded(wkb)
        for column in met.values():
            values = np.concatenate(column.values)
            column.values = []
            on_lines = drawn_lines(lines, values)
            drawn = np.zeros(len(values), dtype=bool)
            drawn[on_lines] = True
            drawn[drawn_areas(areas, values)] = True
            if self._windows > 1:  # past the first window lines are met by their ends
                drawn[on_lines] = False
                column.lines += sum(
                    drawn_lines(lines[a:b], values[a:b]).size
                    for a, b in zip(starts[:-1], starts[1:], strict=True)
                )
            column.drawn += int(drawn.sum())
            best, most = "", -1  # the reading under which most of the window fits
            for reading, levels in column.readings().items():
                rank = ranks(levels, values)
                if most < drawn.sum():  # past all, no reading fits more
                    fits = self._fits(column, lines, areas, rank, values, boxed)
                    if (fit := int((fits & drawn).sum())) > most:
                        best, most = reading, fit
                if self._windows > 1:
                    column.matched[reading] = column.matched.get(reading, 0) + sum(
                        matched_ends(lines, rank, values, a, b)
                        for a, b in zip(starts[:-1], starts[1:], strict=True)
                    )
            column.fit += max(most, 0)
            column.read_as[best] = column.read_as.get(best, 0) + max(most, 0)

    def _fits(
        self,
        column: _Column,
        lines: np.ndarray,
        areas: np.ndarray,
        rank: np.ndarray,
        values: np.ndarray,
        boxed: tuple[np.ndarray, np.ndarray] | None,
    ) -> np.ndarray:
        """Per row, whether its area (or, in the first window, its line) lies as a contour
        does at its level ``rank``; none where the geometries are too crowded to meet."""
        try:
            fits = area_fits(areas, rank, values, None if boxed is None else boxed[1])
            if self._windows == 1:
                fits |= contour_fits(lines, rank, values)
        except Crowded:
            column.crowded = True
            fits = np.zeros(len(values), dtype=bool)
        return fits

    @staticmethod
    def _in_window(column: _Column, rows: int) -> bool:
        """Whether the column is met with this window's geometries: it holds a value for
        each row, and may yet be levels (three or more so far: a field of fewer here,
        found to be levels later, is reported unmet rather than met only in part)."""
        if sum(map(len, column.values)) != rows:
            return False  # a field first seen in a later batch: met from its next window
        if max(map(len, column.readings().values()), default=0) < 3:
            column.unseen = True
            return False
        return True

    def spans(self) -> dict[str, tuple[float, float]]:
        """Each field's lowest and highest value (a level one to a layer, written a little
        off or not: ``layer_levels``)."""
        return {
            n: (c.distinct[0], c.distinct[-1]) for n, c in self._columns.items() if c.distinct.size
        }

    def _keep(self, kept: _Column, values: np.ndarray) -> bool:
        """Whether the field may still hold levels: few distinct values so far, or values
        that fall in few groups (kept as the groups' bounds), or that gather about a
        lattice (kept as the lowest and highest)."""
        finite = values[np.isfinite(values)]
        if finite.size:
            kept.distinct = _distinct(np.concatenate([kept.distinct, finite]))
        if kept.distinct.size <= MAX_LEVELS:
            return True
        kept.exact = False
        if kept.lattice is None:
            if (starts := level_starts(kept.distinct, MAX_LEVELS)) is not None:
                kept.distinct = group_bounds(kept.distinct, starts)
                return True
            kept.lattice = lattice_of(kept.distinct, MAX_LEVELS)
            if kept.lattice is None:
                return False
        kept.distinct = kept.distinct[[0, -1]]
        low, high = float(kept.distinct[0]), float(kept.distinct[-1])
        return lattice_starts(kept.lattice, low, high, MAX_LEVELS) is not None

    def found(self) -> LevelsFound:
        """The fields laid as contour levels, and those that could not be met, with why:
        lines past the first window not cleared by their ends, geometry too crowded to
        meet, a window passed over before the field held three levels."""
        out = LevelsFound()
        said = {
            n: s
            for n, c in self._columns.items()
            if (s := next(filter(None, map(partial(_levels_said, c), READ_SO)), None))
        }
        if not said:
            return out
        if self._wkb:
            self._meet_window(final=True)
        for name in said:
            column = self._columns[name]
            best = max(column.read_as, key=column.read_as.__getitem__, default="exact")
            share = column.fit / column.drawn if column.drawn else 0.0
            if column.drawn >= MIN_FEATURES and share >= CONTOUR_SHARE:
                said_best = _levels_said(column, best) or said[name]
                out.levels[name] = f"{said_best}; {share:.0%} of its features lie as contours do"
            # No fifth of the lines set aside could part more pairs than a fifth: cleared.
            # Read either way: the reading that pairs fewest is the one to clear.
            elif column.lines and min(column.matched.values(), default=0) <= 2 * int(
                (1 - CONTOUR_SHARE) * column.lines
            ):
                out.unmet[name] = (
                    f"past {MAX_LEVEL_BYTES >> 20} MiB of geometry, met batch by batch with the "
                    "lines that share an end, not cleared"
                )
            elif column.crowded:
                out.unmet[name] = "drawn with boxes within boxes, too crowded to meet"
            elif column.unseen:
                out.unmet[name] = "fewer than three levels in a window met, more after it"
        return out


def _levels_said(column: _Column, reading: str) -> str | None:
    """The field's levels as ``reading`` reads them, in words, where they may be contour
    levels; else None."""
    if column.valued < MIN_FEATURES:
        return None
    # A row number: each feature its own value, counting from 0 or 1 (read any way).
    low, high = column.distinct[0], column.distinct[-1]
    counted = column.exact and column.valued == column.distinct.size and low in (0, 1)
    if counted and (np.diff(column.distinct) == 1).all():
        return None
    levels = column.readings().get(reading)
    if levels is None or levels.size < 3:
        return None
    step = median(np.diff(levels))
    return (
        f"{levels.size} levels from {low:g} to {high:g}, {step:.3g} apart at the median"
        + READ_SO[reading]
    )


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique`` loads ``numpy.ma`` on its first call)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered


def _area_boxes(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Where every row is a polygon (or none): the rows with a box, and the pairs of rows
    whose boxes meet, read from the WKB without decoding it. None where a row is of
    another kind, a box could not be read, or boxes lie within boxes."""
    kinds = wkb_kinds(wkb)
    if not np.isin(kinds, (0, *_AREAS), kind="table").all():
        return None
    boxes = wkb_boxes(wkb).bounds
    boxed = np.isfinite(boxes).all(axis=1)
    if not boxed[kinds > 0].all():  # a box it could not read: decoded
        return None
    rows = np.flatnonzero(boxed)
    pairs = box_pairs(boxes[rows], CROWDED)
    return None if pairs is None else (boxed, rows[pairs])


def _out_of_reach(column: _Column, boxed: np.ndarray, pairs: np.ndarray, final: bool) -> bool:
    """Whether the window's areas can be passed over for the column, counted as drawn and
    fitting none, without decoding them: an area fits only where its box meets the box of
    an area one level away (``pairs``: the rows whose boxes meet). So where none does; or,
    in the last window, where all that do could not lift the field to ``CONTOUR_SHARE``."""
    values = np.concatenate(column.values)
    near = np.zeros(len(values), dtype=bool)
    for levels in column.readings().values():  # one level away in any reading
        rank = ranks(levels, values)
        near[pairs[np.abs(rank[pairs[:, 0]] - rank[pairs[:, 1]]) == 1].ravel()] = True
    drawn = np.isfinite(values) & boxed
    reach = column.fit + int((near & drawn).sum())
    if near.any() and not (final and reach < CONTOUR_SHARE * (column.drawn + drawn.sum())):
        return False
    column.drawn += int(drawn.sum())
    return True


def _decoded(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The rows' lines, and their polygons; None for other rows (points; undecodable rows,
    curves GEOS does not read; unplaceable ones, a NaN coordinate)."""
    with np.errstate(invalid="ignore"):
        geoms = decode_wkb(wkb.to_numpy(zero_copy_only=False)).geometries
    geoms[~np.isfinite(shapely.bounds(geoms)).all(axis=1) & ~shapely.is_missing(geoms)] = None
    kind = shapely.get_type_id(geoms)
    lines, areas = geoms.copy(), geoms
    lines[~np.isin(kind, _LINEAR, kind="table")] = None
    areas[~np.isin(kind, _AREAS, kind="table")] = None
    return lines, areas
