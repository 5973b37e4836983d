"""Which geometry blobs found in a GeoPackage's free space a live row still holds: an UPDATE
leaves the row's old cell behind, and a copy of a geometry the file shows hides nothing."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path

from compliance.readers.gpkg_sql import gpkg_rows
from compliance.readers.raw.gpkg_blobs import PREFIX, Blob

__all__ = ["drop_live_copies", "spatialite_columns"]


def _quoted(name: object) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def spatialite_columns(path: Path) -> list[tuple[object, ...]]:
    """A SpatiaLite database's geometry columns, as (table, column)."""
    return gpkg_rows(path, "SELECT f_table_name, f_geometry_column FROM geometry_columns")


def drop_live_copies(
    path: Path,
    found: dict[bytes, Blob],
    columns: list[tuple[object, ...]] | None = None,
    prefix: int = PREFIX,
) -> list[Blob]:
    """The candidates no live row holds: an UPDATE leaves the row's old cell behind, and
    a copy of a geometry the file shows is no hidden geometry. Only the live blobs' first
    ``prefix`` bytes stream past the candidates; a whole blob is read where those match.
    ``columns``: the (table, column) pairs holding live blobs (a GeoPackage's own list by
    default)."""
    by_prefix: dict[bytes, list[Blob]] = defaultdict(list)
    for blob in found.values():
        by_prefix[blob.key[:prefix]].append(blob)
    if columns is None:
        columns = gpkg_rows(path, "SELECT table_name, column_name FROM gpkg_geometry_columns")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        for table, column in columns:
            sql = f"SELECT rowid, substr({_quoted(column)}, 1, {prefix}) FROM {_quoted(table)}"
            whole = f"SELECT {_quoted(column)} FROM {_quoted(table)} WHERE rowid = ?"
            try:
                hits = [
                    (r, p) for r, p in db.execute(sql) if isinstance(p, bytes) and p in by_prefix
                ]
                for rowid, head in hits:
                    (value,) = db.execute(whole, (rowid,)).fetchone()
                    by_prefix[head] = [
                        b for b in by_prefix[head] if b.wkb is not None and b.key != value
                    ]
            except sqlite3.Error:
                continue  # a table listed but not there: nothing live to compare with
    return [b for blobs in by_prefix.values() for b in blobs]
