"""Recovered shapes against the sensitive zones: how many meet one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS

from compliance.zones.area_cover import growing_index
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.zone_set import ZoneSet

__all__ = ["count_meeting"]


@dataclass
class _Met(OverlapAccumulator):
    """An accumulator that also remembers which shapes met an area."""

    met: set[int] = field(default_factory=set)

    def _record(self, feat_idx: np.ndarray, area_idx: np.ndarray, km2: np.ndarray | None) -> None:
        self.met.update(int(i) for i in feat_idx)
        super()._record(feat_idx, area_idx, km2)


def count_meeting(
    geoms: np.ndarray, crs: CRS, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> int:
    """How many of ``geoms`` (in ``crs``) meet a zone. They are also added to ``overlap``,
    the dataset's own zone overlap: a shape that can be recovered from the file leaves
    with it as surely as one a reader shows."""
    if not geoms.size:
        return 0
    minx, miny, maxx, maxy = (float(b) for b in shapely.total_bounds(geoms))
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return 0
    index = growing_index(zones.areas, crs).covering((minx, miny, maxx, maxy)).index
    met = _Met(zones.areas)
    met.add(geoms, index, areas_too=False)
    if overlap is not None:
        overlap.add(geoms, index)
    return len(met.met)
