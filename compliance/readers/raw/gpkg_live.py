"""Which geometry blobs found in a GeoPackage's free space a live row still holds: an UPDATE
leaves the row's old cell behind, and a copy of a geometry the file shows hides nothing."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path

from compliance.readers.gpkg_sql import gpkg_rows
from compliance.readers.raw.gpkg_blobs import PREFIX, Blob

__all__ = ["drop_live_copies"]


def _quoted(name: object) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def drop_live_copies(path: Path, found: dict[bytes, Blob]) -> list[Blob]:
    """The candidates no live row holds: an UPDATE leaves the row's old cell behind, and
    a copy of a geometry the file shows is no hidden geometry. Only the live blobs' first
    bytes stream past the candidates; a whole blob is read where those match."""
    by_prefix: dict[bytes, list[Blob]] = defaultdict(list)
    for blob in found.values():
        by_prefix[blob.key[:PREFIX]].append(blob)
    columns = gpkg_rows(path, "SELECT table_name, column_name FROM gpkg_geometry_columns")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        for table, column in columns:
            sql = f"SELECT rowid, substr({_quoted(column)}, 1, {PREFIX}) FROM {_quoted(table)}"
            whole = f"SELECT {_quoted(column)} FROM {_quoted(table)} WHERE rowid = ?"
            try:
                hits = [
                    (r, p) for r, p in db.execute(sql) if isinstance(p, bytes) and p in by_prefix
                ]
                for rowid, prefix in hits:
                    (value,) = db.execute(whole, (rowid,)).fetchone()
                    by_prefix[prefix] = [
                        b for b in by_prefix[prefix] if b.wkb is not None and b.key != value
                    ]
            except sqlite3.Error:
                continue  # a table listed but not there: nothing live to compare with
    return [b for blobs in by_prefix.values() for b in blobs]
