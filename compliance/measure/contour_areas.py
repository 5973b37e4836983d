"""Whether polygons lie as contours do, as the areas contour tools draw: filled contours
(each level's area within the next level's, their edges lying as contour lines do) and
bands (the area between two levels, ``gdal_contour -p``, touching only the bands one level
up or down).

Buildings do neither: they lie within no other building, and a row of them touching
has floors a level apart no more often than not. A field of classes dissolved class by
class (a choropleth of ordered classes) can lie as bands do: a person tells which.
"""

from __future__ import annotations

import numpy as np
import shapely

from compliance.measure.contour_lines import (
    CONTOUR_SHARE,
    MIN_FEATURES,
    contour_fits,
    matched,
    pieces,
    set_aside,
)

__all__ = ["area_fits", "drawn_areas"]

_CROWDED = 32  # pairs of meeting boxes a feature: more, and boxes lie within boxes
_CHUNK = 4_096  # areas met for meeting boxes at a time


def drawn_areas(areas: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The rows with a level and an area of some size."""
    keep = np.isfinite(values) & ~shapely.is_missing(areas)
    keep[keep] = shapely.area(areas[keep]) > 0
    return np.flatnonzero(keep)


def area_fits(areas: np.ndarray, rank: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, whether its polygon lies as a filled contour or a contour band does, its
    level ``rank`` (its order among the levels) where ``values`` holds a number; False for
    rows with no area or no level."""
    fits = np.zeros(len(areas), dtype=bool)
    features = drawn_areas(areas, values)
    if features.size < MIN_FEATURES:
        return fits
    pairs = _box_pairs(areas, features)
    if pairs is None:  # boxes within boxes (rings around hills): met piece by piece
        nested = _nested(areas, rank, features)
        bands = _bands(_touching_pieces(areas, features), rank, features)
    else:
        # Areas that touch, or lie one within the other, have boxes that meet: buildings
        # apart end here.
        bands = _bands(
            pairs[shapely.intersects(areas[pairs[:, 0]], areas[pairs[:, 1]])], rank, features
        )
        nested = _nested_pairs(areas, rank, pairs)
    if nested.any():
        # Nested areas' edges neither touch nor pass a level: they lie as contour lines do.
        edges = np.full(len(areas), None, dtype=object)
        edges[features] = shapely.boundary(areas[features])
        nested &= contour_fits(edges, rank, values)
    return nested | bands


def _box_pairs(areas: np.ndarray, features: np.ndarray) -> np.ndarray | None:
    """The pairs of ``features`` whose boxes meet (each once, the lower row first); None
    as soon as they outnumber ``_CROWDED`` a feature (boxes nested around hills)."""
    tree = shapely.STRtree(areas[features])
    found: list[np.ndarray] = []
    total = 0
    for chunk in np.array_split(np.arange(features.size), max(1, features.size // _CHUNK)):
        i, j = tree.query(areas[features[chunk]])
        i = chunk[i]
        keep = i < j
        found.append(np.column_stack([features[i[keep]], features[j[keep]]]))
        total += int(keep.sum())
        if total > _CROWDED * features.size:
            return None
    return np.concatenate(found)


def _nested_pairs(areas: np.ndarray, rank: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The rows whose area lies within, or holds, an area one level away, of ``pairs``
    whose boxes meet (met at a vertex of the inner one's outer ring, as ``_nested``)."""
    out = np.zeros(len(areas), dtype=bool)
    pairs = pairs[np.abs(rank[pairs[:, 0]] - rank[pairs[:, 1]]) == 1]
    box = shapely.bounds(areas)
    for inner, outer in (pairs.T, pairs[:, ::-1].T):
        held = (box[inner, :2] >= box[outer, :2]).all(axis=1) & (
            box[inner, 2:] <= box[outer, 2:]
        ).all(axis=1)
        inner, outer = inner[held], outer[held]
        within = shapely.within(_a_vertex(areas[inner]), areas[outer])
        out[inner[within]] = out[outer[within]] = True
    return out


def _a_vertex(areas: np.ndarray) -> np.ndarray:
    """A vertex of each area's outer ring (a multipolygon's first part's)."""
    return shapely.get_point(shapely.get_exterior_ring(shapely.get_geometry(areas, 0)), 0)


def _nested(areas: np.ndarray, rank: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The rows whose area lies within, or holds, an area one level away (met at a vertex
    of its outer ring: where the edges do not meet, one vertex inside is all inside)."""
    i, j = shapely.STRtree(areas[features]).query(_a_vertex(areas[features]), predicate="within")
    i, j = features[i], features[j]
    one = np.abs(rank[i] - rank[j]) == 1
    out = np.zeros(len(areas), dtype=bool)
    out[i[one]] = True
    out[j[one]] = True
    return out


def _touching_pieces(areas: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The pairs of ``features`` whose edges meet, met piece by piece."""
    cut, owner = pieces(shapely.boundary(areas[features]))
    owner = features[owner]
    i, j = shapely.STRtree(cut).query(cut, predicate="intersects")
    a, b = owner[i], owner[j]
    return np.unique(np.column_stack([a[a < b], b[a < b]]), axis=0)


def _bands(pairs: np.ndarray, rank: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The rows whose area meets an area one level away and none of another level (its
    own or further off), but for a few set aside (as for lines: decoys); ``pairs``: the
    areas that meet."""
    out = np.zeros(len(rank), dtype=bool)
    if not pairs.size:
        return out
    step = np.abs(rank[pairs[:, 0]] - rank[pairs[:, 1]])
    most = int((1 - CONTOUR_SHARE) * features.size)
    # A matching of more than ``most`` such pairs needs more set aside: none cheaper.
    if matched(pairs[step != 1], np.zeros(len(rank), dtype=bool)) > 2 * most:
        return out
    aside = set_aside(pairs[step != 1], most)
    if aside is None:
        return out
    kept = np.ones(len(rank), dtype=bool)
    kept[aside] = False
    out[pairs[(step == 1) & kept[pairs[:, 0]] & kept[pairs[:, 1]]].ravel()] = True
    return out
