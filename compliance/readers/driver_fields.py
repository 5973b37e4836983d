"""Fields a GDAL driver adds to every layer of a format, whatever the data holds.

KML's readers give every placemark ``altitudeMode``, ``tessellate``, ``extrude`` and more;
GPX's gives every waypoint ``geoidheight``, ``magvar``, ``hdop``... A rule that reads the
field names (contours, elevation) would fire on those alone, so the fields the rules see are
the data's own: these are left out. Name and description fields stay: they hold the data's
own text.
"""

from __future__ import annotations

from collections.abc import Iterable

from compliance.readers.formats import KML_DRIVERS

__all__ = ["DRIVER_ADDED_FIELDS", "DRIVER_HEIGHT_FIELDS", "height_fields", "own_fields"]

_KML = frozenset(
    {
        "timestamp",
        "begin",
        "end",
        "altitudeMode",
        "tessellate",
        "extrude",
        "visibility",
        "drawOrder",
        "icon",
        "snippet",
        "styleUrl",
        "heading",
        "tilt",
        "roll",
        "scale_x",
        "scale_y",
        "scale_z",
        "model",
        "networklink",
        "networklink_refresh_visibility",
        "networklink_fly_to_view",
        "networklink_refreshMode",
        "networklink_refreshInterval",
        "networklink_viewRefreshMode",
        "networklink_viewRefreshTime",
        "networklink_viewBoundScale",
        "networklink_viewFormat",
        "networklink_httpQuery",
        "camera_longitude",
        "camera_latitude",
        "camera_altitude",
        "camera_altitudemode",
        "photooverlay",
        "leftfov",
        "rightfov",
        "bottomfov",
        "topfov",
        "near",
        "photooverlay_shape",
        "imagepyramid_tilesize",
        "imagepyramid_maxwidth",
        "imagepyramid_maxheight",
        "imagepyramid_gridorigin",
    }
)
_GPX_LINKS = frozenset(f"link{i}_{part}" for i in (1, 2) for part in ("href", "text", "type"))
_GPX = _GPX_LINKS | {
    "time",
    "magvar",
    "geoidheight",
    "src",
    "sym",
    "type",
    "fix",
    "sat",
    "hdop",
    "vdop",
    "pdop",
    "ageofdgpsdata",
    "dgpsid",
    "number",
    "track_fid",
    "track_seg_id",
    "track_seg_point_id",
    "route_fid",
    "route_point_id",
    "course",
    "speed",
}

# driver -> fields its reader adds to every layer
DRIVER_ADDED_FIELDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(sorted(KML_DRIVERS), _KML),
    "GPX": frozenset(_GPX),
}


# driver -> the fields its reader makes of the format's own height element, where it does
# not make it the geometry's Z: a point's height all the same (GPX's ``ele``: GDAL reads
# it as Z only when told ``ELE_AS_25D``).
DRIVER_HEIGHT_FIELDS: dict[str, frozenset[str]] = {"GPX": frozenset({"ele"})}


def height_fields(driver: str, fields: Iterable[str]) -> list[str]:
    """The fields of a layer read by ``driver`` that hold its features' heights."""
    heights = DRIVER_HEIGHT_FIELDS.get(driver, frozenset())
    return [f for f in fields if f in heights]


def own_fields(driver: str, fields: Iterable[str]) -> list[str]:
    """The fields of a layer read by ``driver`` that are the data's own."""
    added = DRIVER_ADDED_FIELDS.get(driver, frozenset())
    return [f for f in fields if f not in added]
