"""The boxes a GeoJSON document keeps beside its geometries, met with them: a Feature's
or a geometry's ``bbox`` (RFC 7946 section 5), to the number, and the document's own, to
a centimetre on the ground."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["box_is_right", "extent_is_right", "geometry_box", "positions"]

_CENTIMETRE = 0.01
_METRES_PER_DEGREE = 111_320.0  # of latitude, and of longitude at the equator


def positions(coordinates: Any) -> Iterator[list[Any]]:
    """The positions of a ``coordinates`` member, however deeply nested."""
    if isinstance(coordinates, list) and coordinates:
        if isinstance(coordinates[0], list):
            for part in coordinates:
                yield from positions(part)
        else:
            yield coordinates


def _box(positions: Iterable[list[Any]], dims: int) -> list[float] | None:
    lows = [math.inf] * dims
    highs = [-math.inf] * dims
    seen = False
    for p in positions:
        if len(p) < dims or not all(isinstance(v, int | float) for v in p[:dims]):
            return None
        seen = True
        for i in range(dims):
            lows[i] = min(lows[i], p[i])
            highs[i] = max(highs[i], p[i])
    return lows + highs if seen else None


def _all_positions(geometry: dict[str, Any]) -> Iterator[list[Any]]:
    yield from positions(geometry.get("coordinates"))
    for member in geometry.get("geometries") or []:
        if isinstance(member, dict):
            yield from _all_positions(member)


def geometry_box(geometry: Any) -> list[float] | None:
    """The 2-D box (min x, min y, max x, max y) of a GeoJSON geometry object; None when
    it has no position of two numbers."""
    if not isinstance(geometry, dict):
        return None
    box = _box(_all_positions(geometry), 2)
    return [box[0], box[1], box[2], box[3]] if box is not None else None


def box_is_right(bbox: Any, geometry: Any) -> bool:
    """Whether ``bbox`` is the box of ``geometry`` (a GeoJSON geometry object, or None).
    A box whose west is east of its east crosses the antimeridian (RFC 7946 section 5.2):
    its west is then the least positive longitude, its east the greatest negative one."""
    if not isinstance(bbox, list) or len(bbox) not in (4, 6) or not isinstance(geometry, dict):
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
        return False
    dims = len(bbox) // 2
    positions = list(_all_positions(geometry))
    box = _box(positions, dims)
    if box is None:
        return False
    west, east = bbox[0], bbox[dims]
    if west > east:
        xs = [p[0] for p in positions]
        box[0] = min((x for x in xs if x >= 0), default=math.nan)
        box[dims] = max((x for x in xs if x < 0), default=math.nan)
    return [float(v) for v in bbox] == box


def extent_is_right(bbox: Any, features: Any) -> bool:
    """Whether ``bbox`` is the box of ``features`` (a collection's) to within a centimetre
    on the ground. GDAL writes a document's box from the features' extent before it
    rounds their coordinates (``COORDINATE_PRECISION``, RFC 7946's 7 decimals,
    ``SIGNIFICANT_FIGURES``), and with 15 significant digits: below a centimetre that
    shows nothing, above it the box keeps the precise extent the coordinates no longer
    show (and a sender's box any numbers)."""
    if not isinstance(bbox, list) or len(bbox) not in (4, 6) or not isinstance(features, list):
        return False
    if not all(type(v) is int or type(v) is float for v in bbox):
        return False
    dims = len(bbox) // 2
    geometries = [f.get("geometry") for f in features if isinstance(f, dict)]
    positions = [p for g in geometries if isinstance(g, dict) for p in _all_positions(g)]
    if dims == 3:  # GDAL boxes a 2-D geometry among 3-D ones at a height of 0
        positions = [p if len(p) >= 3 else [*p[:2], 0.0] for p in positions]
    box = _box(positions, dims)
    if box is None:
        return False
    if bbox[0] > bbox[dims]:  # across the antimeridian, as for a feature's box
        xs = [p[0] for p in positions]
        box[0] = min((x for x in xs if x >= 0), default=math.nan)
        box[dims] = max((x for x in xs if x < 0), default=math.nan)
    slack = [_CENTIMETRE] * dims
    if all(abs(v) <= 180 for v in box[::dims]) and all(abs(v) <= 90 for v in box[1::dims]):
        # Numbers that could be degrees are taken as degrees: the smaller slack.
        middle = math.radians((box[1] + box[1 + dims]) / 2)
        slack[:2] = [_CENTIMETRE / (_METRES_PER_DEGREE * max(math.cos(middle), 1e-6)),
                     _CENTIMETRE / _METRES_PER_DEGREE]  # fmt: skip
    if dims == 3 and bbox[2] == bbox[5] == 0:
        box[2] = box[5] = 0.0  # GDAL's RFC 7946 writer may leave the heights at 0
    return all(
        abs(b - e) <= max(slack[i % dims], 1e-14 * abs(e))
        for i, (b, e) in enumerate(zip(bbox, box, strict=True))
    )
