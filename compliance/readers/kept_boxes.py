"""The boxes a vector file keeps beside its geometries, read as the source's own streams:
a GeoPackage table's blob envelopes and R*Tree (``raw/gpkg_envelopes.py``,
``raw/sqlite_rtree.py``), a FlatGeobuf file's header and spatial index
(``raw/fgb_index.py``). The measuring stage meets them with the geometries it reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from compliance.readers.gpkg_sql import sqlite_rows
from compliance.readers.raw.fgb_index import FgbHeader, fgb_header
from compliance.readers.raw.gpkg_envelopes import Envelopes, envelope_chunks
from compliance.readers.raw.sqlite_rtree import RtreeWalk, rtree_cells

if TYPE_CHECKING:
    from compliance.readers.sources import LayerInfo

__all__ = ["KeptBoxes", "flatgeobuf_files"]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class KeptBoxes:
    """What a vector source reads of the boxes its file keeps (a mixin of VectorSource,
    whose ``path``, ``driver`` and ``layers`` it reads)."""

    path: Path | None
    driver: str
    layers: list[LayerInfo]

    def index_tables(self, table: str) -> tuple[str, str | None] | None:
        """For a GeoPackage table (not a view: its rows are another table's): its geometry
        column and its R*Tree's name (None without one); None otherwise."""
        if self.driver != "GPKG" or self.path is None or not self.path.is_file():
            return None
        rows = sqlite_rows(
            self.path,
            "SELECT c.column_name, m.type FROM gpkg_geometry_columns c JOIN sqlite_master m "
            f"ON m.name = c.table_name WHERE c.table_name = {_literal(table)}",
        )
        if len(rows) != 1 or rows[0][1] != "table":
            return None
        column = str(rows[0][0])
        rtree = f"rtree_{table}_{column}"
        found = sqlite_rows(
            self.path, f"SELECT 1 FROM sqlite_master WHERE name = {_literal(rtree)}"
        )
        return column, rtree if found else None

    def envelope_batches(self, table: str, column: str) -> Iterator[Envelopes]:
        """The table's blob envelopes, in rowid order, a chunk of rows at a time."""
        if self.path is not None:
            yield from envelope_chunks(self.path, table, column)

    def rtree_leaves(
        self, rtree: str, faults: list[str]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The R*Tree's leaf cells (ids, boxes), a chunk of nodes at a time; what its
        nodes hold beyond their children is added to ``faults`` when the walk ends."""
        if self.path is None:
            return
        walk = RtreeWalk(self.path, rtree)
        try:
            yield from walk.leaves()
            faults += walk.faults
        finally:
            walk.close()

    def rtree_cells(self, rtree: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The R*Tree's cells of the rows ``ids`` (a few), looked up one by one."""
        if self.path is None:
            return np.zeros(0, np.int64), np.zeros((0, 4), np.float32)
        return rtree_cells(self.path, rtree, ids)

    def fgb_index(self, layer: LayerInfo) -> FgbHeader | None:
        """The header (and spatial index) of a FlatGeobuf layer's file."""
        if self.driver != "FlatGeobuf":
            return None
        path = next((p for p, of in flatgeobuf_files(self.path, self.layers) if of is layer), None)
        return fgb_header(path) if path is not None else None


def flatgeobuf_files(path: Path | None, layers: list[LayerInfo]) -> list[tuple[Path, LayerInfo]]:
    """The file of each FlatGeobuf layer: the source itself, or one per layer of a folder."""
    if path is None or not layers:
        return []
    if path.is_dir():
        files = [(path / f"{layer.name}.fgb", layer) for layer in layers]
        return [(p, layer) for p, layer in files if p.is_file()]
    return [(path, layers[0])]
