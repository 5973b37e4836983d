"""What a spatial layer's attributes are read for, in the same pass as its geometries:
geometry written as text (``table_values.GeometryText``) and positions kept as numbers
(``attribute_positions.AttributePositions``)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from compliance.measure.attribute_positions import AttributePositions
from compliance.measure.position_fields import position_pairs
from compliance.measure.table_values import GeometryText
from compliance.readers.sources import LayerInfo, TextSink

__all__ = ["AttributeReading"]


@dataclass
class AttributeReading:
    """The attributes a layer's scan hands over, and what was found in them."""

    text: GeometryText | None
    positions: AttributePositions | None
    text_fields: list[str]

    @classmethod
    def of(cls, layer: LayerInfo) -> AttributeReading:
        # A layer read through another (a view of a table) is that table's to report.
        if layer.source_layer is not None:
            return cls(None, None, [])
        text = GeometryText() if layer.text_fields else None
        pairs = position_pairs(layer.fields)
        positions = AttributePositions(pairs, layer.crs) if pairs else None
        return cls(text, positions, list(layer.text_fields))

    @property
    def fields(self) -> list[str]:
        """The attributes the reader hands over with each batch."""
        wanted = self.text_fields if self.text else []
        if self.positions is not None:
            wanted = wanted + self.positions.fields
        return list(dict.fromkeys(wanted))

    @property
    def sink(self) -> TextSink | None:
        return self._take if self.text or self.positions else None

    def _take(self, batch: pa.RecordBatch, geometry: pa.Array) -> None:
        if self.text is not None:
            names = batch.schema.names
            self.text.add(batch.select([f for f in self.text_fields if f in names]))
        if self.positions is not None:
            self.positions.add(batch, geometry)

    @property
    def columns(self) -> list[str]:
        """The columns holding geometry or positions the geometry does not hold."""
        found = self.text.columns if self.text else []
        found = found + (self.positions.columns if self.positions else [])
        return list(dict.fromkeys(found))
