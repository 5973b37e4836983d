"""The area a remediation masks: the zones near the data, grown outward to a coarse grid.

The zones are secret. A gap cut along a zone's buffered outline would draw that outline
in the derivative, so the mask is every cell of a coarse grid (``grid_m``, laid out in the
zone's UTM zone) that meets the buffered zone: the gap shows a blocky area around the
zone, never its shape.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from compliance.geo.crs_identity import WGS84
from compliance.geo.geodesy import transformer
from compliance.zones.zone_set import ZoneSet

__all__ = ["coarse_mask", "buffered_zones_near"]

# Grown this much before gridding, so that round-off in the reprojections can only widen
# the mask; far below any grid cell.
_MARGIN_M = 2.0
_DENSIFY_DEG = 0.002  # about 200 m: lon/lat edges bend when projected
_MAX_CELLS = 4_000_000


def buffered_zones_near(
    zones: ZoneSet, crs: CRS, bounds: tuple[float, float, float, float]
) -> np.ndarray:
    """The zones (lon/lat, grown by their buffers) whose reach meets ``bounds`` in ``crs``."""
    west, south, east, north = transformer(crs, WGS84).transform_bounds(*bounds, densify_pts=21)
    if east < west:  # across the antimeridian
        east += 360.0
    positions = zones.areas.near((west, south, east, north))
    if positions.size == 0:
        return np.empty(0, dtype=object)
    grown = zones.areas.grown(positions)
    return np.asarray([g for g in grown if g is not None and not g.is_empty], dtype=object)


def _utm(lon: float, lat: float) -> CRS:
    number = int(np.clip((lon + 180.0) // 6.0, 0, 59)) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + number)


def _cells(zone_utm: BaseGeometry, grid_m: float) -> BaseGeometry:
    """The union of the grid cells that meet a zone (in metres)."""
    x0, y0, x1, y1 = zone_utm.bounds
    ix = np.arange(np.floor(x0 / grid_m), np.ceil(x1 / grid_m) + 1)
    iy = np.arange(np.floor(y0 / grid_m), np.ceil(y1 / grid_m) + 1)
    if ix.size * iy.size > _MAX_CELLS:
        # So many cells: the zone's bounding box, grown out to the grid, masks it whole.
        return shapely.box(ix[0] * grid_m, iy[0] * grid_m, ix[-1] * grid_m, iy[-1] * grid_m)
    gx, gy = np.meshgrid(ix, iy)
    boxes = shapely.box(gx * grid_m, gy * grid_m, (gx + 1) * grid_m, (gy + 1) * grid_m).ravel()
    shapely.prepare(zone_utm)
    return shapely.union_all(boxes[shapely.intersects(zone_utm, boxes)])


def coarse_mask(
    zones: ZoneSet, crs: CRS, bounds: tuple[float, float, float, float], grid_m: float
) -> BaseGeometry | None:
    """The mask in ``crs`` for data within ``bounds`` (in ``crs``); None when no zone is near.

    Each zone near the data, buffered on the ground, is laid on a ``grid_m`` grid in its UTM
    zone and every cell it meets is masked. The result covers the buffered zone wholly.
    """
    near = buffered_zones_near(zones, crs, bounds)
    if near.size == 0:
        return None
    to_data_parts = []
    for zone in near:
        lonlat = shapely.segmentize(zone, _DENSIFY_DEG)
        centre = lonlat.centroid
        utm = _utm(centre.x, centre.y)
        forward = transformer(WGS84, utm)
        zone_utm = shapely.transform(
            lonlat, lambda xy, t=forward: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        ).buffer(_MARGIN_M)
        cells = shapely.segmentize(_cells(zone_utm, grid_m), max(grid_m / 20.0, 1.0))
        back = transformer(utm, crs)
        to_data_parts.append(
            shapely.transform(
                cells, lambda xy, t=back: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
            )
        )
    mask = shapely.make_valid(shapely.union_all(to_data_parts))
    return None if mask.is_empty else mask
