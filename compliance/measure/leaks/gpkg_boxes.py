"""Numbers a GeoPackage layer keeps beside its geometries: each blob's envelope and the
layer's R*Tree spatial index.

A geometry blob's header may hold an envelope (``readers/raw/gpkg_envelopes.py``), and
the ``gpkg_rtree_index`` extension keeps a box per row in an SQLite R*Tree
(``readers/raw/sqlite_rtree.py``). Readers use both only to find features, never as
geometry, so a sender can coarsen the geometries and keep precise positions there (a
point's box is the point). Both follow from the geometry: the envelope is its box, to
the bit; the R*Tree's box is that box rounded outward to 32-bit floats as SQLite rounds
it. The envelopes are read ahead in a thread and met with the scan's boxes row by row
(rowid order, GDAL's); the R*Tree is walked in a helper thread during the scan, and its
leaves and the rows are met as keyed multiset digests, so that neither side is held in
memory whole.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
import shapely

from compliance.arrays import holds_no_number, keyed_hashes, rows_all
from compliance.readers.background import helper_pool
from compliance.readers.kept_boxes import KeptBoxes
from compliance.readers.raw.gpkg_envelopes import Envelopes
from compliance.readers.read_ahead import close_batches, prefetched

__all__ = ["GpkgBoxes", "rtree_rounded"]

# SQLite's rtreeValueDown/rtreeValueUp: a double that a float does not hold is moved by
# these factors before it is rounded to the nearest float.
_TOWARDS = 1.0 - 1.0 / 8388608.0
_AWAY = 1.0 + 1.0 / 8388608.0
_MASK = (1 << 64) - 1
_LOOKUPS = 10_000  # R*Tree cells looked up one by one, for the rows the scan cannot box
# The geometries of some rows of the batch the boxes came from (their indexes in it).
Geometries = Callable[[np.ndarray], np.ndarray]


def rtree_rounded(boxes: np.ndarray) -> np.ndarray:
    """``boxes`` (minx, miny, maxx, maxy) as an SQLite R*Tree stores them: each minimum
    rounded down and each maximum up to a 32-bit float."""
    with np.errstate(over="ignore", invalid="ignore"):
        near = boxes.astype(np.float32)
        low, high = boxes[:, :2], boxes[:, 2:]
        down = (low * np.where(low < 0, _AWAY, _TOWARDS)).astype(np.float32)
        up = (high * np.where(high < 0, _TOWARDS, _AWAY)).astype(np.float32)
        return np.concatenate(
            [
                np.where(near[:, :2] > low, down, near[:, :2]),
                np.where(near[:, 2:] < high, up, near[:, 2:]),
            ],
            axis=1,
        )


def _rounded_box(kept: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Whether each kept box is ``box`` up to the rounding of coordinates stored as 32-bit
    float steps (a SpatiaLite compressed geometry): off by no more than 1e-5 of the box's
    larger side (a centimetre a kilometre), or a few ulps where the box is a point."""
    with np.errstate(invalid="ignore"):
        side = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
        room = 1e-5 * side + 4 * np.spacing(np.abs(box).max(axis=1))
        return rows_all(np.abs(kept - box) <= room[:, None])


def _digest(ids: np.ndarray, boxes: np.ndarray, key: np.ndarray) -> int:
    return int(keyed_hashes(ids, boxes, key).sum(dtype=np.uint64))


