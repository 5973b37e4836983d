"""Ground measures on the WGS84 ellipsoid, whatever CRS the data is in.

Everything the rules compare against a number in metres or km² is measured here:
grid units (degrees, feet, Web Mercator metres) are never taken as ground metres.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Proj, Transformer
from shapely.geometry.base import BaseGeometry

from compliance.arrays import distinct
from compliance.geo.areal_scale import areal_scale, projection
from compliance.geo.crs_identity import WGS84, crs_key, is_wgs84

__all__ = [
    "ARC_TOLERANCE_M",
    "area_km2",
    "buffer_many_on_ground",
    "geometries_to_wgs84",
    "geometry_to_wgs84",
    "ground_areas_km2",
    "on_the_earth",
    "quad_segs_for",
    "to_crs_many",
    "to_lonlat",
    "transformer",
]

GEOD = Geod(ellps="WGS84")
_POLYGON, _MULTIPOLYGON = 3, 6  # shapely's geometry type ids


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def transformer(src: CRS, dst: CRS) -> Transformer:
    """A cached always-xy transformer between two CRSs."""
    return _transformer(crs_key(src), crs_key(dst))


def to_lonlat(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project grid coordinates to WGS84 longitude/latitude (non-finite where undefined)."""
    if is_wgs84(crs):
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = transformer(crs, WGS84).transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def geometry_to_wgs84(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    """Reproject a shapely geometry to WGS84 lon/lat."""
    if is_wgs84(crs):
        return geom
    t = transformer(crs, WGS84)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def geometry_from_wgs84(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    """Reproject a WGS84 geometry into ``crs``."""
    if is_wgs84(crs):
        return geom
    t = transformer(WGS84, crs)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def area_km2(geom_wgs84: BaseGeometry | None) -> float:
    """Geodesic area of a lon/lat geometry in km² (0 for points and lines)."""
    if geom_wgs84 is None or geom_wgs84.is_empty:
        return 0.0
    kind = shapely.get_type_id(geom_wgs84)
    if kind not in (_POLYGON, _MULTIPOLYGON):
        area, _ = GEOD.geometry_area_perimeter(geom_wgs84)
        return abs(float(area)) / 1e6
    # pyproj's geometry_area_perimeter, ring by ring in its order (each ring's signed area,
    # holes included, summed), on coordinate arrays rather than Python tuples: 7x faster.
    parts = shapely.get_parts(geom_wgs84) if kind == _MULTIPOLYGON else [geom_wgs84]
    total = 0.0
    for part in parts:
        for ring in shapely.get_rings(part):
            xy = shapely.get_coordinates(ring)
            total += GEOD.polygon_area_perimeter(xy[:, 0], xy[:, 1])[0]
    return abs(float(total)) / 1e6


def local_aeqd(lon: float, lat: float) -> CRS:
    """An azimuthal equidistant CRS centred on a point: metres there are ground metres."""
    return CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs")


# A buffer's arcs are drawn as chords, each vertex pushed out so that the chords never cut
# inside the true circle (see ``_circumscribed``). The push also moves straight edges out,
# so arcs get enough segments that it stays under a tolerance: this many metres unless the
# caller allows more (a territory's 22 km buffer needs no centimetres).
ARC_TOLERANCE_M = 0.1
_MAX_QUAD_SEGS = 512
# Edges are densified on both sides of a projection so that they bend by no more than the
# tolerance: an edge of L metres bends by about 3e-8 L² between UTM and lon/lat (3 m for
# 10 km); this constant is four times that, and steps stay between 500 m and 5 km.
_BEND_PER_M2 = 1.2e-7
_STEP_M = (500.0, 5_000.0)
_M_PER_DEG = 111_000.0


# Half the widest angle one chord of a GEOS buffer spans, times the segments per quarter
# circle. GEOS divides a join's turn into round(turn / quantum) chords (quantum = pi / 2q),
# so a chord spans up to 1.5 quanta, not one: a buffer that assumed one fell short by 1.1
# times its tolerance (0.11 m of a 500 m zone, 2.2 m of a 22 km territory) wherever the
# outline turns by about 1.45 quanta at a vertex.
_CHORD_HALF_ANGLE = 0.75 * np.pi / 2


def quad_segs_for(radius: Any, tolerance_m: Any = ARC_TOLERANCE_M) -> Any:
    """Segments per quarter circle that keep ``_circumscribed``'s push within the tolerance.

    A polygon whose vertices lie at r / cos(t) (t = ``_CHORD_HALF_ANGLE`` / q) goes round
    the circle of radius r; straight edges then move out by r (1 / cos(t) - 1), kept <= the
    tolerance.
    """
    r = np.maximum(np.asarray(radius, dtype=float), 1e-3)
    half_angle = np.arccos(r / (r + np.asarray(tolerance_m, dtype=float)))
    return np.clip(np.ceil(_CHORD_HALF_ANGLE / half_angle), 8, _MAX_QUAD_SEGS).astype(int)


def densify_step_m(tolerance_m: Any) -> Any:
    """The longest edge, in metres, that bends by no more than ``tolerance_m`` when carried
    between lon/lat and a transverse Mercator grid."""
    return np.clip(np.sqrt(np.asarray(tolerance_m, dtype=float) / _BEND_PER_M2), *_STEP_M)


def _circumscribed(radius: Any, quad_segs: Any) -> Any:
    """A buffer's arcs become chords that cut inside the true circle; grow the radius so the
    chords touch it instead, and the polygon contains every point within ``radius``."""
    return radius / np.cos(_CHORD_HALF_ANGLE / np.asarray(quad_segs))


def buffer_on_ground(
    geom_wgs84: BaseGeometry, metres: float, tolerance_m: float = ARC_TOLERANCE_M
) -> BaseGeometry:
    """Buffer a lon/lat geometry by a distance on the ground, returning lon/lat.

    The buffer is drawn in an equidistant projection centred on the geometry, where
    distances from the centre are true; for zones of a few tens of km the error at the
    edge stays well under the buffer tolerance. A buffer that takes in a pole cannot be
    drawn in lon/lat as a ring: it becomes the whole cap beyond its nearest latitude.
    """
    if metres <= 0:
        return geom_wgs84
    centre = geom_wgs84.centroid
    aeqd = local_aeqd(centre.x, centre.y)
    segs = int(quad_segs_for(metres, tolerance_m))
    step = float(densify_step_m(tolerance_m))
    local = geometry_from_wgs84(shapely.segmentize(geom_wgs84, step / _M_PER_DEG), aeqd).buffer(
        _circumscribed(metres, segs), quad_segs=segs
    )
    grown = geometry_to_wgs84(shapely.segmentize(local, step), aeqd)
    poles_x, poles_y = transformer(WGS84, aeqd).transform([0.0, 0.0], [90.0, -90.0])
    if local.intersects(shapely.Point(poles_x[0], poles_y[0])):
        return shapely.box(-180.0, shapely.bounds(grown)[1], 180.0, 90.0)
    if local.intersects(shapely.Point(poles_x[1], poles_y[1])):
        return shapely.box(-180.0, -90.0, 180.0, shapely.bounds(grown)[3])
    return unwrap_longitudes(np.array([grown], dtype=object), np.array([centre.x]))[0]


def unwrap_longitudes(geoms: np.ndarray, centre_lon: np.ndarray) -> np.ndarray:
    """Longitudes of each geometry within half a turn of its centre's.

    PROJ returns longitudes in -180..180, so a zone grown across the antimeridian would come
    back with vertices on both edges of the map: a band round the whole Earth instead of the
    zone. Kept continuous (179.9 .. 180.4), it stays where it is; indexes add it a turn east
    and west for data on the other side.
    """
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    if coords.size == 0:
        return geoms
    centre = np.asarray(centre_lon, dtype=float)[owner]
    # Only vertices more than half a turn away move, so every other vertex stays bit for bit.
    far = np.abs(coords[:, 0] - centre) > 180.0
    if not far.any():
        return geoms
    coords[far, 0] += np.where(coords[far, 0] < centre[far], 360.0, -360.0)
    return shapely.set_coordinates(geoms.copy(), coords)


def on_the_earth(geom_wgs84: BaseGeometry) -> bool:
    """True when every vertex is a real position: finite, |lat| <= 90, and lon within one
    turn either side of the antimeridian (data that crosses it may run past 180)."""
    coords = shapely.get_coordinates(geom_wgs84)
    if coords.size == 0 or not np.all(np.isfinite(coords)):
        return False
    return bool(
        np.all(np.abs(coords[:, 1]) <= 90.0 + 1e-9) and np.all(np.abs(coords[:, 0]) <= 540.0)
    )


@lru_cache(maxsize=128)
def _utm(epsg: int) -> tuple[CRS, Transformer, Transformer]:
    crs = CRS.from_epsg(epsg)
    return crs, transformer(WGS84, crs), transformer(crs, WGS84)


def _apply(t: Transformer, geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def buffer_many_on_ground(
    geoms_wgs84: np.ndarray, metres: np.ndarray, tolerance_m: Any = ARC_TOLERANCE_M
) -> np.ndarray:
    """Buffer many small lon/lat geometries by ground distances, in bulk.

    Each geometry is drawn in the UTM zone of its centre, with the distance scaled by the
    projection's largest point scale factor over the geometry's box grown by the distance:
    the grid distance is then at least the ground distance everywhere the buffer reaches,
    and the buffer never falls short (a 1° tile grown by 22 km would otherwise fall short
    by up to about 16 m where the factor is largest). Geometries wider than
    2° of longitude or beyond ±80° latitude are buffered one by one in a local equidistant
    projection instead. Arcs and edges follow the true buffer to within ``tolerance_m``
    (per geometry or one for all), always on the outside.
    """
    out = np.array(geoms_wgs84, dtype=object)
    tolerance = np.broadcast_to(np.asarray(tolerance_m, dtype=float), out.shape)
    todo = np.flatnonzero(np.asarray(metres) > 0)
    if todo.size == 0:
        return out
    bounds = shapely.bounds(out[todo])
    centre = shapely.centroid(out[todo])
    lon, lat = shapely.get_x(centre), shapely.get_y(centre)
    local_ok = ((bounds[:, 2] - bounds[:, 0]) <= 2.0) & (np.abs(lat) <= 80.0)
    zone = np.floor((lon + 180.0) / 6.0).astype(int) % 60 + 1
    epsg = np.where(lat >= 0, 32600, 32700) + zone
    for i in todo[~local_ok]:
        out[i] = buffer_on_ground(out[i], float(metres[i]), float(tolerance[i]))
    for code in distinct(epsg[local_ok]):
        sel = local_ok & (epsg == code)
        rows = todo[sel]
        crs, forward, back = _utm(int(code))
        distance = np.asarray(metres, dtype=float)[rows]
        k = _largest_scale(projection(crs_key(crs)), bounds[sel], lon[sel], lat[sel], distance)
        ok = np.isfinite(k) & (k > 0)
        grid_m, tol = distance[ok] * k[ok], tolerance[rows[ok]]
        out[rows[ok]] = _grown_in_utm(out[rows[ok]], grid_m, tol, lon[sel][ok], (forward, back))
        # No factor (PROJ could not give one): drawn the slow way rather than not at all.
        for i in rows[~ok]:
            out[i] = buffer_on_ground(out[i], float(metres[i]), float(tolerance[i]))
    return out


def _grown_in_utm(
    geoms: np.ndarray,
    grid_m: np.ndarray,
    tolerance_m: np.ndarray,
    centre_lon: np.ndarray,
    there_and_back: tuple[Transformer, Transformer],
) -> np.ndarray:
    """Lon/lat geometries grown by grid distances in one UTM zone, back in lon/lat.

    Edges are densified on both sides of the projection, so that an edge straight in
    lon/lat stays where it was in UTM, and an offset edge straight in UTM stays where it
    was in lon/lat.
    """
    forward, back = there_and_back
    step = densify_step_m(tolerance_m)
    local = _apply(forward, shapely.segmentize(geoms, step / _M_PER_DEG))
    segs = quad_segs_for(grid_m, tolerance_m)
    grown = np.empty(local.size, dtype=object)
    for q in distinct(segs):
        at = segs == q
        grown[at] = shapely.buffer(local[at], _circumscribed(grid_m[at], q), quad_segs=int(q))
    lonlat = _apply(back, shapely.segmentize(grown, step))
    return unwrap_longitudes(lonlat, centre_lon)


def _largest_scale(
    proj: Proj,
    bounds: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    metres: np.ndarray,
) -> np.ndarray:
    """Per geometry, the largest point scale factor of a transverse Mercator ``proj`` over its
    lon/lat box grown by ``metres`` (with the reach's generous degrees).

    The factor grows with the distance from the central meridian, times the cosine of the
    latitude: it is largest on the box's west or east edge, at the latitude nearest the
    equator. The centre is measured too, as before.
    """
    dlat = metres / 110_574.0
    far = np.minimum(np.maximum(np.abs(bounds[:, 1] - dlat), np.abs(bounds[:, 3] + dlat)), 89.0)
    dlon = metres / (111_319.0 * np.cos(np.radians(far)))
    west, east = bounds[:, 0] - dlon, bounds[:, 2] + dlon
    nearest_equator = np.clip(0.0, bounds[:, 1] - dlat, bounds[:, 3] + dlat)
    xs = np.concatenate([lon, west, east])
    ys = np.concatenate([lat, nearest_equator, nearest_equator])
    scale = np.asarray(proj.get_factors(xs, ys, errcheck=False).meridional_scale, dtype=float)
    # A point without a factor makes the whole row unknown (NaN), never a smaller factor.
    return scale.reshape(3, -1).max(axis=0)


def geometries_to_wgs84(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Reproject an array of geometries in ``crs`` to lon/lat in one call."""
    if is_wgs84(crs):
        return np.array(geoms, dtype=object)
    return _apply(transformer(crs, WGS84), np.asarray(geoms, dtype=object))


def to_crs_many(geoms_wgs84: np.ndarray, crs: CRS) -> np.ndarray:
    """Reproject an array of lon/lat geometries into ``crs`` in one call."""
    if is_wgs84(crs):
        return np.array(geoms_wgs84, dtype=object)
    return _apply(transformer(WGS84, crs), np.asarray(geoms_wgs84, dtype=object))


_LOCAL_LIMIT_DEG = 0.2  # pieces larger than this (about 20 km) are measured exactly


def ground_areas_km2(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Ground area of many small geometries given in ``crs``, in km², vectorised.

    Grid area is corrected by the projection's areal scale factor at each piece's centre
    (for lon/lat, by the ellipsoid's radii of curvature there); across a piece a few km wide
    the factor varies by well under 1e-4. Large pieces, or CRSs whose factors PROJ cannot
    give, are measured exactly on the ellipsoid one by one.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(geoms.size)
    if geoms.size == 0:
        return out
    planar = shapely.area(geoms)
    box = shapely.bounds(geoms)
    # The middle of each piece's box: as good as its centroid for a scale factor, and cheaper.
    # Middles and corners go through PROJ in one call.
    xs = np.concatenate([(box[:, 0] + box[:, 2]) / 2, box[:, 0], box[:, 2]])
    ys = np.concatenate([(box[:, 1] + box[:, 3]) / 2, box[:, 1], box[:, 3]])
    lons, lats = to_lonlat(crs, xs, ys)
    lon, lo_lon, hi_lon = np.split(lons, 3)
    lat, lo_lat, hi_lat = np.split(lats, 3)
    small = (np.abs(hi_lon - lo_lon) < _LOCAL_LIMIT_DEG) & (
        np.abs(hi_lat - lo_lat) < _LOCAL_LIMIT_DEG
    )
    small &= np.isfinite(lon) & np.isfinite(lat) & (planar > 0)
    factor = np.full(geoms.size, np.nan)
    if crs.is_geographic:
        phi = np.radians(lat)
        a, e2 = GEOD.a, GEOD.es
        w = 1 - e2 * np.sin(phi) ** 2
        m, n = a * (1 - e2) / w**1.5, a / np.sqrt(w)
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else np.pi / 180
        factor = unit * unit * m * n * np.cos(phi)
    elif crs.is_projected:
        try:
            areal = areal_scale(crs_key(crs), lon, lat)
            unit = crs.axis_info[0].unit_conversion_factor
            factor = unit * unit / areal
        except Exception:  # PROJ cannot give factors for some projections: measure exactly
            factor = np.full(geoms.size, np.nan)
    small &= np.isfinite(factor) & (factor > 0)
    out[small] = planar[small] * factor[small] / 1e6
    for i in np.flatnonzero(~small):
        out[i] = area_km2(geometry_to_wgs84(geoms[i], crs))
    return out
