"""Ground measures on the WGS84 ellipsoid, whatever CRS the data is in.

Everything the rules compare against a number in metres or km² is measured here:
grid units (degrees, feet, Web Mercator metres) are never taken as ground metres.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)
GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def transformer(src: CRS, dst: CRS) -> Transformer:
    """A cached always-xy transformer between two CRSs."""
    return _transformer(src.to_wkt(), dst.to_wkt())


def to_lonlat(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project grid coordinates to WGS84 longitude/latitude (non-finite where undefined)."""
    if crs.equals(WGS84):
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = transformer(crs, WGS84).transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def geometry_to_wgs84(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    """Reproject a shapely geometry to WGS84 lon/lat."""
    if crs.equals(WGS84):
        return geom
    t = transformer(crs, WGS84)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def geometry_from_wgs84(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    """Reproject a WGS84 geometry into ``crs``."""
    if crs.equals(WGS84):
        return geom
    t = transformer(WGS84, crs)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def distances_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Geodesic distances in metres between paired lon/lat points."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.abs(np.asarray(dist, dtype=float))


def area_km2(geom_wgs84: BaseGeometry | None) -> float:
    """Geodesic area of a lon/lat geometry in km² (0 for points and lines)."""
    if geom_wgs84 is None or geom_wgs84.is_empty:
        return 0.0
    area, _ = GEOD.geometry_area_perimeter(geom_wgs84)
    return abs(float(area)) / 1e6


def local_aeqd(lon: float, lat: float) -> CRS:
    """An azimuthal equidistant CRS centred on a point: metres there are ground metres."""
    return CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs")


def buffer_on_ground(geom_wgs84: BaseGeometry, metres: float) -> BaseGeometry:
    """Buffer a lon/lat geometry by a distance on the ground, returning lon/lat.

    The buffer is drawn in an equidistant projection centred on the geometry, where
    distances from the centre are true; for zones of a few tens of km the error at the
    edge stays well under the buffer tolerance.
    """
    if metres <= 0:
        return geom_wgs84
    centre = geom_wgs84.centroid
    aeqd = local_aeqd(centre.x, centre.y)
    local = geometry_from_wgs84(geom_wgs84, aeqd)
    return geometry_to_wgs84(local.buffer(metres, quad_segs=16), aeqd)


def on_the_earth(geom_wgs84: BaseGeometry) -> bool:
    """True when every vertex is a real position: finite, |lat| <= 90, and lon within one
    turn either side of the antimeridian (data that crosses it may run past 180)."""
    coords = shapely.get_coordinates(geom_wgs84)
    if coords.size == 0 or not np.all(np.isfinite(coords)):
        return False
    return bool(
        np.all(np.abs(coords[:, 1]) <= 90.0 + 1e-9) and np.all(np.abs(coords[:, 0]) <= 540.0)
    )