def _same_ranges(kind: np.ndarray, kept: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Whether the z and m ranges of envelopes of ``kind`` (``kept``: minz, maxz, minm,
    maxm) are their geometries', to the bit: a range the geometry does not have (no z,
    no m, no vertex) is two numbers nobody reads, and a NaN kept carries bits too. An
    envelope may leave out a range the geometry has (GDAL writes x, y and z for a ZM
    geometry)."""
    coords, index = shapely.get_coordinates(
        geoms, include_z=True, include_m=True, return_index=True
    )
    ranges = np.full((len(geoms), 4), np.nan)
    if len(index):
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        with np.errstate(invalid="ignore"):
            ranges[index[starts], 0::2] = np.minimum.reduceat(coords[:, 2:], starts)
            ranges[index[starts], 1::2] = np.maximum.reduceat(coords[:, 2:], starts)
    has_z, has_m = (kind == 2) | (kind == 4), (kind == 3) | (kind == 4)
    kept_here = np.column_stack([has_z, has_z, has_m, has_m])
    with np.errstate(invalid="ignore"):
        # A NaN is the same only with the very same bits: its payload can carry a number.
        same = (kept == ranges) | (kept.view(np.uint64) == ranges.view(np.uint64))
    return rows_all(same | ~kept_here)


def _walk_rtree(
    src: KeptBoxes, name: str, key: np.ndarray, apart: bool
) -> tuple[int, int, list[str]]:
    """The R*Tree's leaf cells (how many, their digest) and its faults."""
    digest = cells = 0
    faults: list[str] = []
    for ids, boxes in src.rtree_leaves(name, faults, apart):
        digest = (digest + _digest(ids, boxes.astype(np.float32), key)) & _MASK
        cells += len(ids)
    return cells, digest, faults


class _Rows:
    """The envelopes read ahead in a thread, each row with the hash its R*Tree cell has
    when the envelope is its geometry's box; handed over as many rows at a time as
    asked for."""

    def __init__(
        self, src: KeptBoxes, table: str, column: str, key: np.ndarray, ahead: bool
    ) -> None:
        self._key = key
        chunks = self._hashed(src.envelope_batches(table, column, apart=ahead))
        self._chunks = prefetched(chunks) if ahead else chunks
        self._chunk: tuple[Envelopes, np.ndarray] | None = None
        self._at = 0

    def _hashed(self, chunks: Iterator[Envelopes]) -> Iterator[tuple[Envelopes, np.ndarray]]:
        try:
            for env in chunks:
                yield env, keyed_hashes(env.rowids, rtree_rounded(env.boxes), self._key)
        finally:
            close_batches(chunks)

    def take(self, n: int) -> list[tuple[Envelopes, np.ndarray]]:
        parts = []
        while n > 0:
            if self._chunk is None or self._at == len(self._chunk[1]):
                self._chunk = next(self._chunks, None)
                self._at = 0
                if self._chunk is None:
                    break
            (c, hashes), end = self._chunk, min(self._at + n, len(self._chunk[1]))
            rows = slice(self._at, end)
            parts.append((c.rows(rows), hashes[rows]))
            n -= end - self._at
            self._at = end
        return parts

    def close(self) -> None:
        close_batches(self._chunks)


