"""The floors the service is measured against: two bare FastAPI apps, started by
``bench_api.py`` as ``uvicorn floors:bare --app-dir bench`` (or ``floors:fair``).

``bare``: ``POST /upload`` only receives the multipart upload (``UploadFile``) and answers
its size: what the framework costs before any checking (for reference).

``fair`` (the yardstick of issue #21): ``POST /upload`` does what any upload check must
do, and nothing else. It receives the multipart upload into a temporary file, reads it (a vector
with ``pyogrio.read_arrow``; a GeoTIFF with ``rasterio.open`` and its metadata, since a
check reads no pixel), commits one row to SQLite in WAL mode with ``synchronous=FULL``
(as the service's audit store does) and deletes the file.

The endpoint is a plain ``def``: FastAPI runs it in its thread pool, as blocking I/O must
be. Each pool thread keeps one SQLite connection for its lifetime (a per-thread
connection), so the floor pays for the commit and its fsync, not for opening the database.

Configured by ``FAIR_FLOOR_DB`` (the SQLite file) and ``FAIR_FLOOR_TMP`` (where uploads
are spooled).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

import pyogrio
import rasterio
from fastapi import FastAPI, UploadFile

__all__ = ["bare", "fair"]

DB = os.environ.get("FAIR_FLOOR_DB", "fair_floor.sqlite")
TMP = os.environ.get("FAIR_FLOOR_TMP") or None
RASTER_SUFFIXES = frozenset({".tif", ".tiff"})

bare = FastAPI()
fair = FastAPI()
_local = threading.local()


def _connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS uploads"
            " (id INTEGER PRIMARY KEY, name TEXT, size INTEGER, items INTEGER)"
        )
        _local.conn = conn
    return conn


def _read(path: Path) -> int:
    """Read the file as a check must: the features of a vector, the metadata of a raster."""
    if path.suffix.lower() in RASTER_SUFFIXES:
        with rasterio.open(path) as src:
            _ = (src.profile, src.bounds, src.crs, src.transform, src.tags())
            return int(src.count)
    _, table = pyogrio.read_arrow(path)
    return int(table.num_rows)


@bare.post("/upload")
async def receive(file: UploadFile) -> dict[str, int]:
    size = 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
    return {"size": size}


@fair.post("/upload")
def receive_read_record(file: UploadFile) -> dict[str, int]:
    suffix = Path(file.filename or "upload").suffix
    fd, name = tempfile.mkstemp(prefix="floor-", suffix=suffix, dir=TMP)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        size = path.stat().st_size
        items = _read(path)
        conn = _connection()
        with conn:  # one committed transaction per upload
            conn.execute(
                "INSERT INTO uploads (name, size, items) VALUES (?, ?, ?)",
                (file.filename, size, items),
            )
    finally:
        path.unlink(missing_ok=True)
    return {"size": size, "items": items}
