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

from compliance.measure.box_meetings import box_pairs
from compliance.measure.contour_lines import (
    CONTOUR_SHARE,
    MIN_FEATURES,
    contour_fits,
    matched,
    meeting_pairs,
    pieces,
    set_aside,
)

__all__ = ["CROWDED", "area_fits", "drawn_areas"]

CROWDED = 32  # boxes an area meets, on average: more, and boxes lie within boxes


def drawn_areas(areas: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The rows with a level and an area of some size."""
    keep = np.isfinite(values) & ~shapely.is_missing(areas)
    keep[keep] = shapely.area(areas[keep]) > 0
    return np.flatnonzero(keep)


def area_fits(
    areas: np.ndarray, rank: np.ndarray, values: np.ndarray, boxes_met: np.ndarray | None = None
) -> np.ndarray:
    """Per row, whether its polygon lies as a filled contour or a contour band does, its
    level ``rank`` (its order among the levels) where ``values`` holds a number; False for
    rows with no area or no level. ``boxes_met``: the pairs of rows whose boxes meet, where
    known. Raises ``Crowded``."""
    fits = np.zeros(len(areas), dtype=bool)
    features = drawn_areas(areas, values)
    if features.size < MIN_FEATURES:
        return fits
    if boxes_met is None:
        pairs = box_pairs(shapely.bounds(areas[features]), CROWDED)
        pairs = None if pairs is None else features[pairs]
    else:
        drawn = np.zeros(len(areas), dtype=bool)
        drawn[features] = True
        pairs = boxes_met[drawn[boxes_met].all(axis=1)]
    if pairs is None:  # boxes within boxes (rings around hills): met by their edges' pieces
        cut, owner = pieces(shapely.boundary(areas[features]))
        owner = features[owner]
        meeting = np.concatenate([np.empty((0, 2), dtype=int), *meeting_pairs(cut, owner)])
        bands = _bands(np.unique(meeting, axis=0), rank, features)
        nested = _nested_near(areas, rank, features, cut, owner)
    else:
        # Areas that touch, or lie one within the other, have boxes that meet: buildings
        # apart end here.
        meet = shapely.intersects(areas[pairs[:, 0]], areas[pairs[:, 1]])
        bands = _bands(pairs[meet], rank, features)
        nested = _nested_pairs(areas, rank, pairs)
    if nested.any():
        # Nested areas' edges neither touch nor pass a level: they lie as contour lines do.
        edges = np.full(len(areas), None, dtype=object)
        edges[features] = shapely.boundary(areas[features])
        nested &= contour_fits(edges, rank, values)
    return nested | bands


def _nested_pairs(areas: np.ndarray, rank: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The rows whose area lies within, or holds, an area one level away, of ``pairs``
    whose boxes meet (met at a vertex of the inner one's outer ring: where the edges do
    not meet, one vertex inside is all inside)."""
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


def _nested_near(
    areas: np.ndarray, rank: np.ndarray, features: np.ndarray, cut: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """As ``_nested_pairs``, each area met with the areas one level away whose edge lies
    nearest a vertex of its outer ring: the area it lies within, where it lies within one
    (another of that level lies beyond that one's edge)."""
    out = np.zeros(len(areas), dtype=bool)
    points = _a_vertex(areas[features])
    level = rank[owner]
    for at in np.unique(rank[features]):
        mine = np.flatnonzero(rank[features] == at)
        for other in (at - 1, at + 1):
            theirs = np.flatnonzero(level == other)
            if not theirs.size:
                continue
            (k, t) = shapely.STRtree(cut[theirs]).query_nearest(points[mine], all_matches=False)
            near = owner[theirs[t]]
            within = shapely.within(points[mine[k]], areas[near])
            out[features[mine[k[within]]]] = out[near[within]] = True
    return out


def _a_vertex(areas: np.ndarray) -> np.ndarray:
    """A vertex of each area's outer ring (a multipolygon's first part's)."""
    return shapely.get_point(shapely.get_exterior_ring(shapely.get_geometry(areas, 0)), 0)


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
