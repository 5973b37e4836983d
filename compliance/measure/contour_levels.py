"""Numbers that lie on a layer's lines as contour levels do, whatever the field is called.

A field named as heights (``ELEVATION``) makes 2-D contours 3-D data
(``driver_fields.HEIGHT_NAME``); renamed ``v``, the same levels passed as any number. So a
numeric field of a layer of lines or polygons is met with the geometries, as contours are
drawn:

- its values are at least three levels (``MAX_LEVELS`` at most), and it is not a row
  number (each feature its own value, counting from 0 or 1 in steps of one);
- most of its features (``CONTOUR_SHARE``) lie as contours do: a line (a polygon's rings)
  touches no line of another level, and the nearest lines of other levels are of the next
  level up or down, none of a level further off lying nearer. Levels are taken in their
  order, not on an interval: levels shifted off a round step lie the same way.

A road's lane count crosses other roads; a building's floors are not one floor from their
nearest neighbour's. Such a field is reported, and the verdict held where reading it as
heights would change it (``Profile.elevation_unsure``). A layer too large to hold
(``MAX_LEVEL_BYTES``) whose values pass the first test is reported unmet, as it cannot be
cleared. Isolines of other quantities (isobars) lie the same way: a person tells which.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from compliance.measure.attribute_positions import numbers
from compliance.readers.sources import decode_wkb

__all__ = ["CONTOUR_SHARE", "MAX_LEVEL_BYTES", "MAX_LEVELS", "LevelLines", "LevelsFound"]

MAX_LEVELS = 5_000  # distinct values: more is no contour set (1 m from the sea to 5,000 m)
MAX_LEVEL_BYTES = 64 << 20  # geometry held to meet the levels with; beyond: not cleared
CONTOUR_SHARE = 0.8  # of a field's features lying as contours do
_MIN_FEATURES = 4
# Text that is wholly a number (digits already folded to ASCII's by the scan).
_NUMBER_TEXT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


@dataclass
class LevelsFound:
    """The fields whose numbers lie as contour levels do (with what was seen), and those
    that could not be met with the lines (the layer too large to hold)."""

    levels: dict[str, str] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)


@dataclass
class _Column:
    values: list[np.ndarray] = field(default_factory=list)  # one number per row, NaN: none
    distinct: np.ndarray = field(default_factory=lambda: np.empty(0))


class LevelLines:
    """Fed a layer's batches (each numeric field's value per row, the WKB geometries),
    tells at the end which fields lie on the lines as contour levels do."""

    def __init__(self) -> None:
        self._columns: dict[str, _Column] = {}
        self._dropped: set[str] = set()
        self._wkb: list[pa.Array] = []
        self._bytes = 0
        self._overflow = False

    def add(self, batch: pa.RecordBatch, wkb: pa.Array, skip: Collection[str] = ()) -> None:
        """The batch's numeric fields and text fields of numbers (but those in ``skip``),
        met with its geometries ``wkb`` at the end."""
        for name in batch.schema.names:
            if name in self._dropped or name in skip:
                continue
            values = _one_a_row(batch.column(name))
            kept = self._columns.setdefault(name, _Column())
            if values is None or not self._keep(kept, values):
                self._dropped.add(name)
                self._columns.pop(name, None)
                continue
            kept.values.append(values)
        if not self._columns:
            self._wkb = []  # nothing left to meet the lines with
            return
        if self._overflow:
            return
        self._bytes += wkb.nbytes
        if self._bytes > MAX_LEVEL_BYTES:
            self._overflow, self._wkb = True, []
            return
        self._wkb.append(wkb)

    def _keep(self, kept: _Column, values: np.ndarray) -> bool:
        """Whether the field may still hold levels: few distinct values so far."""
        finite = values[np.isfinite(values)]
        if finite.size:
            kept.distinct = np.union1d(kept.distinct, np.unique(finite))
        return kept.distinct.size <= MAX_LEVELS

    def found(self) -> LevelsFound:
        out = LevelsFound()
        live = {n: c for n, c in self._columns.items() if _levels_said(c) is not None}
        if not live:
            return out
        if self._overflow:
            out.unmet = sorted(live)
            return out
        wkb = pa.concat_arrays(self._wkb) if self._wkb else pa.array([], pa.binary())
        # Undecodable rows (curves GEOS does not read) and unplaceable ones (a NaN
        # coordinate) are left out: no line to meet a level with.
        with np.errstate(invalid="ignore"):
            lines = _linework(decode_wkb(wkb.to_numpy(zero_copy_only=False)).geometries)
        for name, column in live.items():
            said = _levels_said(column)
            assert said is not None
            values = np.concatenate(column.values)
            share = _contour_share(lines, np.searchsorted(column.distinct, values), values)
            if share >= CONTOUR_SHARE:
                out.levels[name] = f"{said}; {share:.0%} of its features lie as contours do"
        return out


def _one_a_row(column: pa.Array) -> np.ndarray | None:
    """Each row's number (NaN where it has none): a number's, or a text's that is wholly
    a number ("212.5"); None for other kinds, and for text of more distinct values than
    levels (each distinct text is read once)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return numbers(column)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    coded = column.dictionary_encode()
    texts = coded.dictionary
    if len(texts) > MAX_LEVELS:
        return None
    read = np.full(len(texts) + 1, np.nan)  # the last for a null
    # Only the texts shaped as a number are read (in Python): names are passed over in C.
    shaped = np.flatnonzero(pc.match_substring_regex(texts, _NUMBER_TEXT).to_numpy(False))
    if shaped.size:
        read[shaped] = numbers(texts.take(shaped))
    return read[coded.indices.fill_null(len(texts)).to_numpy()]


