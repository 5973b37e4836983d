"""The boxes a vector file keeps beside its geometries, read as the source's own streams:
a GeoPackage table's blob envelopes and R*Tree (``raw/gpkg_envelopes.py``,
``raw/sqlite_rtree.py``), a SpatiaLite table's blob MBRs and R*Tree
(``raw/spatialite_mbrs.py``), a FlatGeobuf file's header and spatial index
(``raw/fgb_index.py``). The measuring stage meets them with the geometries it reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from compliance.readers.raw.fgb_index import FgbHeader, fgb_header
from compliance.readers.raw.gpkg_envelopes import Envelopes, envelope_chunks
from compliance.readers.raw.spatialite_mbrs import spatialite_envelopes
from compliance.readers.raw.sqlite_rtree import RtreeWalk, rtree_cells

if TYPE_CHECKING:
    from compliance.readers.sources import LayerInfo

__all__ = ["KeptBoxes", "as_text", "flatgeobuf_files"]


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    db.text_factory = bytes  # the envelopes come concatenated as text holding bytes
    return db


def as_text(value: object) -> str:
    """A value as text, from the shared connection that hands text over as bytes."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class KeptBoxes:
    """What a vector source reads of the boxes its file keeps (a mixin of VectorSource,
    whose ``path``, ``driver`` and ``layers`` it reads). Reads in the check's own thread
    share one connection (opening one and reading the schema costs more than a small
    file's queries); a read asked for ``apart`` (in a thread of its own) opens its own."""

    path: Path | None
    driver: str
    layers: list[LayerInfo]
    _kept_db: sqlite3.Connection | None = None
    # Each table's ``index_tables``, asked by the reader and by the index check alike.
    _index_memo: dict[str, tuple[str, str | None] | None] | None = None

    def kept(self) -> sqlite3.Connection:
        """The one connection reads in the check's own thread share, opened on first use."""
        if self._kept_db is None:
            assert self.path is not None
            self._kept_db = _connect(self.path)
        return self._kept_db

    def close_kept(self) -> None:
        """Close the shared connection, if one was opened."""
        if self._kept_db is not None:
            self._kept_db.close()
            self._kept_db = None

    def index_tables(self, table: str) -> tuple[str, str | None] | None:
        """For a GeoPackage or SpatiaLite table (not a view: its rows are another
        table's): its geometry column and its R*Tree's name (None without one); None
        otherwise."""
        if self._index_memo is None:
            self._index_memo = {}
        if table not in self._index_memo:
            self._index_memo[table] = self._index_tables(table)
        return self._index_memo[table]

    def _index_tables(self, table: str) -> tuple[str, str | None] | None:
        if self.path is None or not self.path.is_file():
            return None
        if self.driver == "SQLite":
            return self._spatialite_tables(table)
        if self.driver != "GPKG":
            return None
        # One statement: the geometry column, whether the table is a table, and whether
        # the R*Tree the extension names after them is there.
        rows = (
            self.kept()
            .execute(
                "SELECT c.column_name, m.type, EXISTS (SELECT 1 FROM sqlite_master r WHERE "
                "r.name = 'rtree_' || c.table_name || '_' || c.column_name) "
                "FROM gpkg_geometry_columns c JOIN sqlite_master m ON m.name = c.table_name "
                "WHERE c.table_name = ?",
                (table,),
            )
            .fetchall()
        )
        if len(rows) != 1 or as_text(rows[0][1]) != "table":
            return None
        column = as_text(rows[0][0])
        return column, f"rtree_{table}_{column}" if rows[0][2] else None

    def _spatialite_tables(self, table: str) -> tuple[str, str | None] | None:
        """``index_tables`` in a SpatiaLite database: its catalogue names the geometry
        column, and the R*Tree is ``idx_<table>_<column>``. A plain SQLite database of
        OGC's layout (WKB or WKT, no ``spatial_index_enabled``) keeps neither."""
        db = self.kept()
        catalogue = {as_text(row[1]) for row in db.execute("PRAGMA table_info(geometry_columns)")}
        if "spatial_index_enabled" not in catalogue:
            return None
        rows = db.execute(
            "SELECT c.f_geometry_column, m.type, EXISTS (SELECT 1 FROM sqlite_master r WHERE "
            "r.type = 'table' AND lower(r.name) = lower('idx_' || m.name || '_' || "
            "c.f_geometry_column)) FROM geometry_columns c JOIN sqlite_master m "
            "ON lower(m.name) = lower(c.f_table_name) WHERE lower(c.f_table_name) = lower(?)",
            (table,),
        ).fetchall()
        if len(rows) != 1 or as_text(rows[0][1]) != "table":
            return None
        column = as_text(rows[0][0])
        return column, f"idx_{table}_{column}" if rows[0][2] else None

    def envelope_batches(self, table: str, column: str, apart: bool) -> Iterator[Envelopes]:
        """The table's blob envelopes (a SpatiaLite table's MBRs), in rowid order, a
        chunk of rows at a time."""
        if self.path is None:
            return
        parse = spatialite_envelopes if self.driver == "SQLite" else None
        if not apart:
            yield from envelope_chunks(self.kept(), table, column, parse=parse)
            return
        with closing(_connect(self.path)) as db:
            yield from envelope_chunks(db, table, column, parse=parse)

    def rtree_leaves(
        self, rtree: str, faults: list[str], apart: bool
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The R*Tree's leaf cells (ids, boxes), a chunk of nodes at a time; what its
        nodes hold beyond their children is added to ``faults`` when the walk ends."""
        if self.path is None:
            return
        db = _connect(self.path) if apart else self.kept()
        try:
            walk = RtreeWalk(db, rtree)
            yield from walk.leaves()
            faults += walk.faults
        finally:
            if apart:
                db.close()

    def rtree_cells(self, rtree: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The R*Tree's cells of the rows ``ids`` (a few), looked up one by one."""
        if self.path is None:
            return np.zeros(0, np.int64), np.zeros((0, 4), np.float32)
        return rtree_cells(self.kept(), rtree, ids)

    def fgb_index(self, layer: LayerInfo) -> FgbHeader | None:
        """The header (and spatial index) of a FlatGeobuf layer's file."""
        if self.driver != "FlatGeobuf":
            return None
        files = flatgeobuf_files(self.path, self.layers)
        path = next((p for p, of in files if of is layer), None)
        return fgb_header(path) if path is not None else None


def flatgeobuf_files(path: Path | None, layers: list[LayerInfo]) -> list[tuple[Path, LayerInfo]]:
    """The file of each FlatGeobuf layer: the source itself, or one per layer of a folder."""
    if path is None or not layers:
        return []
    if path.is_dir():
        files = [(path / f"{layer.name}.fgb", layer) for layer in layers]
        return [(p, layer) for p, layer in files if p.is_file()]
    return [(path, layers[0])]
