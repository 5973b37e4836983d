"""Fields a GDAL driver adds to every layer of a format, whatever the data holds, and the
fields that hold a layer's heights.

KML's readers give every placemark ``altitudeMode``, ``tessellate``, ``extrude`` and more;
GPX's gives every waypoint ``geoidheight``, ``magvar``, ``hdop``... A rule that reads the
field names (contours, elevation) would fire on those alone, so the fields the rules see are
the data's own: these are left out. Name and description fields stay: they hold the data's
own text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from compliance.readers.formats import KML_DRIVERS

__all__ = [
    "DRIVER_ADDED_FIELDS", "DRIVER_HEIGHT_FIELDS", "HEIGHT_NAME", "height_fields", "own_fields",
]  # fmt: skip

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

# Names that say a field holds heights, as mapping agencies and common tools write them:
# contours' levels, spot heights, depths, buildings' heights. In English; German (Höhe),
# French (hauteur), Spanish and Portuguese (cota, altura), Italian (quota), Dutch
# (hoogte), Russian (высота, отметка), Arabic, Hindi; Korean, Chinese and Japanese. A number
# there is a height whatever the geometry holds: a 2-D contour line with its level in
# ``ELEVATION`` is elevation data as much as a 3-D one.
HEIGHT_NAME = re.compile(
    r"elev|height|altitud|contour|depth|bathym|sounding"
    r"|^(z|ele|alt|hgt|dem|dtm|dsm|msl|amsl|z_?m|z_?val(ue)?)$|_z$"
    r"|h(oe|ö)he|hauteur|altura|^cota|quota|hoogte|высот|отметк|ارتفاع|ऊंचाई|ऊँचाई"
    r"|등고|표고|높이|고도|수심|해발|高程|海拔|高度|標高|高さ|等高",
    re.IGNORECASE,
)


def height_fields(driver: str, fields: Iterable[str]) -> list[str]:
    """The fields of a layer read by ``driver`` that hold its features' heights: the
    driver's own height field (GPX's ``ele``), and the data's own fields whose
    name says they hold heights (``HEIGHT_NAME``; not KML's ``altitudeMode`` nor GPX's
    ``geoidheight``, which every feature of those formats has). Only those holding
    numbers do."""
    heights = DRIVER_HEIGHT_FIELDS.get(driver, frozenset())
    added = DRIVER_ADDED_FIELDS.get(driver, frozenset())
    return [
        f for f in fields if f in heights or (f not in added and HEIGHT_NAME.search(f) is not None)
    ]


def own_fields(driver: str, fields: Iterable[str]) -> list[str]:
    """The fields of a layer read by ``driver`` that are the data's own."""
    added = DRIVER_ADDED_FIELDS.get(driver, frozenset())
    return [f for f in fields if f not in added]