class GpkgBoxes:
    """The envelopes and R*Tree boxes of one GeoPackage layer (table and geometry
    column), met with the boxes the scan reads."""

    def __init__(
        self, src: KeptBoxes, table: str, column: str, rtree: str | None, threads: bool = True
    ) -> None:
        self.name = f"{table}.{column}"
        self._key = np.frombuffer(os.urandom(16), dtype=np.uint64)
        # With threads, the envelopes are read ahead and the R*Tree walked beside the scan.
        self._rows = _Rows(src, table, column, self._key, threads)
        self._rtree = rtree
        # What the R*Tree walk found, once asked (it ends with the scan, or runs then).
        self._walk: Callable[[], tuple[int, int, list[str]]] | None = None
        if rtree is not None:
            walk = partial(_walk_rtree, src, rtree, self._key, threads)
            self._walk = helper_pool().submit(walk).result if threads else walk
        self._digest = 0
        self._indexed = 0
        self._unboxed: list[np.ndarray] = []  # rows the scan could not box: left out
        self._src = src
        self.read = 0
        self.matched = 0  # rows of the table met with a feature read
        self.envelopes_differ = 0
        self.broken: str | None = None  # why the envelopes could not be read to the end

    @classmethod
    def of(cls, src: KeptBoxes, table: str, threads: bool = True) -> GpkgBoxes | None:
        """The check of the GeoPackage table ``table``; None where the source keeps no
        such boxes for it (a view, another format)."""
        found = src.index_tables(table)
        return cls(src, table, found[0], found[1], threads) if found is not None else None

    def add(
        self, boxes: np.ndarray, exact: np.ndarray, empty: np.ndarray, geometries: Geometries
    ) -> None:
        if self.broken is not None:
            return
        try:
            self._add(boxes, exact, empty, geometries)
        except (sqlite3.Error, ValueError) as exc:
            self.broken = str(exc)

    def _add(
        self, boxes: np.ndarray, exact: np.ndarray, empty: np.ndarray, geometries: Geometries
    ) -> None:
        self.read += len(boxes)
        at = 0
        for env, hashes in self._rows.take(len(boxes)):
            n = len(env.rowids)
            box, ok, blank = boxes[at : at + n], exact[at : at + n], empty[at : at + n]
            has = (env.kind >= 1) & (env.kind <= 4)
            same = has & rows_all(env.boxes == box)
            if env.rounded is not None and env.rounded.any():
                same |= has & env.rounded & _rounded_box(env.boxes, box)
            wrong = (ok & has & ~same) | (env.kind > 4)
            blanks = np.flatnonzero(blank & has)
            if blanks.size:
                none = env.rows(blanks)
                wrong[blanks] |= ~holds_no_number(np.concatenate([none.boxes, none.zm], axis=1))
            heights = np.flatnonzero(ok & same & (env.kind >= 2) & (env.kind <= 4))
            if heights.size:
                wrong[heights] |= ~_same_ranges(
                    env.kind[heights], env.zm[heights], geometries(heights + at)
                )
            at += n
            self.envelopes_differ += int(np.count_nonzero(wrong))
            if self._rtree is not None:
                # Where the envelope is the box, its row's hash was made as it was read.
                rest = ok & ~same
                part = int(hashes[ok & same].sum(dtype=np.uint64))
                part += _digest(env.rowids[rest], rtree_rounded(box[rest]), self._key)
                self._digest = (self._digest + part) & _MASK
                self._indexed += int(np.count_nonzero(ok))
                self._unboxed.append(env.rowids[~ok & ~blank])
        self.matched += at

    def faults(self) -> list[str]:
        """What the envelopes and the R*Tree hold that the geometries do not, once every
        row is read; stops the readers."""
        try:
            faults = self._envelope_faults()
            if self._walk is not None:
                faults += self._rtree_faults(self._walk())
            return faults
        except (sqlite3.Error, ValueError, struct.error, IndexError, OverflowError) as exc:
            return [f"{self.name}: its spatial index could not be read ({exc})"]
        finally:
            self.close()

    def close(self) -> None:
        self._rows.close()

    def _envelope_faults(self) -> list[str]:
        if self.broken is not None:
            return [f"{self.name}: its envelopes could not be read ({self.broken})"]
        faults = []
        if self.envelopes_differ:
            faults.append(
                f"{self.name}: {self.envelopes_differ} geometry blobs hold envelopes that are "
                "not their geometries' boxes"
            )
        if self._rows.take(1) or self.read != self.matched:
            faults.append(
                f"{self.name}: the rows of its table are not the {self.read} features read"
            )
        return faults

    def _rtree_faults(self, walked: tuple[int, int, list[str]]) -> list[str]:
        cells, digest, found = walked
        faults = [f"{self.name}: {fault}" for fault in found]
        # The cells of the rows the scan could not box (their own findings hold the
        # verdict) are taken out of the walk's digest.
        unboxed = np.concatenate(self._unboxed) if self._unboxed else np.zeros(0, np.int64)
        if len(unboxed) > _LOOKUPS:
            faults.append(
                f"{self.name}: its spatial index ({self._rtree}) was not met with the geometries: "
                f"{len(unboxed)} of them could not be read"
            )
            return faults
        if len(unboxed):
            assert self._rtree is not None
            ids, boxes = self._src.rtree_cells(self._rtree, unboxed)
            cells -= len(ids)
            digest = (digest - _digest(ids, boxes, self._key)) & _MASK
        if cells != self._indexed or digest != self._digest:
            faults.append(
                f"{self.name}: its spatial index ({self._rtree}) holds {cells} boxes for the "
                f"{self._indexed} geometries read, and not each one's box"
            )
        return faults
