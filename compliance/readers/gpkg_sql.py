"""One query on a GeoPackage's own tables, read-only, for what GDAL's drivers do not report."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any


def gpkg_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the GeoPackage at ``path``; none when it cannot be run (no
    such table, not SQLite). The file is opened read-only and closed again."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return db.execute(sql).fetchall()
    except sqlite3.Error:
        return []