def _levels_said(column: _Column) -> str | None:
    """The field's levels in words where they may be contour levels, else None."""
    levels = column.distinct
    if levels.size < 3:
        return None
    values = np.concatenate(column.values)
    valued = values[np.isfinite(values)]
    if valued.size < _MIN_FEATURES:
        return None
    steps = np.diff(levels)
    # A row number: each feature its own value, counting from 0 or 1.
    if valued.size == levels.size and levels[0] in (0, 1) and (steps == 1).all():
        return None
    step = float(np.median(steps))
    return (
        f"{levels.size} levels from {levels[0]:g} to {levels[-1]:g}, {step:g} apart at the median"
    )


def _linework(geoms: np.ndarray) -> np.ndarray:
    """Lines as they are; polygons as their rings (nested rings are nested contours)."""
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    out = geoms.copy()
    out[polygonal] = shapely.boundary(geoms[polygonal])
    return out


def _contour_share(lines: np.ndarray, rank: np.ndarray, values: np.ndarray) -> float:
    """The share of the features with a level (``rank``: its order among the levels) that
    lie as contours do (see the module)."""
    keep = np.isfinite(values) & ~shapely.is_missing(lines) & ~shapely.is_empty(lines)
    keep &= shapely.get_type_id(lines) != 0  # points draw no contour
    keep &= np.isfinite(shapely.bounds(lines)).all(axis=1)
    if keep.sum() < _MIN_FEATURES:
        return 0.0
    lines, level = lines[keep], rank[keep]
    at_level = {at: np.flatnonzero(level == at) for at in np.unique(level)}
    trees = {at: shapely.STRtree(lines[rows]) for at, rows in at_level.items()}
    near = np.full(len(lines), np.inf)  # distance to the nearest line one level away
    for at, mine in at_level.items():
        for other in (at - 1, at + 1):
            if other in trees:
                found, dist = trees[other].query_nearest(
                    lines[mine], return_distance=True, all_matches=False
                )
                np.minimum.at(near, mine[found[0]], dist)
    fits = np.isfinite(near)
    tree = shapely.STRtree(lines)
    # Touching a line of another level: contours of two levels never meet.
    i, j = tree.query(lines, predicate="intersects")
    np.logical_and.at(fits, i, level[i] == level[j])
    # Nearer than the lines one level away: a line of a level further off.
    ask = np.flatnonzero(fits)
    i, j = tree.query(lines[ask], predicate="dwithin", distance=near[ask] * (1 - 1e-9))
    i = ask[i]
    np.logical_and.at(fits, i, np.abs(level[i] - level[j]) <= 1)
    return float(fits.mean())
