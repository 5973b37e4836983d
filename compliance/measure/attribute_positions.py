"""Numeric positions in a layer's attributes, held against the row's own geometry.

A layer's geometry is measured and placed; its attributes are not. A sender can coarsen
or move the drawn features and keep every precise position in a pair of numbers
(``POINT_X``/``POINT_Y``, ``lat``/``lon``, ``위도``/``경도``). Such a pair repeats what the
geometry already says when it lies on the row's geometry (inside its box, with room for
the round-off of a number written in decimals): the point a GIS adds for each feature,
say. A pair anywhere else, or on a row whose geometry cannot be read, says more than the
measured geometry does, and its columns are reported like coordinates in text.

A pair is compared in the layer's CRS and, for a layer in a projected CRS whose numbers
lie in longitude and latitude ranges, as longitude and latitude carried into it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from compliance.geo.crs_identity import WGS84
from compliance.geo.geodesy import transformer
from compliance.measure.wkb_bounds import WkbBoxes
from compliance.readers.sources import decode_wkb
from compliance.text_digits import fold

__all__ = ["AttributePositions", "numbers", "row_boxes"]

# Room for round-off, in the CRS's units: a degree figure written to 6 decimals is off by
# up to 5e-7 (5 cm); a metre figure to 1 decimal by 5 cm.
_DEGREES = 1e-6
_UNITS = 0.1
_FEW_ROWS = 512  # rows decoded by GEOS picked one by one, not by Arrow's take


class AttributePositions:
    """Pairs of numeric columns and whether any row places a point off its geometry. Fed
    batch by batch with each batch's geometry column (WKB) as the layer is scanned."""

    def __init__(self, pairs: list[tuple[str, str]], crs: CRS | None) -> None:
        self.pairs = pairs
        self.crs = crs
        self._off: list[tuple[str, str]] = []

    @property
    def fields(self) -> list[str]:
        """Every column of the pairs: what the reader must hand over."""
        return [name for pair in self.pairs for name in pair]

    def add(self, batch: pa.RecordBatch, boxes: np.ndarray) -> None:
        """``boxes``: ``row_boxes`` of the batch's geometry column."""
        todo = [p for p in self.pairs if p not in self._off]
        names = batch.schema.names
        todo = [p for p in todo if p[0] in names and p[1] in names]
        for pair in todo:
            x, y = (numbers(batch.column(name)) for name in pair)
            given = np.isfinite(x) & np.isfinite(y)
            if given.any() and not self._on_geometry(x[given], y[given], boxes[given]):
                self._off.append(pair)

    @property
    def columns(self) -> list[str]:
        """The columns of the pairs found off their rows' geometry, in the pairs' order."""
        return [name for pair in self.pairs if pair in self._off for name in pair]

    def _on_geometry(self, x: np.ndarray, y: np.ndarray, boxes: np.ndarray) -> bool:
        geographic = self.crs is None or self.crs.is_geographic
        room = _DEGREES if geographic else _UNITS
        if _inside(x, y, boxes, room):
            return True
        in_degrees = (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all()
        if geographic or self.crs is None or not in_degrees:
            return False
        px, py = transformer(WGS84, self.crs).transform(x, y, errcheck=False)
        return _inside(np.asarray(px), np.asarray(py), boxes, _UNITS)


def row_boxes(geometry: pa.Array, found: WkbBoxes) -> np.ndarray:
    """Each row's box: ``found``, the boxes the scan read from the WKB bytes, with the
    rows it left out decoded; NaN where a row has no geometry to agree with (none, or one
    GEOS cannot decode: a curve, a TIN, damaged bytes)."""
    boxes = found.bounds.copy()  # the scan fills its copy its own way
    rest = np.flatnonzero(~found.fast & ~found.null)
    if rest.size:
        column = geometry.storage if isinstance(geometry, pa.ExtensionArray) else geometry
        if rest.size <= _FEW_ROWS:  # Arrow's take would import its kernels (50 ms)
            wkb = np.array([column[i].as_py() for i in rest.tolist()], dtype=object)
        else:
            wkb = np.asarray(
                column.take(pa.array(rest)).to_numpy(zero_copy_only=False), dtype=object
            )
        boxes[rest] = shapely.bounds(decode_wkb(wkb).geometries)
    return boxes


def _inside(x: np.ndarray, y: np.ndarray, boxes: np.ndarray, room: float) -> bool:
    with np.errstate(invalid="ignore"):
        inside = (
            (x >= boxes[:, 0] - room)
            & (y >= boxes[:, 1] - room)
            & (x <= boxes[:, 2] + room)
            & (y <= boxes[:, 3] + room)
        )
    return bool(inside.all())


def numbers(column: pa.Array) -> np.ndarray:
    """A column's values as floats, NaN where null or not a number (text such as "37.5",
    as a CSV holds every value, counts as its number)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        # Nulls come out as NaN (as floats); no compute kernel, so no import of its module.
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)
    if pa.types.is_decimal(kind):
        return np.asarray(column.cast(pa.float64()).fill_null(np.nan).to_numpy(), dtype=float)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return np.full(len(column), np.nan)
    return np.array([_number(v) for v in column.to_pylist()], dtype=float)


def _number(text: str | None) -> float:
    try:
        # float takes any script's digits but only ASCII's point ("３７．５"): folded first.
        return float(fold(text)) if text is not None else np.nan
    except ValueError:
        return np.nan
