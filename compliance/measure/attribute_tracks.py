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

Text and list columns are met by every number their values write
(``written_numbers``): a row follows when some number of it does. And a value that
writes many numbers may hold many positions by itself, which no other row need follow:
one that writes more than ``FEW_NUMBERS`` is met on its own, as a table of positions
(``table_positions.holds_a_table``) where the rows' boxes are.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer

from compliance.arrays import finite_rows, lonlat_sized_boxes
from compliance.geo.crs_identity import WGS84, unit_m
from compliance.geo.geodesy import transformer
from compliance.measure.table_positions import Window, holds_a_table
from compliance.measure.written_numbers import Written
from compliance.tracks import FrameTracks, bowed, union

__all__ = ["AxisTracks"]


class AxisTracks:
    """The numeric columns of a layer, and the numbers written in its text and list
    columns, each met with the x and the y of its rows' boxes batch by batch, in any unit
    (``compliance.tracks``): in the layer's CRS and, for a projected one, as longitude
    and latitude too (a column of degrees beside eastings); ``columns``: those that
    follow an axis off the geometry."""

    def __init__(self, names: list[str], crs: CRS | None) -> None:
        self.names = names
        self.crs = crs
        # Without a CRS, the first boxes read tell degrees from other units.
        self._own: FrameTracks[str] | None = None
        self._lonlat: FrameTracks[str] | None = None
        self._to: Transformer | None = None  # to longitude and latitude, once needed
        self._crowded: set[str] = set()  # columns of which a value holds many positions
        if crs is not None and crs.is_geographic:
            self._own = FrameTracks(True)
        elif crs is not None:
            self._own = FrameTracks(False, unit_m(crs))
            self._lonlat = FrameTracks(True)

    def add(
        self,
        columns: dict[str, np.ndarray | Written],
        boxes: np.ndarray,
        tables: dict[str, Written] | None = None,
    ) -> None:
        """``columns``: each numeric column's values as floats (NaN where none), and the
        numbers each text or list column writes; ``boxes``: each row's box (min x, min y,
        max x, max y; NaN where it has none); ``tables``: numbers met only as tables of
        positions a value holds by itself, not row by row."""
        placed = finite_rows(boxes)
        if not placed.any() or not (columns or tables):
            return  # nothing to meet the numbers with
        if self._own is None:
            self._own = FrameTracks(bool(lonlat_sized_boxes(boxes[placed]).all()))
        series = {n: c.values if isinstance(c, Written) else c for n, c in columns.items()}
        rows = {n: c.rows for n, c in columns.items() if isinstance(c, Written)}
        extent = union(boxes, placed)
        self._own.add(series, boxes, placed, extent, rows)
        windows = [Window(extent, self._own.degrees, self._own.unit_m)]
        if self._lonlat is not None and self.crs is not None:
            if self._to is None:
                self._to = transformer(self.crs, WGS84)
            lonlat = _LonLat(self._to, boxes)
            if (around := lonlat.extent(extent)) is not None:
                self._lonlat.add(series, lonlat.boxes, placed, around, rows)
                windows.append(Window(around, True))
        for name, column in [*columns.items(), *(tables or {}).items()]:
            if isinstance(column, Written) and name not in self._crowded:
                if holds_a_table(column, windows):
                    self._crowded.add(name)

    @property
    def columns(self) -> list[str]:
        frames = [f for f in (self._own, self._lonlat) if f is not None]
        found = set().union(*(f.following() for f in frames))
        found -= set().union(*(f.repeating() for f in frames))
        found |= self._crowded
        # The fields in their order, then series of other numbers (the geometry's Z and M).
        return [name for name in self.names if name in found] + sorted(found - set(self.names))


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
