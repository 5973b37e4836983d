"""Labelled areas on the ground (lon/lat), each grown by its buffer only when first needed.

A zones source may hold thousands of zones of which a file meets a handful. Buffering
every zone on the ground costs more than checking a large file, so each zone carries a
*reach*: a lon/lat box that surely holds it once buffered, computed from its own bounds.
Only the zones whose reach meets the data are buffered and indexed.
"""

from __future__ import annotations

import threading

import numpy as np
import shapely

from compliance.arrays import distinct, finite_rows
from compliance.geo.geodesy import ARC_TOLERANCE_M, buffer_many_on_ground

__all__ = ["AreaSet", "TURNS"]

# Shortest ground length of a degree: of latitude (at the equator), and of longitude at
# the equator (a parallel's radius is N cos(lat) with N >= a).
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_319.0
# The reach is drawn this much wider than the buffer: ground buffers are drawn in local
# projections whose scale is within 1e-3 of true, so half again is far more than enough.
_SAFETY = 1.5
_SLACK_DEG = 1e-6
_POLAR_LAT = 89.0  # beyond this, a buffer may wrap around the pole: reach every longitude
# Lon/lat data may run past ±180°: an area can meet it as itself or a turn west or east.
TURNS = (0.0, -360.0, 360.0)


class AreaSet:
    """Areas with ids and classes; geometry grown by ``buffer_m`` on the ground when asked for."""

    def __init__(
        self,
        ids: list[str],
        classes: list[str],
        geometries: np.ndarray,
        buffer_m: np.ndarray | None = None,
        tolerance_m: float = ARC_TOLERANCE_M,
    ) -> None:
        self.ids = ids
        self.classes = np.array(classes, dtype=object)
        self.class_names = sorted({str(c) for c in classes})
        # Each area's class as an index into class_names, for counting in bulk.
        code_of = {name: i for i, name in enumerate(self.class_names)}
        self.class_codes = np.array([code_of[str(c)] for c in classes], dtype=np.int64)
        self._raw = np.asarray(geometries, dtype=object)
        self._buffer_m = (
            np.zeros(len(ids)) if buffer_m is None else np.asarray(buffer_m, dtype=float)
        )
        # How far outside the true buffer a grown area may reach (never inside it).
        self.tolerance_m = tolerance_m
        self._grown = self._raw.copy()
        self._done = self._buffer_m <= 0
        self._lock = threading.Lock()
        self.reach = _reach(self._raw, self._buffer_m)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def buffered(self) -> int:
        """How many areas have been grown by a buffer so far."""
        return int((self._done & (self._buffer_m > 0)).sum())

    def grown(self, positions: np.ndarray) -> np.ndarray:
        """The buffered lon/lat geometries of the areas at ``positions`` (buffered once, kept)."""
        positions = np.asarray(positions, dtype=np.int64)
        with self._lock:
            todo = distinct(positions[~self._done[positions]])
            if todo.size:
                self._grown[todo] = buffer_many_on_ground(
                    self._raw[todo], self._buffer_m[todo], self.tolerance_m
                )
                self._done[todo] = True
            return self._grown[positions]

    def meets(self, region: tuple[float, float, float, float], shift: float = 0.0) -> np.ndarray:
        """Per area: its reach, moved ``shift`` degrees east, meets a lon/lat box."""
        west, south, east, north = region
        r = self.reach
        return (
            (r[:, 1] <= north)
            & (r[:, 3] >= south)
            & (r[:, 0] + shift <= east)
            & (r[:, 2] + shift >= west)
        )

    def near(self, region: tuple[float, float, float, float]) -> np.ndarray:
        """Positions of the areas whose reach meets a lon/lat box (which may run past ±180°:
        each area is also tried a turn east and west)."""
        hit = np.zeros(len(self), dtype=bool)
        for shift in TURNS:
            hit |= self.meets(region, shift)
        return np.flatnonzero(hit)


def _reach(geoms: np.ndarray, buffer_m: np.ndarray) -> np.ndarray:
    """A lon/lat box per area that holds the area grown by its buffer."""
    if geoms.size == 0:
        return np.empty((0, 4))
    box = shapely.bounds(geoms)
    grow = np.maximum(buffer_m, 0.0) * _SAFETY
    dlat = grow / _M_PER_DEG_LAT + _SLACK_DEG
    south, north = box[:, 1] - dlat, box[:, 3] + dlat
    far = np.minimum(np.maximum(np.abs(south), np.abs(north)), 90.0)
    polar = far >= _POLAR_LAT
    cos = np.cos(np.radians(np.where(polar, 0.0, far)))
    dlon = np.where(polar, np.inf, grow / (_M_PER_DEG_LON_EQUATOR * cos) + _SLACK_DEG)
    reach = np.column_stack([box[:, 0] - dlon, south, box[:, 2] + dlon, north])
    # An area whose bounds are not finite cannot be placed: let it reach everywhere.
    reach[~finite_rows(box)] = [-np.inf, -np.inf, np.inf, np.inf]
    return reach
