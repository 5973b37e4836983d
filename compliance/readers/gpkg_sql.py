"""Queries on an SQLite file's own tables (a GeoPackage's), read-only, for what GDAL's
drivers do not report."""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = [
    "RTREE_SQL",
    "SQLITE_BIG",
    "SQLITE_CATALOGUE",
    "TILE_COLUMNS",
    "TILE_EDGE",
    "sqlite_catalogue",
    "GpkgCatalogue",
    "gpkg_catalogue",
    "gpkg_rows",
    "levels_said",
    "quoted",
    "rows_batch",
    "sqlite_rows",
    "table_values",
]

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
    # Tiles GDAL does not open, as (table, why): GDAL finds a raster table only through
    # gpkg_contents, and reads only the zoom levels gpkg_tile_matrix lists for it, within
    # the bounds gpkg_contents gives. One statement on either table shows the tiles to
    # whoever receives the file.
    unread_tiles: list[tuple[str, str]] = field(default_factory=list)


def gpkg_catalogue(source: Path | sqlite3.Connection) -> GpkgCatalogue:
    """The GeoPackage's raster tables, metadata documents and tiles GDAL does not open,
    read on one connection (opening one costs more than the queries): the file at a path
    opened for them, or a connection open on it, which is left open; a table that is not
    there lists nothing. Only the catalogue and the tile tables' keys are read, no tile."""
    if isinstance(source, sqlite3.Connection):
        # Read as text, as on a connection of its own (the shared one hands text over as
        # bytes), whatever a column holds.
        factory, source.text_factory = source.text_factory, str
        try:
            return _catalogue(source)
        finally:
            source.text_factory = factory
    try:
        db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return GpkgCatalogue()
    with closing(db):
        return _catalogue(db)


def _catalogue(db: sqlite3.Connection) -> GpkgCatalogue:
    contents = _rows(db, "SELECT table_name, data_type FROM gpkg_contents")
    documents = _rows(db, "SELECT metadata FROM gpkg_metadata")
    rasters = sorted(
        str(name) for name, kind in contents if str(kind).lower() not in _FEATURE_TYPES
    )
    return GpkgCatalogue(
        raster_tables=rasters,
        metadata_documents=[str(row[0]) for row in documents if row and row[0]],
        unread_tiles=_unread_tiles(db, rasters),
    )


# The columns that make a table one of tiles, for GDAL and for the GeoPackage standard.
TILE_COLUMNS = frozenset({"zoom_level", "tile_column", "tile_row", "tile_data"})


