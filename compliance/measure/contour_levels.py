"""Numbers that lie on a layer's lines as contour levels do, whatever the field is called.

A field named as heights (``ELEVATION``) makes 2-D contours 3-D data
(``driver_fields.HEIGHT_NAME``); renamed ``v``, the same levels passed as any number. So a
numeric field of a layer of lines is met with the lines, as contours are drawn:

- its values are at least three levels (``MAX_LEVELS`` at most), and it is not a row
  number (each feature its own value, counting from 0 or 1 in steps of one);
- most of its features (``CONTOUR_SHARE``) lie as contours do: a line touches no line of
  another level, and the nearest lines of other levels are of the next
  level up or down, none of a level further off lying nearer. Levels are taken in their
  order, not on an interval: levels shifted off a round step lie the same way. A few
  lines drawn across the contours (decoys of other levels) are set aside rather than
  spoiling every contour they cross.

A road's lane count meets other roads. Such a field is reported, and the verdict held
where reading it as heights would change it (``Profile.elevation_unsure``). Past
``MAX_LEVEL_BYTES`` of a layer's geometry, no more is held: each batch's lines of two
levels that end where the other ends are matched within the batch, and a layer whose
matched pairs outnumber a fifth of its lines is cleared (no fifth set aside could part
them: a road network); else its field is reported unmet. Isolines of other quantities
(isobars) lie as contours do: a person tells which. Polygons are not met (buildings'
floors are no levels; contours drawn as nested or banded polygons are not caught).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import shapely

from compliance.measure.attribute_positions import numbers
from compliance.readers.sources import decode_wkb

__all__ = ["CONTOUR_SHARE", "MAX_LEVEL_BYTES", "MAX_LEVELS", "LevelLines", "LevelsFound"]

MAX_LEVELS = 5_000  # distinct values: more is no contour set (1 m from the sea to 5,000 m)
MAX_LEVEL_BYTES = 64 << 20  # geometry held to meet the levels with; beyond: batch by batch
CONTOUR_SHARE = 0.8  # of a field's features lying as contours do
_MIN_FEATURES = 4
_PIECE = 16  # segments: a ring is met with its neighbours piece by piece
_ASKED = 4  # pieces of a line its nearest neighbours are measured from
_CHUNK = 4_096  # lines met for touching at a time
_ROUNDS = 6  # of offers, matching lines that touch (each round matches most of those left)
_LINEAR = (1, 2, 5, 7)  # line, ring, multi-line; a collection's lines (its parts are cut)
# Text that is wholly a number (digits already folded to ASCII's by the scan).
_NUMBER_TEXT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


@dataclass
class LevelsFound:
    """The fields whose numbers lie as contour levels do (with what was seen), and those
    that could not be met with the lines (the layer too large to hold)."""

    levels: dict[str, str] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)


@dataclass
class _Column:
    # One number per row, NaN where none, batch by batch: only those held (see ``add``).
    values: list[np.ndarray] = field(default_factory=list)
    distinct: np.ndarray = field(default_factory=lambda: np.empty(0))
    valued: int = 0  # rows with a number
    # Past the geometry held: lines matched within batches (pairs of two levels sharing
    # an end, no line in two pairs), and the lines with a level met so.
    matched: int = 0
    lines: int = 0


class LevelLines:
    """Fed a layer's batches (each numeric field's value per row, the WKB geometries),
    tells at the end which fields lie on the lines as contour levels do."""

    def __init__(self) -> None:
        self._columns: dict[str, _Column] = {}
        self._dropped: set[str] = set()
        self._wkb: list[pa.Array] = []
        self._bytes = 0
        self._overflow = False

    def add(self, batch: pa.RecordBatch, wkb: pa.Array, skip: Collection[str] = ()) -> None:
        """The batch's numeric fields and text fields of numbers (but those in ``skip``),
        met with its geometries ``wkb`` at the end."""
        for name in batch.schema.names:
            if name in self._dropped or name in skip:
                continue
            values = _one_a_row(batch.column(name))
            kept = self._columns.setdefault(name, _Column())
            if values is None or not self._keep(kept, values):
                self._dropped.add(name)
                self._columns.pop(name, None)
                continue
            kept.values.append(values)
            kept.valued += int(np.isfinite(values).sum())
        if not self._columns:
            self._wkb = []  # nothing left to meet the lines with
            return
        self._wkb.append(wkb)
        self._bytes += wkb.nbytes
        if self._overflow or self._bytes > MAX_LEVEL_BYTES:
            # Met batch by batch from here: each column's values of the batches held are
            # the last of its values, in step with them.
            held, self._wkb, self._overflow = self._wkb, [], True
            for back, part in enumerate(held):
                self._stream(part, len(held) - back)
            for column in self._columns.values():
                column.values = []  # a row's number is not wanted once its batch is met

    def _stream(self, wkb: pa.Array, back: int) -> None:
        """One batch's lines of two levels that end where the other ends, matched within
        the batch (a matching of the layer's own pairs), counted for each column; ``back``:
        the batch's place among each column's values, from the end."""
        lines = _decoded_lines(wkb)
        drawn = ~shapely.is_missing(lines)
        for column in self._columns.values():
            values = column.values[-back]
            features = np.flatnonzero(drawn & np.isfinite(values))
            column.lines += features.size
            pairs = _shared_ends(lines, values, features)
            column.matched += _matched(pairs, np.zeros(len(lines), dtype=bool))

    def _keep(self, kept: _Column, values: np.ndarray) -> bool:
        """Whether the field may still hold levels: few distinct values so far."""
        finite = values[np.isfinite(values)]
        if finite.size:
            kept.distinct = np.union1d(kept.distinct, np.unique(finite))
        return kept.distinct.size <= MAX_LEVELS

    def found(self) -> LevelsFound:
        """The fields laid as contour levels, and those past the geometry held that its
        batches could not clear."""
        out = LevelsFound()
        said = {n: s for n, c in self._columns.items() if (s := _levels_said(c)) is not None}
        live = {n: self._columns[n] for n in said}
        if not live:
            return out
        if self._overflow:
            # No fifth of the lines set aside could part more pairs than a fifth: cleared.
            out.unmet = sorted(
                n for n, c in live.items() if c.matched <= 2 * int((1 - CONTOUR_SHARE) * c.lines)
            )
            return out
        wkb = pa.concat_arrays(self._wkb) if self._wkb else pa.array([], pa.binary())
        lines = _decoded_lines(wkb)
        for name, column in live.items():
            values = np.concatenate(column.values)
            share = _contour_share(lines, np.searchsorted(column.distinct, values), values)
            if share >= CONTOUR_SHARE:
                out.levels[name] = f"{said[name]}; {share:.0%} of its features lie as contours do"
        return out


def _one_a_row(column: pa.Array) -> np.ndarray | None:
    """Each row's number (NaN where it has none): a number's, or a text's that is wholly
    a number ("212.5"); None for other kinds, and for text of more distinct values than
    levels (each distinct text is read once)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return numbers(column)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    # Arrow's kernels cost their import (a check of points or polygons never pays it).
    import pyarrow.compute as pc

    coded = column.dictionary_encode()
    texts = coded.dictionary
    if len(texts) > MAX_LEVELS:
        return None
    read = np.full(len(texts) + 1, np.nan)  # the last for a null
    # Only the texts shaped as a number are read (in Python): names are passed over in C.
    shaped = np.flatnonzero(pc.match_substring_regex(texts, _NUMBER_TEXT).to_numpy(False))
    if shaped.size:
        read[shaped] = numbers(texts.take(shaped))
    return read[coded.indices.fill_null(len(texts)).to_numpy()]


def _levels_said(column: _Column) -> str | None:
    """The field's levels in words where they may be contour levels, else None."""
    levels = column.distinct
    if levels.size < 3 or column.valued < _MIN_FEATURES:
        return None
    steps = np.diff(levels)
    # A row number: each feature its own value, counting from 0 or 1.
    if column.valued == levels.size and levels[0] in (0, 1) and (steps == 1).all():
        return None
    step = float(np.median(steps))
    return (
        f"{levels.size} levels from {levels[0]:g} to {levels[-1]:g}, {step:g} apart at the median"
    )


def _decoded_lines(wkb: pa.Array) -> np.ndarray:
    """The rows' lines; None for other rows: points and polygons, undecodable rows (curves
    GEOS does not read) and unplaceable ones (a NaN coordinate)."""
    with np.errstate(invalid="ignore"):
        geoms = decode_wkb(wkb.to_numpy(zero_copy_only=False)).geometries
    geoms[~np.isin(shapely.get_type_id(geoms), _LINEAR)] = None
    geoms[~np.isfinite(shapely.bounds(geoms)).all(axis=1) & ~shapely.is_missing(geoms)] = None
    return geoms


def _contour_share(lines: np.ndarray, rank: np.ndarray, values: np.ndarray) -> float:
    """The share of the features with a level (``rank``: its order among the levels) that
    lie as contours do (see the module). Distances are measured piece by piece: nested
    rings' boxes all overlap, and GEOS would measure whole rings against each other."""
    keep = np.isfinite(values) & ~shapely.is_missing(lines) & ~shapely.is_empty(lines)
    lines, rank = lines[keep], rank[keep]
    features = np.flatnonzero(shapely.length(lines) > 0)  # points draw no contour
    if features.size < _MIN_FEATURES:
        return 0.0
    aside = _set_aside(lines, rank, features, int((1 - CONTOUR_SHARE) * features.size))
    if aside is None:
        return 0.0
    fits = np.zeros(len(lines), dtype=bool)
    fits[features] = True
    fits[aside] = False
    left = np.flatnonzero(fits)
    pieces, owner = _pieces(lines[left])
    owner = left[owner]
    level = rank[owner]  # each piece's
    ask = _spread(owner)
    # Measured from a vertex of each piece asked: a point's distance to a piece costs a
    # sixteenth of a piece's.
    points = shapely.get_point(pieces, 0)
    near = np.full(len(lines), np.inf)  # per feature: the nearest line one level away
    at_level = {at: np.flatnonzero(level == at) for at in np.unique(level)}
    for at in at_level:
        mine = ask[level[ask] == at]
        for other in (at - 1, at + 1):
            if other in at_level and mine.size:
                theirs = shapely.STRtree(pieces[at_level[other]])
                found, dist = theirs.query_nearest(
                    points[mine], return_distance=True, all_matches=False
                )
                np.minimum.at(near, owner[mine[found[0]]], dist)
    fits &= np.isfinite(near)
    # Nearer than the lines one level away: a line of a level further off.
    ask = ask[fits[owner[ask]]]
    tree = shapely.STRtree(pieces)
    i, j = tree.query(points[ask], predicate="dwithin", distance=near[owner[ask]] * (1 - 1e-9))
    np.logical_and.at(fits, owner[ask[i]], np.abs(level[ask[i]] - level[j]) <= 1)
    return float(fits[features].mean())


def _set_aside(
    lines: np.ndarray, level: np.ndarray, features: np.ndarray, most: int
) -> np.ndarray | None:
    """The lines set aside as touching lines of other levels (contours of two levels never
    meet), or None where more than ``most`` would be. Every line is met (most other
    numbers, a road's class, stop here): each touching pair needs one of its two lines
    set aside. Both of a maximal matching are, lines touching the most first; then those
    whose every meeting is with lines set aside are taken back; so one line drawn across
    the contours (or a few) is set aside, not the contours it crosses."""
    pairs = _meetings(lines, level, features, most)
    if pairs is None:
        return None
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
    lines: np.ndarray, level: np.ndarray, features: np.ndarray, most: int
) -> np.ndarray | None:
    """The pairs of ``features`` of two levels that touch (each once, the lower first);
    None as soon as more than ``most`` pairs of them share no line, as then no ``most``
    lines could be set aside to part them all. Met a share of the lines at a time, taken
    across the layer, so that lines that cross (a road network) stop early."""
    matched = np.zeros(len(lines), dtype=bool)
    if _matched(_shared_ends(lines, level, features), matched) > 2 * most:
        return None  # lines of two levels joined end to end (a network): none cheaper
    tree = shapely.STRtree(lines[features])
    spread = np.random.default_rng(0).permutation(features.size)
    found: list[np.ndarray] = []
    for chunk in np.array_split(spread, max(1, features.size // _CHUNK)):
        i, j = tree.query(lines[features[chunk]], predicate="intersects")
        i, j = features[chunk[i]], features[j]
        meet = level[i] != level[j]
        pairs = np.unique(np.sort(np.column_stack([i[meet], j[meet]]), axis=1), axis=0)
        if _matched(pairs, matched) > 2 * most:
            return None
        found.append(pairs)
    return np.unique(np.concatenate(found), axis=0) if found else np.empty((0, 2), dtype=int)


def _matched(pairs: np.ndarray, matched: np.ndarray) -> int:
    """``matched`` (a flag per line) grown by a matching of ``pairs`` among the lines not
    yet in it: rounds in which each line offers itself to its lowest free partner, and
    lines that offer themselves to each other pair up. How many lines it then holds: a
    matching's pairs need as many lines set aside, one of each, to part them."""
    for _ in range(_ROUNDS):
        free = pairs[~matched[pairs[:, 0]] & ~matched[pairs[:, 1]]]
        if not free.size:
            break
        both = np.concatenate([free, free[:, ::-1]])
        offer = np.full(matched.size, matched.size)
        np.minimum.at(offer, both[:, 0], both[:, 1])
        lines = np.unique(both[:, 0])
        matched[lines[offer[offer[lines]] == lines]] = True
    return int(matched.sum())


def _shared_ends(lines: np.ndarray, level: np.ndarray, features: np.ndarray) -> np.ndarray:
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


def _pieces(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
