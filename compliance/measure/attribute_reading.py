"""What a spatial layer's attributes are read for, in the same pass as its geometries:
geometry written as text (``table_values.GeometryText``), positions kept as numbers in
named pairs (``attribute_positions.AttributePositions``) and in any numeric column that
follows the rows' positions (``attribute_tracks.AxisTracks``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from compliance.measure.attribute_positions import AttributePositions, numbers, row_boxes
from compliance.measure.attribute_tracks import AxisTracks
from compliance.measure.contour_levels import LevelLines
from compliance.measure.layer_levels import draws_contours
from compliance.measure.position_fields import position_pairs
from compliance.measure.table_values import GeometryText
from compliance.measure.vector_scan import BoxedSink
from compliance.measure.wkb_bounds import WkbBoxes
from compliance.measure.written_numbers import Written, written_numbers
from compliance.readers.driver_fields import height_fields
from compliance.readers.geojson_unread import FEW_NUMBERS
from compliance.readers.sources import LayerInfo
from compliance.text_digits import fold_batch

__all__ = ["ORDINATES", "AttributeReading"]

# How the geometry's Z and M values are named among the columns that keep positions.
ORDINATES = "(the geometry's Z and M values)"


@dataclass
class AttributeReading:
    """The attributes a layer's scan hands over, and what was found in them."""

    text: GeometryText | None
    positions: AttributePositions | None
    text_fields: list[str]
    tracks: AxisTracks | None = None
    # The fields that hold heights (``driver_fields.height_fields``): GPX's ``ele``, and
    # fields named as heights.
    height_fields: tuple[str, ...] = ()
    heights: list[str] = field(default_factory=list)  # those in which a feature has a number
    # Numbers laid on the lines or polygons as contour levels, whatever the fields are called.
    levels: LevelLines | None = None

    @classmethod
    def of(cls, layer: LayerInfo, driver: str = "") -> AttributeReading:
        # A layer read through another (a view of a table) is that table's to report.
        if layer.source_layer is not None:
            return cls(None, None, [])
        text = GeometryText() if layer.text_fields else None
        pairs = position_pairs(layer.fields)
        positions = AttributePositions(pairs, layer.crs) if pairs else None
        # Every field may hold numbers: as numbers, or written in text; and so may the
        # geometry's Z and M values, a layer of no fields too.
        tracks = AxisTracks(list(layer.fields), layer.crs)
        heights = tuple(height_fields(driver, layer.fields))
        # Contours are lines or polygons: a layer that may hold some (mixed, curves) is met.
        levels = LevelLines() if draws_contours(layer) and layer.fields else None
        return cls(text, positions, list(layer.text_fields), tracks, heights, levels=levels)

    @property
    def fields(self) -> list[str]:
        """The attributes the reader hands over with each batch."""
        wanted = self.text_fields if self.text else []
        if self.positions is not None:
            wanted = wanted + self.positions.fields
        if self.tracks is not None:
            wanted = wanted + self.tracks.names
        return list(dict.fromkeys(wanted + list(self.height_fields)))

    @property
    def sink(self) -> BoxedSink | None:
        return self._take if self.text or self.positions or self.tracks else None

    def _take(
        self,
        batch: pa.RecordBatch | None,
        geometry: pa.Array,
        read: WkbBoxes,
        ordinates: Written | None,
    ) -> None:
        if batch is not None:
            batch = fold_batch(batch)  # other scripts' digits read as ASCII's, once for all
            names = batch.schema.names
            self.heights += [
                f
                for f in self.height_fields
                if f in names
                and f not in self.heights
                and np.isfinite(numbers(batch.column(f))).any()
            ]
            if self.text is not None:
                self.text.add(batch.select([f for f in self.text_fields if f in names]))
        if self.positions is None and self.tracks is None:
            return
        boxes = row_boxes(geometry, read)
        if self.positions is not None and batch is not None:
            self.positions.add(batch, boxes)
        if self.tracks is not None:
            found, single = self._numbers(batch) if batch is not None else ({}, {})
            if self.levels is not None and batch is not None:
                self.levels.add(batch, geometry, self.height_fields)
            tables: dict[str, Written] = {}
            if ordinates is not None:
                found[ORDINATES], tables[ORDINATES] = _few_a_row(ordinates)
            self.tracks.add(found, boxes, tables)
            if single:
                self.tracks.add(single, _float32_widened(boxes))

    def _numbers(
        self, batch: pa.RecordBatch
    ) -> tuple[dict[str, np.ndarray | Written], dict[str, np.ndarray | Written]]:
        """The numbers of each field of the tracks: the float32 columns' apart."""
        assert self.tracks is not None
        names = batch.schema.names
        found: dict[str, np.ndarray | Written] = {}
        single: dict[str, np.ndarray | Written] = {}
        for name in self.tracks.names:
            if name not in names:
                continue
            column = batch.column(name)
            if _numeric(column.type):
                to = single if pa.types.is_float32(column.type) else found
                to[name] = numbers(column)
            elif (written := written_numbers(column)) is not None:
                found[name] = written
        return found, single

    @property
    def columns(self) -> list[str]:
        """The columns holding geometry or positions the geometry does not hold."""
        found = self.text.columns if self.text else []
        found = found + (self.positions.columns if self.positions else [])
        found = found + (self.tracks.columns if self.tracks else [])
        return list(dict.fromkeys(found))


def _few_a_row(ordinates: Written) -> tuple[Written, Written]:
    """The Z and M values of rows that have a few (points, short lines), met row by row,
    and of the others, met only as tables of positions: a long 3-D line climbing past
    heights equal to its own latitude and longitude would seem to follow its box."""
    many = np.bincount(ordinates.rows)[ordinates.rows] > FEW_NUMBERS
    return (
        Written(ordinates.values[~many], ordinates.rows[~many]),
        Written(ordinates.values[many], ordinates.rows[many]),
    )


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _float32_widened(boxes: np.ndarray) -> np.ndarray:
    """Each box grown by one float32 step at each edge: a float32 column holds a row's
    box to the nearest float32 at best (GeoParquet's bbox covering as GDAL writes it,
    rounded outward), so only a value off by more than that is off the row."""
    step = np.spacing(np.abs(boxes).astype(np.float32)).astype(float)
    return np.column_stack([boxes[:, :2] - step[:, :2], boxes[:, 2:] + step[:, 2:]])
