"""The envelopes in the headers of a GeoPackage layer's geometry blobs, read in rowid order.

A GeoPackage geometry blob is a header and the geometry's WKB. The header: ``GP``, a
version byte, a flags byte (bit 0: the header's byte order, 1 for little-endian; bits
1-3: the envelope kind, 0 none, 1 x and y, 2 and 3 with z or m, 4 with both, 5-7
invalid; bit 4: an empty geometry), the srs id (4 bytes), then the envelope as doubles
(minx, maxx, miny, maxy[, z, m ranges]). Readers take the geometry from the WKB and use
the envelope at most to find features: what it holds beyond the WKB's box is not shown.

Only the first 72 bytes of each blob are read (the longest header), a chunk of rows per
SQLite statement, concatenated by SQLite itself: a million rows cost about 0.2 s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Envelopes", "envelope_chunks"]

_HEAD = 72  # "GP", version, flags, srs id, and an envelope of 8 doubles at most
_LAST_ROWID = (1 << 63) - 1
_XY = np.array([0, 2, 1, 3])  # minx, maxx, miny, maxy -> minx, miny, maxx, maxy


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Envelopes:
    """One chunk of rows: their rowids, and per row whether it holds a GeoPackage blob,
    its envelope kind (0-7), the envelope's x and y range as a box (minx, miny, maxx,
    maxy; NaN without one) and its z and m ranges (minz, maxz, minm, maxm; NaN where
    the envelope has none)."""

    rowids: np.ndarray
    blob: np.ndarray
    kind: np.ndarray
    boxes: np.ndarray
    zm: np.ndarray
    # Rows whose coordinates are stored rounded (a SpatiaLite compressed geometry): their
    # envelope is the box of the coordinates before, not quite the box read.
    rounded: np.ndarray | None = None

    def rows(self, part: slice | np.ndarray) -> Envelopes:
        return Envelopes(
            self.rowids[part],
            self.blob[part],
            self.kind[part],
            self.boxes[part],
            self.zm[part],
            None if self.rounded is None else self.rounded[part],
        )


def _doubles(heads: np.ndarray, little: np.ndarray, count: int) -> np.ndarray:
    values = np.ascontiguousarray(heads)
    return np.where(
        little[:, None],
        values.view("<f8").reshape(-1, count),
        values.view(">f8").reshape(-1, count).astype("<f8"),
    )


def _parsed(rowids: np.ndarray, heads: np.ndarray) -> Envelopes:
    blob = (heads[:, 0] == ord("G")) & (heads[:, 1] == ord("P"))
    flags = heads[:, 3]
    kind = np.where(blob, (flags >> 1) & 7, 0)
    little = (flags & 1) == 1
    boxes = _doubles(heads[:, 8:40], little, 4)[:, _XY]
    boxes[(kind == 0) | (kind > 4)] = np.nan
    # Kind 2: a z range; 3: an m range; 4: a z range, then an m range. Most layers have
    # none: only the rows with one are read for them.
    zm = np.full((len(kind), 4), np.nan)
    more = np.flatnonzero((kind >= 2) & (kind <= 4))
    if more.size:
        extra = _doubles(heads[more, 40:72], little[more], 4)
        of = kind[more]
        zm[more[of == 2], :2] = extra[of == 2, :2]
        zm[more[of == 3], 2:] = extra[of == 3, :2]
        zm[more[of == 4]] = extra[of == 4]
    return Envelopes(rowids, blob, kind, boxes, zm)


def envelope_chunks(
    db: sqlite3.Connection,
    table: str,
    column: str,
    chunk: int = 16_384,
    parse: Callable[[np.ndarray, np.ndarray], Envelopes] | None = None,
) -> Iterator[Envelopes]:
    """The envelopes of the table's rows, ``chunk`` rows at a time in rowid order (the
    order GDAL reads a table in), on ``db`` (its ``text_factory`` ``bytes``: SQLite hands
    the concatenated blobs over as text). ``ValueError`` when they cannot be read in
    that order. ``parse`` reads the blobs' first 72 bytes (a GeoPackage's headers by
    default; ``spatialite_mbrs`` reads SpatiaLite's)."""
    parse = parse or _parsed
    heads = (
        f"CASE WHEN length(g) >= {_HEAD} THEN substr(g, 1, {_HEAD}) "
        # || makes text, whose substr counts characters: cast back to count bytes.
        f"ELSE substr(CAST(coalesce(g, x'') || zeroblob({_HEAD}) AS BLOB), 1, {_HEAD}) END"
    )
    sql = (
        f"SELECT count(*), min(rowid), max(rowid), group_concat({heads}, '') FROM "
        f"(SELECT rowid, CAST({_quoted(column)} AS BLOB) AS g FROM {_quoted(table)} "
        "WHERE rowid BETWEEN ? AND ?)"
    )
    # Rowids are listed only where they are not a run (a table with deleted rows).
    ids = f"SELECT group_concat(rowid) FROM {_quoted(table)} WHERE rowid BETWEEN ? AND ?"
    after = f"SELECT min(rowid) FROM {_quoted(table)} WHERE rowid > ?"
    # A range of rowids is read in their order without a sort; a gap is jumped.
    start = db.execute(f"SELECT min(rowid) FROM {_quoted(table)}").fetchone()[0]
    while start is not None:
        span = (start, min(start + chunk - 1, _LAST_ROWID))
        count, first, end, data = db.execute(sql, span).fetchone()
        if end - first + 1 == count:
            rowids = np.arange(first, end + 1, dtype=np.int64)
        else:
            listed = db.execute(ids, span).fetchone()[0]
            rowids = np.array(bytes(listed).split(b","), dtype=np.int64)
        if len(rowids) != count or len(data) != count * _HEAD or np.any(np.diff(rowids) <= 0):
            raise ValueError(f"the geometry blobs of {table} could not be read in order")
        yield parse(rowids, np.frombuffer(bytes(data), dtype=np.uint8).reshape(count, _HEAD))
        start = db.execute(after, (end,)).fetchone()[0]
