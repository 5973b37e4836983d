"""GeoParquet files: every geometry column read as a layer of its own, WKB or native."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from compliance.errors import UnreadableDataset, UnsupportedFormat
from compliance.readers.geoarrow_native import NATIVE_ENCODINGS, native_to_wkb
from compliance.readers.sources import (
    BATCH_SIZE,
    LayerInfo,
    TextSink,
    VectorSource,
    parse_crs,
)

__all__ = ["PARQUET_MAGIC", "GeoParquetSource", "open_geoparquet"]

PARQUET_MAGIC = b"PAR1"


class GeoParquetSource(VectorSource):
    """A GeoParquet file: each of its geometry columns is read as a layer of its own."""

    def __init__(self, path: Path, layers: dict[str, LayerInfo], encodings: dict[str, str]) -> None:
        super().__init__(path, "Parquet", list(layers.values()))
        self.columns = {layer.name: column for column, layer in layers.items()}
        self.encodings = encodings  # per layer name: WKB, or a native GeoArrow encoding

    def wkb_batches(
        self, layer: LayerInfo, text: TextSink | None = None, fields: list[str] | None = None
    ) -> Iterator[pa.Array]:
        encoding = self.encodings.get(layer.name, "WKB")
        import pyarrow.parquet as pq

        fields = (layer.text_fields if fields is None else fields) if text is not None else []
        try:
            parquet = pq.ParquetFile(self.path)
            columns = [self.columns[layer.name], *fields]
            for record_batch in parquet.iter_batches(batch_size=BATCH_SIZE, columns=columns):
                column = record_batch.column(0)
                if encoding in NATIVE_ENCODINGS:
                    column = native_to_wkb(column, encoding)
                if text is not None and fields:
                    text(record_batch.select(fields), column)
                if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
                    raise UnsupportedFormat(
                        f"GeoParquet geometry column has type {column.type}, not WKB"
                    )
                yield column
        except (OSError, pa.ArrowException, ValueError) as exc:
            column_name = self.columns[layer.name]
            raise UnreadableDataset(
                f"GeoParquet column {column_name!r} cannot be read: {exc}"
            ) from exc


def _text(kind: pa.DataType) -> bool:
    return any(
        test(kind)
        for test in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
                     pa.types.is_large_binary)
    )  # fmt: skip


def open_geoparquet(path: Path) -> GeoParquetSource:
    """The GeoParquet file at ``path`` as a source of one layer per geometry column."""
    # Imported only for Parquet files: every other check goes without it.
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableDataset(f"{path.name}: unreadable Parquet: {exc}") from exc
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        raise UnsupportedFormat(
            f"{path.name}: Parquet without GeoParquet 'geo' metadata holds no geometry"
        )
    try:
        geo = json.loads(raw)
        primary = geo["primary_column"]
        described = dict(geo["columns"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UnsupportedFormat(f"{path.name}: malformed GeoParquet metadata: {exc}") from exc
    if primary not in described:
        raise UnsupportedFormat(
            f"{path.name}: malformed GeoParquet metadata: primary column {primary!r} is not described"
        )
    # Every geometry column is data that leaves with the file, not only the primary one.
    layers: dict[str, LayerInfo] = {}
    encodings: dict[str, str] = {}
    for column in [primary, *sorted(c for c in described if c != primary)]:
        col_meta = described[column]
        if not isinstance(col_meta, dict) or column not in schema.names:
            raise UnsupportedFormat(f"{path.name}: geometry column {column!r} is not in the file")
        encoding = str(col_meta.get("encoding", "WKB"))
        if encoding.upper() != "WKB" and encoding not in NATIVE_ENCODINGS:
            raise UnsupportedFormat(
                f"{path.name}: GeoParquet encoding {encoding!r} of column {column!r} is "
                f"not one GeoParquet defines (WKB, {', '.join(sorted(NATIVE_ENCODINGS))})"
            )
        # The GeoParquet spec says a missing "crs" means OGC:CRS84; an explicit null means unknown.
        crs = parse_crs("OGC:CRS84") if "crs" not in col_meta else parse_crs(col_meta["crs"])
        bbox = col_meta.get("bbox")
        layers[column] = LayerInfo(
            name=path.stem if column == primary else f"{path.stem}:{column}",
            crs=crs,
            geometry_type=",".join(col_meta.get("geometry_types") or []) or "Unknown",
            feature_count=meta.num_rows,
            fields=[n for n in schema.names if n not in described],
            total_bounds=tuple(bbox[:4]) if bbox and len(bbox) == 4 else None,
            # Read with the primary geometry only: the file's attributes are one table.
            text_fields=[f.name for f in schema if f.name not in described and _text(f.type)]
            if column == primary
            else [],
        )
        encodings[layers[column].name] = encoding
    return GeoParquetSource(path, layers, encodings)
