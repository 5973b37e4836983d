"""The questions ``gdal_dataset.VectorDataset`` answers from one open, each asked of
pyogrio instead (a new open per question): for a pyogrio whose GDAL library cannot be
reached directly."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio

from compliance.readers.formats import GML_DRIVERS

__all__ = ["PyogrioDataset"]


class PyogrioDataset:
    """A vector file as pyogrio reads it, opened again for every question."""

    def __init__(self, path: Path, options: dict[str, str]) -> None:
        self.path, self.options = path, options
        self._first: dict[str, Any] | None = None

    def close(self) -> None:
        """Nothing stays open between questions."""

    def info(self, layer: str | int) -> dict[str, Any]:
        if layer == 0:  # pyogrio's default layer, without naming it
            self._first = pyogrio.read_info(self.path, **self.options)
            return self._first
        return pyogrio.read_info(self.path, layer=layer, **self.options)

    def layer_names(self) -> list[str]:
        """pyogrio lists layers without open options, so a GML file's are read one by one
        (each read with the options) rather than listed."""
        first = self._first
        if first is None or first.get("driver") not in GML_DRIVERS:
            return [str(name) for name, _ in pyogrio.list_layers(self.path)]
        names = [str(first["layer_name"])]
        while True:
            try:
                info = pyogrio.read_info(self.path, layer=len(names), **self.options)
            except pyogrio.errors.DataLayerError:
                return names
            names.append(str(info["layer_name"]))

    def take_failures(self) -> list[str]:
        """None: pyogrio's streams keep GDAL's failures to its own handler."""
        return []

    def geometry_schema(self, layer: str) -> tuple[pa.Schema, str]:
        with pyogrio.open_arrow(
            self.path, layer=layer, columns=[], use_pyarrow=True, **self.options
        ) as (meta, reader):
            return reader.schema, str(meta.get("geometry_name") or "")

    def attribute_batches(self, layer: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        with pyogrio.open_arrow(
            self.path, layer=layer, batch_size=batch_size, use_pyarrow=True, **self.options
        ) as (_, reader):
            yield from reader

    def layer_batches(
        self, layer: str, batch_size: int, keep: Collection[str] = ()
    ) -> Iterator[tuple[str, pa.RecordBatch]]:
        columns = list(keep)
        with pyogrio.open_arrow(
            self.path, layer=layer, columns=columns, batch_size=batch_size, use_pyarrow=True,
            **self.options,
        ) as (meta, reader):  # fmt: skip
            primary = str(meta.get("geometry_name") or "")
            for batch in reader:
                yield primary, batch
