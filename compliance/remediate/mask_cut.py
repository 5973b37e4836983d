"""Features cut by a mask without detail finer than they were drawn with.

Where a feature's edge crosses the mask's edge, an overlay makes a vertex of its own, as
near the feature's next vertex as it happens to fall: a segment finer than the data was
drawn, which the re-check reads as the derivative's detail (lines drawn every 20 m came
out at 1 m, and a scale rule the source passed held the derivative; in India, finer than
1 m, it would be denied). So a cut line ends at its own vertices, and a cut polygon loses
the corners the cut made beside a short edge wherever that only takes area away (never
from outside the source, never into the mask).
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

__all__ = ["cut_at_drawn_detail"]

_LINESTRING, _POLYGON, _MULTILINESTRING, _MULTIPOLYGON = 1, 3, 5, 6  # GEOS type ids
_LINE_TYPES = (_LINESTRING, _MULTILINESTRING)
_POLYGON_TYPES = (_POLYGON, _MULTIPOLYGON)
_SLIVER = 1e-9  # of a polygon's area: what an overlay's round-off may add or take


def cut_at_drawn_detail(drawn: np.ndarray, mask: BaseGeometry) -> np.ndarray:
    """``drawn`` less ``mask``, each line ending at its own vertices and each polygon
    without the short edges the cut made where it can lose them."""
    cut = _ending_at_own_vertices(shapely.difference(drawn, mask), drawn)
    polygons = np.flatnonzero(np.isin(shapely.get_type_id(cut), _POLYGON_TYPES))
    for i in polygons.tolist():
        cut[i] = _without_short_cut_edges(cut[i], drawn[i], mask)
    return cut


def _ending_at_own_vertices(cut: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """The lines among ``cut`` (each of the ``drawn`` line it was cut from) with every part
    ending at a vertex of its own line.

    Where a line crosses the mask's edge the cut makes a vertex of its own, as near the
    line's next vertex as it happens to fall: a segment finer than the data was drawn,
    which the re-check reads as the derivative's detail (lines drawn every 20 m came out
    at 1 m, and a scale rule held them). The piece from there to the line's own next
    vertex goes with the masked part; a part left with one vertex goes too.
    """
    lines = np.flatnonzero(np.isin(shapely.get_type_id(cut), _LINE_TYPES))
    if lines.size == 0:
        return cut
    parts, whose = shapely.get_parts(cut[lines], return_index=True)
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    own_xy, own_of = shapely.get_coordinates(drawn[lines], return_index=True)
    # A vertex is the line's own when its line drew one at exactly that place (an overlay
    # keeps its inputs' vertices as they are).
    keep = np.isin(
        np.rec.fromarrays([whose[part_of], xy[:, 0], xy[:, 1]]),
        np.rec.fromarrays([own_of, own_xy[:, 0], own_xy[:, 1]]),
    )
    kept_parts = np.bincount(part_of[keep], minlength=parts.size) >= 2
    keep &= kept_parts[part_of]
    out = cut.copy()
    rebuilt = np.full(lines.size, None, dtype=object)
    if kept_parts.any():
        # Parts renumbered in order, each line's parts together.
        number = np.cumsum(kept_parts) - 1
        pieces = shapely.linestrings(xy[keep], indices=number[part_of[keep]])
        owners, at = np.unique(whose[kept_parts], return_inverse=True)
        rebuilt[owners] = shapely.multilinestrings(pieces, indices=at)
    single = shapely.get_type_id(cut[lines]) == _LINESTRING
    for i in np.flatnonzero(single & (rebuilt != None)):  # noqa: E711 - an object array
        rebuilt[i] = shapely.get_geometry(rebuilt[i], 0)
    empty = rebuilt == None  # noqa: E711
    rebuilt[empty] = shapely.from_wkt("LINESTRING EMPTY")
    out[lines] = rebuilt
    return out


def _shortest_edge(geometry: BaseGeometry) -> float:
    xy, ring = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geometry)),
                                       return_index=True)  # fmt: skip
    same = ring[1:] == ring[:-1]
    lengths = np.hypot(*(xy[1:] - xy[:-1])[same].T)
    return float(lengths.min()) if lengths.size else 0.0


def _without_short_cut_edges(
    cut: BaseGeometry, drawn: BaseGeometry, mask: BaseGeometry
) -> BaseGeometry:
    """``cut`` less the vertices the cut made beside an edge shorter than any ``drawn``
    has, one at a time, each only where the polygon then stays valid, takes no area from
    outside ``drawn`` and none of ``mask``."""
    shortest = _shortest_edge(drawn)
    own = {tuple(p) for p in shapely.get_coordinates(drawn).tolist()}
    area = max(float(drawn.area), 1e-30)
    current = cut
    for _ in range(64):  # each pass removes one vertex; a cut makes few
        changed = _drop_one(current, own, shortest)
        candidate = next(
            (c for c in changed if _stays_within(c, drawn, mask, area * _SLIVER)), None
        )
        if candidate is None:
            return current
        current = candidate
    return current


def _drop_one(
    polygon: BaseGeometry, own: set[tuple[float, float]], shortest: float
) -> list[BaseGeometry]:
    """The polygons made by leaving out one vertex the cut made, beside a short edge."""
    found = []
    parts = list(shapely.get_parts(polygon))
    for p, part in enumerate(parts):
        rings = [part.exterior, *part.interiors]
        for r, ring in enumerate(rings):
            xy = np.asarray(ring.coords)[:-1]
            edges = np.hypot(*(np.roll(xy, -1, axis=0) - xy).T)  # edge k: vertex k to k+1
            for k in range(len(xy)):
                if tuple(xy[k].tolist()) in own or min(edges[k], edges[k - 1]) >= shortest:
                    continue
                if len(xy) <= 3:  # a sliver the cut left: the piece goes whole
                    if r == 0:
                        found.append(_polygons([*parts[:p], *parts[p + 1 :]]))
                    break
                ring_xy = np.delete(xy, k, axis=0)
                new_rings = [*rings[:r], shapely.LinearRing(ring_xy), *rings[r + 1 :]]
                new_part = shapely.Polygon(new_rings[0], new_rings[1:])
                found.append(_polygons([*parts[:p], new_part, *parts[p + 1 :]]))
    return found


def _polygons(parts: list[BaseGeometry]) -> BaseGeometry:
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _stays_within(
    candidate: BaseGeometry, drawn: BaseGeometry, mask: BaseGeometry, sliver: float
) -> bool:
    try:
        return (
            shapely.is_valid(candidate)
            and float(shapely.difference(candidate, drawn).area) <= sliver
            and float(shapely.intersection(candidate, mask).area) <= sliver
        )
    except shapely.errors.GEOSException:  # a source GEOS cannot overlay: the cut stays
        return False
