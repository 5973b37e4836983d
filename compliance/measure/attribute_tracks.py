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

from dataclasses import dataclass, field

import numpy as np

__all__ = ["AxisTracks"]

_REACH = {"degrees": 0.01, "units": 1000.0}  # about a kilometre
_ROOM = {"degrees": 1e-6, "units": 0.1}  # round-off: 6 decimals of a degree, a decimetre
_LEAST_ROWS = 3


@dataclass
class _Track:
    """One column against one axis, over the batches seen."""

    rows: int = 0  # rows with a value and a box
    off: int = 0  # of them, off their box (past the round-off)
    farthest: float = 0.0  # the farthest a value lay from its row's box
    least: float = np.inf  # the column's own values
    most: float = -np.inf

    def add(self, values: np.ndarray, low: np.ndarray, high: np.ndarray, room: float) -> None:
        given = np.isfinite(values) & np.isfinite(low) & np.isfinite(high)
        if not given.any():
            return
        v = values[given]
        gap = np.maximum(low[given] - v, 0.0) + np.maximum(v - high[given], 0.0)
        self.rows += len(v)
        self.off += int((gap > room).sum())
        self.farthest = max(self.farthest, float(gap.max()))
        self.least = min(self.least, float(v.min()))
        self.most = max(self.most, float(v.max()))

    def follows(self, reach: float) -> bool:
        """Whether every value lay within ``reach`` of its row's box, the values were not
        all the same, and some value lay off its row's box."""
        return (
            self.rows >= _LEAST_ROWS
            and self.off > 0
            and self.most > self.least
            and self.farthest <= reach
        )


@dataclass
class AxisTracks:
    """The numeric columns of a layer, each met with the x and the y of its rows' boxes
    batch by batch; ``columns``: those that follow an axis off the geometry."""

    names: list[str]
    geographic: bool
    _tracks: dict[tuple[str, int], _Track] = field(default_factory=dict)

    def add(self, columns: dict[str, np.ndarray], boxes: np.ndarray) -> None:
        """``columns``: each column's values as floats (NaN where none); ``boxes``: each
        row's box (min x, min y, max x, max y; NaN where it has none)."""
        room = _ROOM["degrees" if self.geographic else "units"]
        for name in self.names:
            values = columns.get(name)
            if values is None:
                continue
            for axis in (0, 1):
                track = self._tracks.setdefault((name, axis), _Track())
                track.add(values, boxes[:, axis], boxes[:, axis + 2], room)

    @property
    def columns(self) -> list[str]:
        reach = _REACH["degrees" if self.geographic else "units"]
        found = {name for (name, _), t in self._tracks.items() if t.follows(reach)}
        return [name for name in self.names if name in found]
