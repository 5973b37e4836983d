"""Queries on an SQLite file's own tables (a GeoPackage's), read-only, for what GDAL's
drivers do not report."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["GpkgCatalogue", "gpkg_catalogue", "gpkg_rows", "sqlite_rows"]

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
