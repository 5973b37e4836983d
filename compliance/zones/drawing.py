"""Areas drawn in a data CRS, and the lon/lat copies of those that cannot be.

An area reprojected into a CRS whose domain it leaves (an orthographic projection's
horizon, Web Mercator's poles) comes back with vertices that are not finite or not where
they were. Such an area is not dropped: it is kept in lon/lat, where the features are
carried to meet it.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from compliance.arrays import rows_all
from compliance.geo.geodesy import to_lonlat
from compliance.zones.areas import TURNS, AreaSet

__all__ = ["drawn_faithfully", "lonlat_copies"]

_FAITHFUL_DEG = 1e-7  # about a centimetre: PROJ's round trips are far closer where it is exact


def drawn_faithfully(lonlat: np.ndarray, local: np.ndarray, crs: CRS) -> np.ndarray:
    """Per area, whether every vertex drawn in ``crs`` is finite and projects back to
    within about a centimetre of where it was in lon/lat."""
    coords, owner = shapely.get_coordinates(local, return_index=True)
    source = shapely.get_coordinates(lonlat)
    lon, lat = to_lonlat(crs, coords[:, 0], coords[:, 1])
    # Vertices outside the projection's domain are infinite: not faithful, and no warning.
    with np.errstate(invalid="ignore"):
        dlon = np.abs((lon - source[:, 0] + 180.0) % 360.0 - 180.0) * np.cos(np.radians(lat))
        good = rows_all(np.isfinite(coords)) & (dlon <= _FAITHFUL_DEG)
        good &= np.abs(lat - source[:, 1]) <= _FAITHFUL_DEG
    ok = np.ones(local.size, dtype=bool)
    np.logical_and.at(ok, owner, good)
    return ok


def lonlat_copies(areas: AreaSet, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grown areas in lon/lat, each also a turn west and east (features carried to
    lon/lat keep longitudes within ±180° of their middle, areas of their centre)."""
    grown = areas.grown(positions)
    copies = [shapely.transform(grown, lambda xy, d=shift: xy + [d, 0.0]) for shift in TURNS]
    geoms = np.concatenate(copies)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    shapely.prepare(geoms)
    return np.tile(positions, len(TURNS)), geoms
