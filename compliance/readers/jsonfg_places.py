"""A JSON-FG feature's second geometry, which GDAL does not read.

A JSON-FG feature may give its shape twice: ``place``, in the document's (or its own)
``coordRefSys``, and ``geometry``, in WGS84 longitude and latitude, which the
specification asks to be the place again for readers that only know GeoJSON. GDAL's
JSONFG driver reads the place when there is one and passes over the geometry; a sender
can make the place coarse and the geometry precise. So each feature's geometry must lie
within the box of its place, carried to WGS84 (to a round-off): one that does not, or a
place whose CRS cannot be carried there, is counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from compliance.readers.geojson_unread import GEOJSON_PARSE_LIMIT

__all__ = ["geometries_off_their_place"]

_CRS84 = CRS.from_user_input("OGC:CRS84")
_ROOM = 1e-7  # degrees of round-off between a place and its WGS84 copy


def geometries_off_their_place(path: Path) -> list[str]:
    """What the JSON-FG document at ``path`` holds that GDAL does not read, said in
    words: the features whose ``geometry`` lies off their ``place``."""
    size = path.stat().st_size
    if size > GEOJSON_PARSE_LIMIT:
        return [f"a document of {size} bytes, too large to meet each geometry with its place"]
    try:
        doc = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return []  # GDAL read it; nothing here to meet
    features = doc.get("features") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    if not isinstance(features, list):
        return []
    crs = doc.get("coordRefSys")
    off = sum(_off(f, crs) for f in features if isinstance(f, dict))
    if not off:
        return []
    return [f"{off} JSON-FG features whose geometry is not their place (GDAL reads the place)"]


def _off(feature: dict[str, Any], crs: object) -> bool:
    place, geometry = feature.get("place"), feature.get("geometry")
    if not place or not geometry:
        return False  # one shape only: GDAL reads it
    drawn = _positions(geometry)
    if drawn.size == 0:
        return False
    box = _box_in_wgs84(_positions(place), feature.get("coordRefSys", crs))
    if box is None:
        return True
    x, y = drawn[:, 0], drawn[:, 1]
    inside = (x >= box[0] - _ROOM) & (x <= box[2] + _ROOM)
    inside &= (y >= box[1] - _ROOM) & (y <= box[3] + _ROOM)
    return not bool(inside.all())


def _box_in_wgs84(positions: np.ndarray, crs: object) -> tuple[float, ...] | None:
    """The WGS84 box of positions written in ``crs`` (a JSON-FG ``coordRefSys``, CRS84
    when absent), in that CRS's own axis order; None when it cannot be carried there."""
    if positions.size == 0:
        return None
    try:
        source = _CRS84 if crs is None else CRS.from_user_input(_reference(crs))
        to_wgs84 = Transformer.from_crs(source, _CRS84)
        lon, lat = to_wgs84.transform(positions[:, 0], positions[:, 1], errcheck=True)
    except (CRSError, ProjError, TypeError, ValueError):
        return None
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        return None
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _reference(crs: object) -> str:
    """A ``coordRefSys`` as pyproj reads it: a URI, a safe CURIE (``[EPSG:5186]``) or a
    reference object (``{"type": "Reference", "href": ...}``)."""
    if isinstance(crs, dict):
        crs = crs.get("href")
    if not isinstance(crs, str):
        raise TypeError("a coordRefSys that names no CRS")
    return crs.strip("[]")


def _positions(geometry: Any) -> np.ndarray:
    """Every position of a GeoJSON-like geometry, as rows of its first two numbers."""
    found: list[list[float]] = []
    stack = [geometry]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += [item.get("coordinates"), *(item.get("geometries") or [])]
        elif isinstance(item, list) and item and all(isinstance(v, int | float) for v in item):
            if len(item) >= 2:
                found.append([float(item[0]), float(item[1])])
        elif isinstance(item, list):
            stack += item
    return np.array(found, dtype=float).reshape(-1, 2)
