"""The one rule for attribute names that hold positions: what a table without geometry is
held for, and what ``strip_coordinates`` drops.

A name counts when one of its words is a coordinate's: words are split at underscores,
spaces, digits, dots and dashes and between lower and upper case (``POINT_X``,
``gps_lon``, ``lon2``, ``LatDD``, ``X_COORD``); a few words count only as a whole name
(``shape``, ``location``, ``position``); the words of scripts without spaces count
anywhere in a name (``X좌표``, ``위도``).
The words are matched as words, so ``xylophone`` or ``region`` do not count; a few
harmless names do (``x`` in ``x_ray_id``), and they only ask a reviewer to look.
"""

from __future__ import annotations

import re

__all__ = ["is_position_name"]

_WORDS = frozenset(
    {
        "x", "y", "z", "lat", "lon", "lng", "long", "latitude", "longitude", "easting",
        "northing", "coord", "coords", "coordinate", "coordinates", "geohash", "mgrs",
        "wkt", "wkb", "geom", "geometry", "gps", "latlon", "latlng", "lonlat", "xy", "xyz",
        # Run-together forms of field guides and GPS exports (LATDD, DECLAT, LONG_DEC).
        "latdd", "londd", "lngdd", "longdd", "latdms", "londms", "declat", "declon",
        "declong", "declng", "latdec", "londec", "longdec",
    }
)  # fmt: skip
# Words of scripts written without spaces between words (Korean, Chinese, Japanese) or
# inflected (Russian) count wherever they stand in a name: X좌표, 위도_WGS84, 纬度值.
_ANYWHERE = re.compile(
    "위도|경도|좌표|纬度|经度|坐标|緯度|経度|座標|широт|долгот|координат", re.IGNORECASE
)
_SPLIT = re.compile(r"[\W_\d]+|(?<=[a-z])(?=[A-Z])")
# Whole names only: as words they are too common (Shape_Length, LOCATION_ID).
_WHOLE = re.compile(r"(?i)^(the_geom|shape|location|position|point_?[xyz]|[xyz]_?coord\w*)$")


def is_position_name(name: str) -> bool:
    """Whether an attribute named ``name`` may hold positions."""
    if _WHOLE.match(name) or _ANYWHERE.search(name):
        return True
    return any(word.lower() in _WORDS for word in _SPLIT.split(name) if word)
