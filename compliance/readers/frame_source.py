"""A GeoDataFrame a pipeline already holds, read as a vector source of one layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from compliance.readers.sources import (
    BATCH_SIZE,
    LayerInfo,
    TextSink,
    VectorSource,
    parse_crs,
)

__all__ = ["FrameSource"]


class FrameSource(VectorSource):
    """An in-memory GeoDataFrame, for pipelines that already hold their data."""

    def __init__(self, frame: Any, name: str) -> None:
        crs = parse_crs(frame.crs.to_wkt()) if frame.crs is not None else None
        geoms = np.asarray(frame.geometry.values, dtype=object)
        bounds = None
        if len(frame) and not frame.geometry.is_empty.all():
            bounds = tuple(float(v) for v in frame.geometry.total_bounds)
        # Attributes by their names as reported, each with the frame's own column key.
        self._columns = {str(c): c for c in frame.columns if c != frame.geometry.name}
        fields = list(self._columns)
        geom_types = sorted(set(frame.geometry.geom_type.dropna().unique()))
        layer = LayerInfo(
            name=name,
            crs=crs,
            geometry_type=",".join(geom_types) or "Unknown",
            feature_count=len(frame),
            fields=fields,
            total_bounds=bounds,  # type: ignore[arg-type]
            # Text may be in any column a frame holds Python objects or strings in.
            text_fields=[f for f in fields if frame[self._columns[f]].dtype.kind in "OSU"
                         or str(frame[self._columns[f]].dtype) in ("string", "str")],
        )  # fmt: skip
        super().__init__(None, "GeoDataFrame", [layer])
        self._frame = frame
        self._geoms = geoms

    def wkb_batches(
        self, layer: LayerInfo, text: TextSink | None = None, fields: list[str] | None = None
    ) -> Iterator[pa.Array]:
        names = (layer.text_fields if fields is None else fields) if text is not None else []
        for start in range(0, len(self._geoms), BATCH_SIZE):
            chunk = self._geoms[start : start + BATCH_SIZE]
            wkb = pa.array(shapely.to_wkb(chunk, flavor="iso"), type=pa.binary())
            if text is not None and names:
                rows = self._frame.iloc[start : start + BATCH_SIZE]
                columns = [_arrow_column(rows[self._columns[n]]) for n in names]
                text(pa.RecordBatch.from_arrays(columns, names=names), wkb)
            yield wkb


def _arrow_column(series: Any) -> pa.Array:
    """A frame's column as Arrow. Objects Arrow cannot hold as one type (text beside
    numbers, dicts) are written out as text, or bytes where some are bytes, so they are
    read rather than dropped."""
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        values = series.to_list()
        if any(isinstance(v, bytes | bytearray) for v in values):
            return pa.array(
                [None if v is None else bytes(v) if isinstance(v, bytes | bytearray)
                 else str(v).encode() for v in values], type=pa.binary(),
            )  # fmt: skip
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
