"""A profile's last facts, common to vectors and rasters: its footprint's bounds and
area, and the map scale settled between the detail measured and the scale declared."""

from __future__ import annotations

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from compliance.dataset_profile import Profile, detail_unknown, resolution_for, settle_scale
from compliance.geo.geodesy import area_km2

__all__ = ["finish_profile"]

_GRID_DEG = 1e-7  # the footprint shown is rounded to 1 cm


def _rounded(footprint: BaseGeometry) -> BaseGeometry:
    """The footprint on a 1e-7 degree grid. Rounded vertex by vertex where that leaves it
    valid (the usual case); else by GEOS's snap rounding, which repairs what rounding
    folds over but costs ten times as much."""
    rounded = shapely.set_precision(footprint, _GRID_DEG, mode="pointwise")
    if shapely.is_valid(rounded):
        return rounded
    return shapely.set_precision(footprint, _GRID_DEG)


def finish_profile(profile: Profile, footprint: BaseGeometry | None, how: str) -> Profile:
    """Complete ``profile`` from its footprint (found ``how``) and settle its scale."""
    if profile.kind == "vector":
        profile.resolution_m = resolution_for(profile)
    if footprint is not None and not footprint.is_empty:
        profile.bounds_wgs84 = [round(v, 9) for v in footprint.bounds]
        profile.area_km2 = area_km2(footprint)
        profile.footprint_wgs84 = mapping(_rounded(footprint))
        profile.methods["footprint"] = how
        profile.methods["area_km2"] = "geodesic area of the footprint on the WGS84 ellipsoid"
    denominator, source, coarser = settle_scale(
        profile.resolution_m,
        profile.declared_scale_denominator,
        detail_unknown=detail_unknown(profile),
    )
    profile.scale_denominator, profile.scale_source = denominator, source
    profile.methods["scale_denominator"] = (
        "declared in the metadata"
        if source == "declared"
        else "estimated: 2000 x resolution_m (Tobler); each pack may set its own factor"
        if source == "estimated"
        else "not measurable"
    )
    if coarser:
        profile.notes.append(
            f"declared scale 1:{profile.declared_scale_denominator:,.0f} is coarser than the data's "
            f"detail (about 1:{denominator:,.0f}); the finer scale counts"
        )
    return profile
