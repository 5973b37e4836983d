"""Whether a dataset's coordinates fit the CRS it is tagged with.

A wrong CRS tag moves data: longitudes and latitudes tagged with a metric CRS land within
a few hundred metres of the projection's origin, UTM numbers tagged with a Korean TM CRS
land 3,500 km further north. Where the data then lands decides which territories and
zones it is tested against, so a tag that does not fit holds the verdict for review.
Rasters and vector layers are judged by the same function, from their coordinates in
their own CRS and their outline carried to lon/lat.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from compliance.geo.crs_identity import crs_key

__all__ = [
    "AOU_MARGIN_DEG",
    "AreaOfUse",
    "area_of_use",
    "crs_mismatch",
]

# Degrees past a CRS's area of use that data may still reach. Projected CRSs are used well
# past their official zones: a Landsat scene in UTM 18N reaches 0.96° past its zone,
# Berlin is drawn in UTM 32N 1.4° past it, Tokyo in Japan's plane VI 3.6° past it. Tags
# that move data less than this are caught by the size of the numbers instead.
AOU_MARGIN_DEG = 5.0
# An authority code found for a CRS given only as WKT (rasters, .prj files) must match it
# this well before its area of use is taken as the CRS's own.
_MATCH_CONFIDENCE = 70
_TURNS = (0.0, -360.0, 360.0)


class AreaOfUse(NamedTuple):
    """Where a CRS is meant to be used, in degrees (west > east across the antimeridian)."""

    west: float
    south: float
    east: float
    north: float
    name: str


@lru_cache(maxsize=256)
def _area_of_use(wkt: str) -> AreaOfUse | None:
    crs = CRS.from_wkt(wkt)
    found = crs.area_of_use
    if found is None:
        try:
            code = crs.to_authority(min_confidence=_MATCH_CONFIDENCE)
            found = CRS.from_authority(*code).area_of_use if code else None
        except CRSError:
            return None
    if found is None:
        return None
    return AreaOfUse(found.west, found.south, found.east, found.north, found.name)


def area_of_use(crs: CRS) -> AreaOfUse | None:
    """The CRS's area of use, also for a CRS read from WKT that carries none (a raster's,
    a shapefile's ``.prj``): then that of the authority code it matches, if any."""
    return _area_of_use(crs_key(crs))


def _lonlat_sized(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = bounds
    return -180.0 <= minx and maxx <= 180.0 and -90.0 <= miny and maxy <= 90.0


def _outside(footprint: BaseGeometry, aou: AreaOfUse) -> float:
    """Degrees by which the farthest part of ``footprint`` lies outside ``aou`` (0 inside).
    Each part is measured a turn east and west too: footprints that cross the antimeridian
    keep continuous longitudes, and so does an area of use across it here."""
    east = aou.east + 360.0 if aou.west > aou.east else aou.east
    worst = 0.0
    for part in shapely.get_parts(footprint):
        west_p, south, east_p, north = part.bounds
        lat = max(aou.south - south, north - aou.north, 0.0)
        lon = min(max(aou.west - (west_p + t), (east_p + t) - east, 0.0) for t in _TURNS)
        worst = max(worst, lat, lon)
    return worst


def crs_mismatch(
    crs: CRS,
    native_bounds: Sequence[float],
    footprint: BaseGeometry,
    lonlat_features: int = 0,
) -> str | None:
    """Why coordinates do not fit their CRS, or None when nothing says they do not.

    Parameters
    ----------
    crs
        The CRS the data is tagged with.
    native_bounds
        The extent of the coordinates read, in ``crs`` (minx, miny, maxx, maxy).
    footprint
        The data's outline carried to lon/lat.
    lonlat_features
        How many of a layer's features lie wholly within lon/lat-sized numbers
        (``lonlat_sized_boxes``): any is a mismatch in a projected CRS, whatever the others.
    """
    if not crs.is_geographic and lonlat_features and not _lonlat_sized(native_bounds):
        return (
            f"{lonlat_features} of its features have coordinates the size of longitudes and "
            "latitudes, not of positions in a projected CRS"
        )
    if not crs.is_geographic and _lonlat_sized(native_bounds):
        minx, miny, maxx, maxy = native_bounds
        # Real positions in a projected CRS are almost never within 180 x 90 units of its
        # origin; longitudes and latitudes always are. When in doubt, review.
        return (
            f"its coordinates (x {minx:.6g} to {maxx:.6g}, y {miny:.6g} to {maxy:.6g}) are "
            "the size of longitudes and latitudes, not of positions in a projected CRS"
        )
    # Longitudes and latitudes are where they say whatever the datum (a few hundred metres
    # apart at most): a geographic CRS used outside its area of use moves nothing.
    aou = area_of_use(crs) if not crs.is_geographic else None
    if aou is None:
        return None
    off = _outside(footprint, aou)
    if off > AOU_MARGIN_DEG:
        return (
            f"it lies {off:.1f}° outside the CRS's area of use ({aou.name}: "
            f"{aou.west:g}..{aou.east:g}°E, {aou.south:g}..{aou.north:g}°N)"
        )
    return None
