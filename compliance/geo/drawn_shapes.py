"""Shapes as the zone tests must see them: every ring and line where the file draws it.

GEOS answers a predicate by what a geometry means, and an invalid polygon's meaning can
hide part of what it draws. A hole drawn outside its shell is outside the polygon's
envelope (GEOS takes it from the shell), so a tree query and ``intersects`` pass over it,
although its coordinates are in the file and anyone can draw them. GEOS's repair by
linework keeps every ring's area (that hole becomes a polygon of its own) and every
collapsed ring (as a line or point), so the repaired shape meets what the file draws.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["as_drawn", "invalid_mask", "repaired"]


def invalid_mask(geoms: np.ndarray) -> np.ndarray:
    """Which of ``geoms`` are invalid (a missing value is not)."""
    present = ~shapely.is_missing(geoms)
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[present] = ~shapely.is_valid(geoms[present])
    return invalid


def repaired(invalid: np.ndarray) -> np.ndarray:
    """Each of these invalid geometries repaired by its linework. One GEOS cannot repair
    (a NaN coordinate, say) is kept as it is: tests see what they saw before."""
    try:
        return np.asarray(shapely.make_valid(invalid), dtype=object)
    except shapely.errors.GEOSException:
        out = invalid.copy()
        for i, geom in enumerate(invalid):
            try:
                out[i] = shapely.make_valid(geom)
            except shapely.errors.GEOSException:
                continue
        return out


def as_drawn(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with each invalid one replaced by its repair."""
    invalid = invalid_mask(geoms)
    if not invalid.any():
        return geoms
    out = geoms.copy()
    out[invalid] = repaired(geoms[invalid])
    return out
