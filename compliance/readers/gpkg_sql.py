"""One query on an SQLite file's own tables (a GeoPackage's), read-only, for what GDAL's
drivers do not report."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

__all__ = ["gpkg_metadata_documents", "gpkg_rows", "sqlite_rows"]


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


def gpkg_metadata_documents(path: Path) -> list[str]:
    """The metadata documents (ISO 19115 XML, often) in a GeoPackage's gpkg_metadata table."""
    rows = gpkg_rows(path, "SELECT metadata FROM gpkg_metadata")
    return [str(row[0]) for row in rows if row and row[0]]
