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

__all__ = ["is_position_name", "position_pairs"]

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


# The words that name one axis of a position, for pairing numeric columns (POINT_X with
# POINT_Y, gps_lon with gps_lat, LONDD with LATDD, 경도 with 위도).
_X_WORDS = frozenset(
    {
        "x", "lon", "lng", "long", "longitude", "easting", "londd", "lngdd", "longdd",
        "londms", "declon", "declong", "declng", "londec", "longdec",
    }
)  # fmt: skip
_Y_WORDS = frozenset({"y", "lat", "latitude", "northing", "latdd", "latdms", "declat", "latdec"})
_X_ANYWHERE = re.compile(r"(?i)경도|经度|經度|経度|долгот|^x(?=좌표|坐标|座標|coord)")
_Y_ANYWHERE = re.compile(r"(?i)위도|纬度|緯度|широт|^y(?=좌표|坐标|座標|coord)")
_LETTERS = re.compile(r"[^\W\d_]+")
_CASE_STEP = re.compile(r"(?<=[a-z])(?=[A-Z])")


def position_pairs(names: list[str]) -> list[tuple[str, str]]:
    """The (x, y) pairs among column names: names alike but for their axis word, and, when
    one name of each axis is left over, those two."""
    xs: dict[str, str] = {}
    ys: dict[str, str] = {}
    for name in names:
        found = _axis(name)
        if found is not None:
            side = xs if found[0] == "x" else ys
            side.setdefault(found[1], name)
    pairs = [(xs[key], ys[key]) for key in xs if key in ys]
    rest_x = [n for k, n in xs.items() if k not in ys]
    rest_y = [n for k, n in ys.items() if k not in xs]
    if len(rest_x) == 1 and len(rest_y) == 1:
        pairs.append((rest_x[0], rest_y[0]))
    return pairs


def _axis(name: str) -> tuple[str, str] | None:
    """The axis a name's one axis word gives (x or y), and the name without that word."""
    hits: list[tuple[str, int, int]] = []
    for axis, pattern in (("x", _X_ANYWHERE), ("y", _Y_ANYWHERE)):
        hits += [(axis, m.start(), m.end()) for m in pattern.finditer(name)]
    for run in _LETTERS.finditer(name):
        start = run.start()
        for piece in _CASE_STEP.split(run.group()):
            word = piece.lower()
            if word in _X_WORDS or word in _Y_WORDS:
                hits.append(("x" if word in _X_WORDS else "y", start, start + len(piece)))
            start += len(piece)
    if len(hits) != 1:
        return None  # none, or an axis word twice (lon_lat): not one coordinate
    axis, start, end = hits[0]
    return axis, (name[:start] + "\0" + name[end:]).lower()
