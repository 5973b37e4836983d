"""Queries on an SQLite file's own tables (a GeoPackage's), read-only, for what GDAL's
drivers do not report."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ["GpkgCatalogue", "gpkg_catalogue", "gpkg_rows", "sqlite_rows", "table_values"]

# What gpkg_contents calls the tables GDAL reads as vector layers; the others hold rasters.
_FEATURE_TYPES = {"features", "attributes"}


def sqlite_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the SQLite file at ``path``, opened read-only and closed again.

    Raises
    ------
    sqlite3.Error
        The query cannot be run (no such table, not SQLite).
    """
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return db.execute(sql).fetchall()


def gpkg_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the GeoPackage at ``path``; none when it cannot be run."""
    try:
        return sqlite_rows(path, sql)
    except sqlite3.Error:
        return []


@dataclass
class GpkgCatalogue:
    """What a GeoPackage lists beside the layers GDAL reports."""

    # Tables of tiles or gridded coverage. GDAL opens a GeoPackage as vector layers or as
    # a raster, never both: when it has features, its rasters (an orthophoto pyramid
    # beside a layer of outlines) are not read.
    raster_tables: list[str] = field(default_factory=list)
    # The documents (ISO 19115 XML, often) of its gpkg_metadata table.
    metadata_documents: list[str] = field(default_factory=list)


def gpkg_catalogue(path: Path) -> GpkgCatalogue:
    """The GeoPackage's raster tables and metadata documents, read on one connection
    (opening one costs more than the queries); a table that is not there lists nothing."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return GpkgCatalogue()
    with closing(db):
        contents = _rows(db, "SELECT table_name, data_type FROM gpkg_contents")
        documents = _rows(db, "SELECT metadata FROM gpkg_metadata")
    return GpkgCatalogue(
        raster_tables=sorted(
            str(name) for name, kind in contents if str(kind).lower() not in _FEATURE_TYPES
        ),
        metadata_documents=[str(row[0]) for row in documents if row and row[0]],
    )


def _rows(db: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    try:
        return db.execute(sql).fetchall()
    except sqlite3.Error:
        return []


def table_values(path: Path, table: str, batch_size: int) -> Iterator[pa.RecordBatch]:
    """Every row of an SQLite table as stored, batch by batch: each column's text and blobs
    as bytes (numbers and nulls as null). SQLite keeps any value in any column, and GDAL
    reads a column it is not told is geometry as text, mangling the blobs it holds; here
    the bytes are those in the file.

    Raises
    ------
    sqlite3.Error
        The table cannot be read.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    quoted = '"' + table.replace('"', '""') + '"'
    with closing(sqlite3.connect(uri, uri=True)) as db:
        cursor = db.execute(f"SELECT * FROM {quoted}")
        names = [str(d[0]) for d in cursor.description]
        while rows := cursor.fetchmany(batch_size):
            columns = [
                pa.array([_as_bytes(row[i]) for row in rows], type=pa.binary())
                for i in range(len(names))
            ]
            yield pa.RecordBatch.from_arrays(columns, names=names)


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None
