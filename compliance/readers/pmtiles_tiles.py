"""Tiles of a PMTiles archive that GDAL does not read.

GDAL reads a PMTiles archive's layers at one zoom level, the header's ``max_zoom``
(its ``ZOOM_LEVEL`` metadata item), over every tile its directories hold at that level.
Tiles at a finer level (centimetre positions under a header that says zoom 14) are in
the archive but in no reader's view of it: one byte of the header edited shows them to
whoever receives the file. The directories are read here, not a tile: the zoom level of
every tile id they address is compared with the level GDAL read.

The directories are decoded with a budget (a gzip member may expand a thousandfold) and
vectorised (a planet's archive addresses hundreds of millions of tiles in runs); what
cannot be read within it is named, so the file is held rather than passed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pmtiles.tile import Compression, deserialize_header

from compliance.readers.mbtiles_tiles import MOST_ZOOM, levels_past

__all__ = ["pmtiles_unread_tiles"]

_HEADER = 127  # bytes: the version 3 header
_DEEPEST = 4  # directories below the root: the specification's writers use one level
_BUDGET = 1 << 30  # bytes of directories decoded, all of them: past a planet's
_LARGEST = 16 << 20  # bytes of one directory, decoded: writers keep leaves near a megabyte
# The first tile id of each zoom level: level z starts after the 4**k tiles of each k < z.
_FIRST_IDS = np.array([((1 << (2 * z)) - 1) // 3 for z in range(MOST_ZOOM + 2)], np.uint64)


class _Unreadable(Exception):
    """The archive's directories cannot be read to the end; said in words."""


def pmtiles_unread_tiles(path: Path, metadata: dict[str, str]) -> list[str]:
    """The tiles of the PMTiles archive at ``path`` at zoom levels finer than the one GDAL
    read its layers at (its ``ZOOM_LEVEL`` metadata item), or at no zoom level; said in
    words (``tiles: why``)."""
    try:
        finest = int(metadata.get("ZOOM_LEVEL", ""))
    except ValueError:
        return ["tiles: the zoom level GDAL reads the layers at is not known"]
    try:
        levels = _zoom_levels(path)
    except _Unreadable as why:
        return [f"tiles: {why}"]
    return levels_past(levels, finest)[0]


def _zoom_levels(path: Path) -> list[int]:
    """The zoom levels of the tiles the archive's directories address; a level past
    ``MOST_ZOOM`` stands for ids beyond any zoom level."""
    with path.open("rb") as file:
        try:
            header = deserialize_header(file.read(_HEADER))
        except Exception as error:  # its own exceptions, a short read, an unknown code
            raise _Unreadable("the archive's header could not be read") from error
        compression = header["internal_compression"]
        if compression not in (Compression.NONE, Compression.GZIP):
            raise _Unreadable(f"its directories are compressed as {compression.name}, not read")
        budget = [_BUDGET]
        levels: set[int] = set()
        pending = [(header["root_offset"], header["root_length"], 0)]
        while pending:
            offset, length, depth = pending.pop()
            if depth > _DEEPEST:
                raise _Unreadable("its directories nest deeper than readers follow")
            file.seek(offset)
            raw = file.read(length)
            if len(raw) < length or length > _LARGEST:
                raise _Unreadable("a directory lies past the end of the file or is too large")
            for leaf_offset, leaf_length in _directory(_decoded(raw, compression, budget), levels):
                leaf = header["leaf_directory_offset"] + leaf_offset
                pending.append((leaf, leaf_length, depth + 1))
    return sorted(levels)


def _decoded(raw: bytes, compression: Compression, budget: list[int]) -> bytes:
    """A directory's bytes decompressed, within what is left of the budget."""
    if compression is Compression.NONE:
        data = raw
    else:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(raw, min(budget[0], _LARGEST) + 1)
        except zlib.error as error:
            raise _Unreadable("a directory is not gzip") from error
    budget[0] -= len(data)
    if budget[0] < 0 or len(data) > _LARGEST:
        raise _Unreadable("its directories are larger than mapgate reads")
    return data


def _varints(data: bytes) -> np.ndarray:
    """Every unsigned LEB128 number in ``data``, in order (a last unfinished one dropped)."""
    octets = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(octets < 0x80)
    if ends.size == 0:
        return np.zeros(0, np.uint64)
    octets = octets[: ends[-1] + 1]
    starts = np.concatenate(([0], ends[:-1] + 1))
    place = np.arange(octets.size) - np.repeat(starts, np.diff(np.append(starts, octets.size)))
    if place.max(initial=0) > 9:
        raise _Unreadable("a directory holds a number longer than 64 bits")
    parts = (octets & 0x7F).astype(np.uint64) << (7 * place).astype(np.uint64)
    return np.bitwise_or.reduceat(parts, starts)


def _directory(data: bytes, levels: set[int]) -> Iterator[tuple[int, int]]:
    """The zoom levels of a directory's tiles, added to ``levels``; and where its leaf
    directories are (offset past the leaves' start, length)."""
    numbers = _varints(data)
    count = int(numbers[0]) if numbers.size else 0
    if numbers.size < 1 + 4 * count:
        raise _Unreadable("a directory ends before its entries do")
    deltas, runs, lengths, offsets = numbers[1 : 1 + 4 * count].reshape(4, count)
    ids = np.cumsum(deltas, dtype=np.uint64)
    last = ids + np.maximum(runs, 1) - np.uint64(1)
    if np.any(ids[1:] < ids[:-1]) or np.any(last < ids):
        levels.add(MOST_ZOOM + 1)  # ids past 2**64, wrapped: a made file's, no zoom level
    tiles = runs > 0
    first_level, last_level = (_level(i[tiles]) for i in (ids, last))
    levels.update(np.unique(first_level).tolist())
    # A run that crosses a level's first id holds tiles of every level it crosses.
    crossing = last_level > first_level
    for low, high in zip(first_level[crossing], last_level[crossing], strict=True):
        levels.update(range(int(low), int(high) + 1))
    # An offset of 0 says "right after the entry before"; others are the offset plus one.
    explicit = (offsets > 0) | (np.arange(count) == 0)
    anchor = np.maximum.accumulate(np.where(explicit, np.arange(count), 0))
    before = np.concatenate(([0], np.cumsum(lengths, dtype=np.uint64)[:-1])).astype(np.uint64)
    start = offsets[anchor] - np.uint64(1) + before - before[anchor]
    for index in np.flatnonzero(~tiles):
        if offsets[anchor[index]] == 0:
            raise _Unreadable("a leaf directory is placed at no offset")
        yield int(start[index]), int(lengths[index])


def _level(ids: np.ndarray) -> np.ndarray:
    """The zoom level of each tile id; ``MOST_ZOOM + 1`` past any."""
    return np.searchsorted(_FIRST_IDS, ids, "right") - 1
