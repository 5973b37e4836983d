"""Which check meets a layer's spatial index (and a GeoPackage's blob envelopes) with the
boxes its scan reads: FlatGeobuf (``index_boxes``), GeoPackage and SpatiaLite
(``gpkg_boxes``: the two keep the same R*Tree, and an envelope or MBR in each blob)."""

from __future__ import annotations

import sqlite3
import struct
from typing import Protocol

import numpy as np

from compliance.measure.leaks.gpkg_boxes import GpkgBoxes
from compliance.measure.leaks.index_boxes import LeafBoxes
from compliance.measure.vector_scan import BoxSink
from compliance.readers.sources import BATCH_SIZE, LayerInfo, VectorSource

__all__ = ["IndexCheck", "index_check"]


class IndexCheck(BoxSink, Protocol):
    def faults(self) -> list[str]: ...


class _Unreadable:
    """A layer whose index could not be opened: that is the fault."""

    def __init__(self, why: str) -> None:
        self.why = why

    def add(
        self, boxes: np.ndarray, exact: np.ndarray, empty: np.ndarray, geometries: object
    ) -> None:
        return None

    def faults(self) -> list[str]:
        return [self.why]


def index_check(src: VectorSource, layer: LayerInfo, threads: bool = True) -> IndexCheck | None:
    """The check for ``layer``'s index, or None when its format keeps none to check
    (a layer read through another is that one's to check). ``threads``: whether the
    check may read beside the scan, in threads of its own."""
    if layer.source_layer is not None:
        return None
    try:
        if src.driver == "FlatGeobuf":
            header = src.fgb_index(layer)
            return LeafBoxes(header) if header is not None else None
        if src.driver in ("GPKG", "SQLite"):
            # One batch leaves nothing to read beside: threads would only cost.
            many = layer.feature_count is None or layer.feature_count > BATCH_SIZE
            return GpkgBoxes.of(src, layer.name, threads and many)
    except (OSError, ValueError, struct.error, sqlite3.Error) as exc:
        name = src.path.name if src.path is not None else layer.name
        return _Unreadable(f"{name}: the spatial index of {layer.name} could not be read ({exc})")
    return None
