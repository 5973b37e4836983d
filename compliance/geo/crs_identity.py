"""What a CRS is, asked once per CRS object: its WKT (the key of caches by CRS) and whether
it is WGS84 lon/lat. Every projection asks both, and PROJ answers each in 10-20 µs."""

from __future__ import annotations

import math

from pyproj import CRS

__all__ = ["WGS84", "crs_key", "is_wgs84", "unit_m"]

WGS84 = CRS.from_epsg(4326)

# Keyed by the object's id, each entry keeping its object alive so that the id stays its own.
_WKT_OF: dict[int, tuple[CRS, str]] = {}
_LONLAT_OF: dict[int, tuple[CRS, bool]] = {}
_KEPT = 256


def crs_key(crs: CRS) -> str:
    """The CRS as WKT: a cheap key for caches keyed by CRS."""
    hit = _WKT_OF.get(id(crs))
    if hit is None or hit[0] is not crs:
        if len(_WKT_OF) > _KEPT:
            _WKT_OF.clear()
        hit = _WKT_OF[id(crs)] = (crs, crs.to_wkt())
    return hit[1]


def is_wgs84(crs: CRS) -> bool:
    """Whether ``crs`` is WGS84 lon/lat."""
    hit = _LONLAT_OF.get(id(crs))
    if hit is None or hit[0] is not crs:
        if len(_LONLAT_OF) > _KEPT:
            _LONLAT_OF.clear()
        hit = _LONLAT_OF[id(crs)] = (crs, crs.equals(WGS84))
    return hit[1]


def unit_m(crs: CRS) -> float:
    """The length of a projected CRS's unit in metres (1 where it does not say)."""
    axes = crs.axis_info
    factor = axes[0].unit_conversion_factor if axes else 1.0
    return float(factor) if factor and math.isfinite(factor) else 1.0
