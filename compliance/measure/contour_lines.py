"""Whether lines lie as contours do: each line touching no line of another level, the
nearest lines of other levels being of the next level up or down (``contour_fits``).

Lines are met piece by piece (``pieces``): nested rings' boxes all overlap, and GEOS
would meet whole rings with each other. Pieces whose boxes still lie within each other
(rings drawn with few vertices) are not met at all (``Crowded``). A few lines drawn across the contours
(decoys of other levels) are set aside rather than spoiling every contour they cross
(``set_aside``). Lines of two levels joined end to end (a road network) are found from
their shared ends first (``shared_ends``), without GEOS predicates.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely

from compliance.measure.box_meetings import chunked, crowded

__all__ = [
    "CONTOUR_SHARE",
    "MIN_FEATURES",
    "Crowded",
    "contour_fits",
    "drawn_lines",
    "matched",
    "matched_ends",
    "meeting_pairs",
    "pieces",
    "set_aside",
    "shared_ends",
]

CONTOUR_SHARE = 0.8  # of a field's features lying as contours do
MIN_FEATURES = 4
_PIECE = 16  # segments: a ring is met with its neighbours piece by piece
_ASKED = 4  # pieces of a line its nearest neighbours are measured from
_CROWDED = 64  # boxes a piece meets, on average: past it, ``Crowded``
_ROUNDS = 6  # of offers, matching lines that touch (each round matches most of those left)


class Crowded(Exception):
    """Boxes within boxes: pieces whose boxes meet more than ``_CROWDED`` others each (rings
    around one point drawn with few vertices). Meeting them costs the square of their
    number, so they are not met: what they hold is unknown."""


def contour_fits(lines: np.ndarray, rank: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, whether its line lies as a contour does (see the module), its level
    ``rank`` (its order among the levels) where ``values`` holds a number; False for rows
    with no line of some length or no level, and for all where more than a fifth of the
    lines would have to be set aside as meeting lines of other levels. Raises ``Crowded``."""
    fits = np.zeros(len(lines), dtype=bool)
    features = drawn_lines(lines, values)
    if features.size < MIN_FEATURES:
        return fits
    most = int((1 - CONTOUR_SHARE) * features.size)
    taken = np.zeros(len(lines), dtype=bool)
    if matched(shared_ends(lines, rank, features), taken) > 2 * most:
        return fits  # lines of two levels joined end to end (a network): none cheaper
    cut, owner = pieces(lines[features])
    owner = features[owner]
    pairs = _meetings(cut, owner, rank, most, taken)
    aside = None if pairs is None else set_aside(pairs, most)
    if aside is None:
        return fits
    fits[features] = True
    fits[aside] = False
    cut, owner = cut[fits[owner]], owner[fits[owner]]
    level = rank[owner]  # each piece's
    ask = _spread(owner)
    # Measured from a vertex of each piece asked: a point's distance to a piece costs a
    # sixteenth of a piece's.
    points = shapely.get_point(cut, 0)
    near = np.full(len(lines), np.inf)  # per feature: the nearest line one level away
    at_level = {at: np.flatnonzero(level == at) for at in np.unique(level)}
    for at in at_level:
        mine = ask[level[ask] == at]
        for other in (at - 1, at + 1):
            if other in at_level and mine.size:
                theirs = shapely.STRtree(cut[at_level[other]])
                found, dist = theirs.query_nearest(
                    points[mine], return_distance=True, all_matches=False
                )
                np.minimum.at(near, owner[mine[found[0]]], dist)
    fits &= np.isfinite(near)
    # Nearer than the lines one level away: a line of a level further off.
    ask = ask[fits[owner[ask]]]
    tree = shapely.STRtree(cut)
    i, j = tree.query(points[ask], predicate="dwithin", distance=near[owner[ask]] * (1 - 1e-9))
    np.logical_and.at(fits, owner[ask[i]], np.abs(level[ask[i]] - level[j]) <= 1)
    return fits


def meeting_pairs(cut: np.ndarray, owner: np.ndarray) -> Iterator[np.ndarray]:
    """The pairs of rows whose pieces meet (``cut``, each of row ``owner``), the lower row
    first, a share of the pieces at a time, taken across the layer (a caller may stop
    early). Boxes are met first, and counted: past ``_CROWDED`` a piece, ``Crowded``."""
    if not cut.size:
        return
    tree = shapely.STRtree(cut)
    if crowded(tree, cut, _CROWDED):
        raise Crowded(f"{cut.size} pieces whose boxes meet more than {_CROWDED} others each")
    boxes = 0
    for chunk in chunked(cut, np.random.default_rng(0).permutation(cut.size)):
        i, j = tree.query(cut[chunk])
        boxes += i.size
        if boxes > _CROWDED * cut.size:
            raise Crowded(f"{cut.size} pieces whose boxes meet {boxes} others and more")
        i = chunk[i]
        i, j = i[owner[i] < owner[j]], j[owner[i] < owner[j]]
        meet = shapely.intersects(cut[i], cut[j])
        yield np.unique(np.column_stack([owner[i[meet]], owner[j[meet]]]), axis=0)