def _hidden_tile_tables(db: sqlite3.Connection, rasters: list[str]) -> list[tuple[str, str]]:
    """Tables of tiles that gpkg_contents does not list as rasters: a table shaped like
    one, or one the tile matrix tables name. GDAL does not open them, yet putting one row
    back in gpkg_contents does."""
    tables = [
        str(n)
        for (n,) in _rows(db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    ]
    named = {
        str(n).lower()
        for catalogue in ("gpkg_tile_matrix_set", "gpkg_tile_matrix")
        for (n,) in _rows(db, f"SELECT DISTINCT table_name FROM {catalogue}")
    }
    registered = {r.lower() for r in rasters}
    shaped = _tile_shaped(db)
    hidden = []
    for table in tables:
        if table.lower() in registered:
            continue
        if table.lower() in named:
            hidden.append(
                (
                    table,
                    "a table the tile matrix names that gpkg_contents does not list as raster data",
                )
            )
        elif table in shaped if shaped is not None else _has_tile_columns(db, table):
            hidden.append(
                (table, "a table of tiles that gpkg_contents does not list as raster data")
            )
    return hidden


# Every table's columns in one statement (one PRAGMA a table costs more than its answer).
_TILE_NAMES = ", ".join(f"'{name}'" for name in sorted(TILE_COLUMNS))
_TILE_SHAPED = f"""
    SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
    WHERE m.type IN ('table', 'view') AND lower(c.name) IN ({_TILE_NAMES})
    GROUP BY m.name HAVING count(DISTINCT lower(c.name)) = {len(TILE_COLUMNS)}
"""


def _tile_shaped(db: sqlite3.Connection) -> set[str] | None:
    """The tables and views with the columns of a table of tiles; None where one table's
    columns cannot be listed (a view of a table not there), which fails the statement:
    then each table is asked alone."""
    try:
        return {str(name) for (name,) in db.execute(_TILE_SHAPED).fetchall()}
    except sqlite3.Error:
        return None


def _has_tile_columns(db: sqlite3.Connection, table: str) -> bool:
    return TILE_COLUMNS <= {
        str(c[1]).lower() for c in _rows(db, f"PRAGMA table_info({quoted(table)})")
    }


# GDAL's own conditions on a gpkg_tile_matrix row, opening read-only: a level outside
# them, or without tiles, or past the 100 finest, is not opened.
_LISTED_LEVELS = """
    SELECT zoom_level, pixel_x_size, pixel_y_size, tile_width, tile_height
    FROM gpkg_tile_matrix tm
    WHERE table_name = ? AND zoom_level >= 0 AND zoom_level <= 65536
    AND pixel_x_size > 0 AND pixel_y_size > 0
    AND tile_width >= 1 AND tile_width <= 65536 AND tile_height >= 1 AND tile_height <= 65536
    AND matrix_width >= 1 AND matrix_height >= 1
    AND EXISTS (SELECT 1 FROM {table} WHERE zoom_level = tm.zoom_level)
    ORDER BY zoom_level DESC LIMIT 100
"""
_SHOWN_LEVELS = 10


def _unread_tiles(db: sqlite3.Connection, rasters: list[str]) -> list[tuple[str, str]]:
    """Tiles GDAL does not open, as (table, why): tables of tiles it is not told are
    rasters, and, in the raster tables, tiles at levels it does not read or outside the
    extent it opens. Only the tables' keys are read (their index), no tile."""
    unread = _hidden_tile_tables(db, rasters)
    for table in rasters:
        levels = _rows(db, _LISTED_LEVELS.format(table=quoted(table)), (table,))
        for why in (_unlisted_levels(db, table, levels), _tiles_outside(db, table, levels)):
            if why:
                unread.append((table, why))
    return unread


def _unlisted_levels(
    db: sqlite3.Connection, table: str, levels: list[tuple[Any, ...]]
) -> str | None:
    """The zoom levels a raster table has tiles at that GDAL does not read (it opens the
    finest level listed, and the other ones listed as its overviews); None when none."""
    listed = tuple(row[0] for row in levels)
    other = f"zoom_level NOT IN ({', '.join('?' * len(listed))})" if listed else "1"
    unlisted = _rows(
        db,
        f"SELECT DISTINCT zoom_level FROM {quoted(table)} WHERE zoom_level IS NULL "
        f"OR {other} ORDER BY zoom_level LIMIT {_SHOWN_LEVELS + 1}",
        listed,
    )
    if not unlisted:
        return None
    return (
        f"tiles at {levels_said([row[0] for row in unlisted])} that gpkg_tile_matrix does not list"
    )


def _tiles_outside(db: sqlite3.Connection, table: str, levels: list[tuple[Any, ...]]) -> str | None:
    """The zoom levels a raster table has tiles at wholly outside the extent GDAL opens
    (gpkg_contents' bounds, else the tile matrix set's); None when none. Widening the
    bounds in gpkg_contents shows them."""
    window = _rows(
        db,
        "SELECT c.min_x, c.min_y, c.max_x, c.max_y, s.min_x, s.min_y, s.max_x, s.max_y "
        "FROM gpkg_contents c, gpkg_tile_matrix_set s "
        "WHERE c.table_name = ? AND s.table_name = ?",
        (table, table),
    )
    if not window:
        return None  # GDAL cannot open the table: it is named as unread whole
    contents, matrix_set = window[0][:4], window[0][4:]
    # As GDAL reads them: text as a C atof would, the contents' bounds when all four are
    # given and make a box.
    tms_min_x, _, _, tms_max_y = (_atof(v) for v in matrix_set)
    min_x, min_y, max_x, max_y = (_atof(v) for v in matrix_set)
    if None not in contents:
        c = [_atof(v) for v in contents]
        if c[0] < c[2] and c[1] < c[3]:
            min_x, min_y, max_x, max_y = c
    outside = []
    for zoom, pixel_x, pixel_y, tile_width, tile_height in levels:
        try:
            span_x, span_y = float(tile_width) * float(pixel_x), float(tile_height) * float(pixel_y)
            # The columns and rows of the tiles that overlap the extent at all.
            first_col = math.floor((min_x - tms_min_x) / span_x + TILE_EDGE)
            last_col = math.ceil((max_x - tms_min_x) / span_x - TILE_EDGE) - 1
            first_row = math.floor((tms_max_y - max_y) / span_y + TILE_EDGE)
            last_row = math.ceil((tms_max_y - min_y) / span_y - TILE_EDGE) - 1
        except (ValueError, OverflowError, TypeError, ZeroDivisionError):
            outside.append(zoom)  # no extent GDAL could place the level's tiles in
            continue
        keys = tuple(
            max(min(k, SQLITE_BIG), -SQLITE_BIG) for k in (first_col, last_col, first_row, last_row)
        )
        if _rows(
            db,
            f"SELECT 1 FROM {quoted(table)} WHERE zoom_level = ? AND (tile_column < ? "
            "OR tile_column > ? OR tile_row < ? OR tile_row > ?) LIMIT 1",
            (zoom, *keys),
        ):
            outside.append(zoom)
    if not outside:
        return None
    return f"tiles at {levels_said(sorted(outside))} outside the extent GDAL opens"


TILE_EDGE = 1e-9  # of a tile: a tile that only touches the extent's edge is outside it
SQLITE_BIG = 1 << 62  # SQLite's integers end at 2**63


def _atof(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def levels_said(levels: Sequence[Any]) -> str:
    """Zoom levels in words, the first ten of them."""
    shown = ", ".join(str(level) for level in levels[:_SHOWN_LEVELS])
    more = " and more" if len(levels) > _SHOWN_LEVELS else ""
    return f"zoom level{'s' if len(levels) > 1 else ''} {shown}{more}"


def quoted(name: str) -> str:
    """An SQL identifier: the name in double quotes, its own doubled."""
    return '"' + name.replace('"', '""') + '"'


def _rows(db: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.Error:
        return []


def table_values(db: sqlite3.Connection, table: str, batch_size: int) -> Iterator[pa.RecordBatch]:
    """Every row of an SQLite table as stored, batch by batch, read on ``db``: each
    column's text and blobs as bytes, with its numbers written out, or its numbers as
    floats where the batch holds no text or blob in it; nulls as null. SQLite keeps any
    value in any column, and GDAL reads a column it is not told is geometry as text,
    mangling the blobs it holds; here the bytes are those in the file.

    Raises
    ------
    sqlite3.Error
        The table cannot be read.
    """
    cursor = db.execute(f"SELECT * FROM {quoted(table)}")
    names = [str(d[0]) for d in cursor.description]
    while rows := cursor.fetchmany(batch_size):
        yield rows_batch(names, rows)


def rows_batch(names: list[str], rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    """Rows SQLite handed over, as ``table_values`` gives them."""
    columns = [_column([row[i] for row in rows]) for i in range(len(names))]
    return pa.RecordBatch.from_arrays(columns, names=names)


def _column(values: list[object]) -> pa.Array:
    """One column of a batch: numbers as floats where the batch holds nothing else (nulls
    aside), otherwise bytes (numbers among text or blobs written out)."""
    numbers = [float(v) if isinstance(v, int | float) else None for v in values]
    if numbers.count(None) == values.count(None) < len(values):
        return pa.array(numbers, pa.float64())  # ints past 2**53 rounded, as any reader does
    return pa.array([_as_bytes(v) for v in values], type=pa.binary())


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, int | float):
        return repr(value).encode()  # as it reads back: a number can be one axis of a position
    return None


# The tables an SQLite database (SpatiaLite's above all) keeps about itself, which GDAL
# lists only when asked for every table: their column names (``geometry_type``,
# ``extent_min_x``) say nothing of positions kept, though their values are still read.
SQLITE_CATALOGUE = frozenset(
    name.lower()
    for name in (
        "sqlite_sequence", "sqlite_stat1", "sqlite_stat4", "geometry_columns",
        "geometry_columns_auth", "geometry_columns_field_infos",
        "geometry_columns_statistics", "geometry_columns_time", "geom_cols_ref_sys",
        "spatial_ref_sys", "spatial_ref_sys_all", "spatial_ref_sys_aux",
        "spatialite_history", "sql_statements_log", "data_licenses", "SpatialIndex",
        "ElementaryGeometries", "KNN", "KNN2", "vector_layers", "vector_layers_auth",
        "vector_layers_field_infos", "vector_layers_statistics",
        "views_geometry_columns", "views_geometry_columns_auth",
        "views_geometry_columns_field_infos", "views_geometry_columns_statistics",
        "virts_geometry_columns", "virts_geometry_columns_auth",
        "virts_geometry_columns_field_infos", "virts_geometry_columns_statistics",
    )
)  # fmt: skip


def sqlite_catalogue(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The tables of the SQLite database at ``path`` that it keeps about itself, lower
    case: ``SQLITE_CATALOGUE``'s, and each R*Tree spatial index with its shadow tables;
    and, of those, the shadow tables of each layer's SpatiaLite R*Tree
    (``idx_<table>_<column>``), which ``measure/leaks/gpkg_boxes.py`` walks node by node
    with its features: their blobs are the tree's nodes, not values to read. Another
    R*Tree's are read as any catalogue table's values."""
    rtrees = [
        str(name).lower()
        for name, sql in gpkg_rows(path, "SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if RTREE_SQL.match(str(sql or ""))
    ]
    shadows = {f"{name}_{part}" for name in rtrees for part in ("node", "parent", "rowid")}
    indexes = {
        f"idx_{table}_{column}".lower()
        for table, column in gpkg_rows(
            path, "SELECT f_table_name, f_geometry_column FROM geometry_columns "
            "WHERE spatial_index_enabled IS NOT NULL"
        )
    }  # fmt: skip
    walked = {
        f"{name}_{part}" for name in indexes & set(rtrees) for part in ("node", "parent", "rowid")
    }
    return SQLITE_CATALOGUE | set(rtrees) | shadows, frozenset(walked)


# How SQLite writes the statement that made an R*Tree virtual table (its spatial index).
RTREE_SQL = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\s+[^()]*?\bUSING\s+rtree(_i32)?\s*\(", re.I)
