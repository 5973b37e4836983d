"""GeoParquet files: every geometry column read as a layer of its own, WKB or native.

Parquet columns nest: a struct's fields are read as columns of their own (``bbox.xmin``:
GeoParquet 1.1's bbox covering, a box per row, is such a struct), and a list or map is
read as its JSON text, whatever it holds; the file's attributes are then read as any
layer's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from compliance.errors import UnreadableDataset, UnsupportedFormat
from compliance.readers.geoarrow_native import NATIVE_ENCODINGS, native_to_wkb
from compliance.readers.geojson_unread import FEW_NUMBERS, json_numbers, text_numbers
from compliance.readers.projjson_unread import projjson_unread
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

    def __init__(
        self,
        path: Path,
        layers: dict[str, LayerInfo],
        encodings: dict[str, str],
        tops: dict[str, str],
    ) -> None:
        super().__init__(path, "Parquet", list(layers.values()))
        self.columns = {layer.name: column for column, layer in layers.items()}
        self.encodings = encodings  # per layer name: WKB, or a native GeoArrow encoding
        self.tops = tops  # each attribute (``bbox.xmin``) -> the column it is read from

    def wkb_batches(
        self, layer: LayerInfo, text: TextSink | None = None, fields: list[str] | None = None
    ) -> Iterator[pa.Array]:
        encoding = self.encodings.get(layer.name, "WKB")
        import pyarrow.parquet as pq

        fields = (layer.text_fields if fields is None else fields) if text is not None else []
        try:
            parquet = pq.ParquetFile(self.path)
            tops = list(dict.fromkeys(self.tops[f] for f in fields))
            columns = [self.columns[layer.name], *tops]
            for record_batch in parquet.iter_batches(batch_size=BATCH_SIZE, columns=columns):
                column = record_batch.column(0)
                if encoding in NATIVE_ENCODINGS:
                    column = native_to_wkb(column, encoding)
                if text is not None and fields:
                    text(flattened(record_batch.select(tops)).select(fields), column)
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


def flattened(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with each struct's fields as columns of their own (``parent.child``, at
    any depth) and each list or map as its JSON text."""
    names: list[str] = []
    columns: list[pa.Array] = []
    pending = list(zip(batch.schema.names, batch.columns, strict=True))
    while pending:
        name, column = pending.pop(0)
        kind = column.type
        if pa.types.is_struct(kind):
            children = column.flatten()  # each child null where its struct is
            pending[:0] = [(f"{name}.{kind.field(k).name}", c) for k, c in enumerate(children)]
        elif _nested(kind):
            texts = [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()]
            names.append(name)
            columns.append(pa.array(texts, pa.large_string()))
        else:
            names.append(name)
            columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=names)


def _nested(kind: pa.DataType) -> bool:
    return any(
        test(kind)
        for test in (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list,
                     pa.types.is_map, pa.types.is_list_view, pa.types.is_large_list_view)
    )  # fmt: skip


def _leaves(fields: list[pa.Field]) -> list[tuple[str, pa.DataType, str]]:
    """The columns ``flattened`` makes of ``fields``: each one's name, type and the
    column it is read from."""
    out = []
    pending = [(f.name, f.type, f.name) for f in fields]
    while pending:
        name, kind, top = pending.pop(0)
        if pa.types.is_struct(kind):
            pending[:0] = [(f"{name}.{f.name}", f.type, top) for f in kind]
        else:
            out.append((name, pa.large_string() if _nested(kind) else kind, top))
    return out


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
    leaves = _leaves([f for f in schema if f.name not in described])
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
            fields=[name for name, _, _ in leaves],
            total_bounds=tuple(bbox[:4]) if bbox and len(bbox) == 4 else None,
            # Read with the primary geometry only: the file's attributes are one table.
            text_fields=[name for name, kind, _ in leaves if _text(kind)]
            if column == primary
            else [],
        )
        encodings[layers[column].name] = encoding
    source = GeoParquetSource(path, layers, encodings, {name: top for name, _, top in leaves})
    source.unread_geometries += _metadata_numbers(schema, geo)
    return source


# Metadata every writer adds: GeoParquet's own, Arrow's schema, pandas' index and columns;
# and of a field, Arrow's extension type (a GeoArrow encoding, its CRS) and its Parquet id.
_KNOWN_KEYS = frozenset({b"geo", b"ARROW:schema", b"pandas"})
_KNOWN_FIELD_KEYS = frozenset(
    {b"ARROW:extension:name", b"ARROW:extension:metadata", b"PARQUET:field_id"}
)
# What GeoParquet 1.1 gives the file's "geo" member and each column's description.
_GEO_KEYS = frozenset({"version", "primary_column", "columns"})
_COLUMN_KEYS = frozenset(
    {"encoding", "geometry_types", "crs", "orientation", "edges", "bbox", "epoch", "covering"}
)


def _metadata_numbers(schema: pa.Schema, geo: dict[str, Any]) -> list[str]:
    """The numbers the file's own metadata holds where no reader looks, said in words when
    they are more than a few (as a GeoJSON document's own members): the values of keys no
    writer adds (the file's and each field's), and members GeoParquet does not give its
    ``geo`` description (whose CRS, a PROJJSON document, pyproj reads)."""
    found: dict[str, int] = {}
    entries = [("", schema.metadata or {}, _KNOWN_KEYS)]
    entries += [(f"{f.name}: ", f.metadata or {}, _KNOWN_FIELD_KEYS) for f in schema]
    for prefix, metadata, known in entries:
        for key, value in metadata.items():
            if key not in known:
                found[prefix + key.decode("utf-8", "replace")] = _held(value)
    foreign = {k: v for k, v in geo.items() if k not in _GEO_KEYS}
    for column, described in dict(geo.get("columns") or {}).items():
        if isinstance(described, dict):
            foreign |= {f"{column}.{k}": v for k, v in described.items() if k not in _COLUMN_KEYS}
            foreign |= _described_unread(column, described)
    found |= {f"geo: {k}": json_numbers(v) + len(text_numbers(v)) for k, v in foreign.items()}
    total = sum(found.values())
    if total <= FEW_NUMBERS:
        return []
    names = ", ".join(sorted(k for k, n in found.items() if n)[:5])
    return [f"{total} numbers in the file's own metadata ({names}), which no reader takes for data"]


def _described_unread(column: str, described: dict[str, Any]) -> dict[str, Any]:
    """What of a column's defined members no reader takes: the CRS's members PROJ does
    not read (a PROJJSON document keeps any member), a ``bbox`` of other than 4 or 6
    numbers; and the other members whole, since they hold names and at most one number
    (``epoch``), so their numbers count too."""
    found: dict[str, Any] = {}
    for key, value in described.items():
        if key not in _COLUMN_KEYS:
            continue
        if key == "crs":
            value = projjson_unread(value) if isinstance(value, dict) else value
        elif key == "bbox" and isinstance(value, list) and len(value) in (4, 6):
            value = None
        if value is not None:
            found[f"{column}.{key}"] = value
    return found


def _held(value: bytes) -> int:
    """The numbers a metadata value holds: as JSON, or the coordinate-sized ones in text."""
    text = value.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return len(text_numbers(text))
    return json_numbers(parsed) + len(text_numbers(parsed))
