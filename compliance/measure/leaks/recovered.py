"""Shapes recovered from where a reader does not look, and how they meet the zones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS

from compliance.arrays import finite_rows
from compliance.measure.leaks.zones_met import count_meeting
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.zone_set import ZoneSet

__all__ = ["Recovered", "place_recovered"]


@dataclass
class Recovered:
    """Deleted geometries a file still holds."""

    count: int = 0
    in_zones: int = 0
    unplaced: int = 0  # no CRS, coordinates that are not numbers, or no shape at all
    stale_pages: int = 0  # free pages still holding bytes (parts of deleted rows)

    def __add__(self, other: Recovered) -> Recovered:
        return Recovered(
            self.count + other.count,
            self.in_zones + other.in_zones,
            self.unplaced + other.unplaced,
            self.stale_pages + other.stale_pages,
        )


def place_recovered(
    shapes: np.ndarray, crs: CRS | None, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> Recovered:
    """Count ``shapes`` (None where a shape could not be rebuilt) and meet the zones with
    those that can be placed in ``crs``."""
    if not shapes.size:
        return Recovered()
    known = np.array([s is not None for s in shapes], dtype=bool)
    if known.any():
        bounds = shapely.bounds(np.array(list(shapes[known]), dtype=object))
        finite = finite_rows(bounds)
        known[np.flatnonzero(known)[~finite]] = False
    if crs is None:
        return Recovered(len(shapes), 0, len(shapes))
    placed = np.array(list(shapes[known]), dtype=object)
    met = count_meeting(placed, crs, zones, overlap) if placed.size else 0
    return Recovered(len(shapes), met, int((~known).sum()))