def drawn_lines(lines: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The rows with a level and a line of some length (a point draws no contour)."""
    keep = np.isfinite(values) & ~shapely.is_missing(lines)
    keep[keep] = shapely.length(lines[keep]) > 0
    return np.flatnonzero(keep)


def set_aside(pairs: np.ndarray, most: int) -> np.ndarray | None:
    """The rows set aside so that no two of ``pairs`` (rows that meet as contours of two
    levels never do) are both kept, or None where more than ``most`` would be. Both of a
    maximal matching are, rows meeting the most first; then those whose every meeting is
    with rows set aside are taken back; so one line drawn across the contours (or a few)
    is set aside, not the contours it crosses."""
    if not pairs.size:
        return np.empty(0, dtype=int)
    degree = np.bincount(pairs.ravel())
    order = np.argsort(-np.maximum(degree[pairs[:, 0]], degree[pairs[:, 1]]), kind="stable")
    taken: set[int] = set()
    for x, y in pairs[order].tolist():
        if x not in taken and y not in taken:
            taken.update((x, y))
    met: dict[int, list[int]] = {v: [] for v in taken}
    for x, y in pairs.tolist():
        for v, w in ((x, y), (y, x)):
            if v in met:
                met[v].append(w)
    for v in sorted(taken, key=lambda v: len(met[v])):
        if all(w in taken for w in met[v]):
            taken.discard(v)
    if len(taken) > most:
        return None
    return np.fromiter(taken, dtype=int, count=len(taken))


def _meetings(
    cut: np.ndarray, owner: np.ndarray, level: np.ndarray, most: int, taken: np.ndarray
) -> np.ndarray | None:
    """The pairs of lines of two levels whose pieces meet (each once, the lower first);
    None as soon as more than ``most`` pairs of them share no line, as then no ``most``
    lines could be set aside to part them all (lines that cross, a road network, stop
    early). ``taken``: the lines of a matching found so far, grown here."""
    found: list[np.ndarray] = [np.empty((0, 2), dtype=int)]
    for pairs in meeting_pairs(cut, owner):
        pairs = pairs[level[pairs[:, 0]] != level[pairs[:, 1]]]
        if matched(pairs, taken) > 2 * most:
            return None
        found.append(pairs)
    return np.unique(np.concatenate(found), axis=0)


def matched(pairs: np.ndarray, taken: np.ndarray) -> int:
    """``taken`` (a flag per line) grown by a matching of ``pairs`` among the lines not
    yet in it: rounds in which each line offers itself to its lowest free partner, and
    lines that offer themselves to each other pair up. How many lines it then holds: a
    matching's pairs need as many lines set aside, one of each, to part them."""
    for _ in range(_ROUNDS):
        free = pairs[~taken[pairs[:, 0]] & ~taken[pairs[:, 1]]]
        if not free.size:
            break
        both = np.concatenate([free, free[:, ::-1]])
        offer = np.full(taken.size, taken.size)
        np.minimum.at(offer, both[:, 0], both[:, 1])
        offered = np.zeros(taken.size, dtype=bool)
        offered[both[:, 0]] = True
        lines = np.flatnonzero(offered)
        taken[lines[offer[offer[lines]] == lines]] = True
    return int(taken.sum())


def shared_ends(lines: np.ndarray, level: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Pairs of ``features`` of two levels that end where the other ends (some of the pairs
    that touch: each end met with the next of another level at the same place)."""
    parts, of = lines[features], np.arange(features.size)
    if not np.isin(shapely.get_type_id(parts), (1, 2)).all():  # multi-part lines: each part's
        parts, of = shapely.get_parts(parts, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    if not len(part):
        return np.empty((0, 2), dtype=int)
    first = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
    last = np.r_[first[1:] - 1, len(part) - 1]
    at = np.concatenate([first, last])
    ends, owners = xy[at], features[of[part[at]]]
    order = np.lexsort((level[owners], ends[:, 1], ends[:, 0]))
    ends, owners = ends[order], owners[order]
    same = (ends[1:] == ends[:-1]).all(axis=1) & (level[owners[1:]] != level[owners[:-1]])
    return np.column_stack([owners[:-1][same], owners[1:][same]])


def _spread(owner: np.ndarray) -> np.ndarray:
    """Up to ``_ASKED`` pieces of each line, spread along it, to measure its neighbours
    from (a line's neighbours are the same along it; every piece is still met with)."""
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    counts = np.diff(np.r_[starts, owner.size])
    picked = starts[:, None] + (np.arange(_ASKED)[None, :] * counts[:, None]) // _ASKED
    return np.unique(picked)


def pieces(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lines cut into pieces of ``_PIECE`` segments at most (each piece's last vertex
    the next one's first), and the line each piece is of."""
    parts, of = shapely.get_parts(lines, return_index=True)
    # Points (a collection's) draw no line; a part of one vertex neither.
    linear = np.isin(shapely.get_type_id(parts), (1, 2)) & (shapely.get_num_coordinates(parts) > 1)
    parts, of = parts[linear], of[linear]
    xy, part = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(part, minlength=len(parts))
    v = np.arange(len(part)) - (np.cumsum(counts) - counts)[part]  # place in its part
    per_part = -(-(counts - 1) // _PIECE)
    base = np.cumsum(per_part) - per_part
    piece = base[part] + np.minimum(v // _PIECE, per_part[part] - 1)
    joint = (v % _PIECE == 0) & (v > 0) & (v // _PIECE < per_part[part])
    piece = np.concatenate([piece, base[part[joint]] + v[joint] // _PIECE - 1])
    order = np.lexsort((np.concatenate([v, v[joint]]), piece))
    xy = np.concatenate([xy, xy[joint]])[order]
    pieces = shapely.linestrings(xy, indices=piece[order]) if len(xy) else np.empty(0, object)
    return np.asarray(pieces, dtype=object), np.repeat(of, per_part)


def matched_ends(lines: np.ndarray, rank: np.ndarray, values: np.ndarray, a: int, b: int) -> int:
    """Rows ``a`` to ``b`` (a batch): pairs of lines of two levels that share an end,
    matched so that no line is in two pairs."""
    part = drawn_lines(lines[a:b], values[a:b]) + a
    return matched(shared_ends(lines, rank, part), np.zeros(len(lines), dtype=bool))
