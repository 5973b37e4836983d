"""The tables of a GeoPackage that GDAL does not list, read as tables all the same.

GDAL's GeoPackage driver, even when asked for every table (``LIST_ALL_TABLES``), passes
over each table whose name starts with ``gpkg`` or ``rtree``: the standard's own tables
and the layers' spatial indexes. A sender can name a table of precise positions so
(``gpkg_survey``, an R*Tree ``rtree_ghost``) and no reader of the layers sees it, while
anyone who opens the file with SQLite does. So every table SQLite holds that GDAL did not
list is a table without geometry here, read as any other (``OgrVectorSource`` reads a
GeoPackage's tables with SQLite), except:

- each layer's own R*Tree and the shadow tables of every R*Tree: the layer's tree is
  walked node by node with its features (``measure/leaks/gpkg_boxes.py``), another is
  read through its virtual table, whose storage its shadow tables are;
- tables of tiles, read as rasters or said to be tiles GDAL does not open
  (``gpkg_sql.gpkg_catalogue``).

The standard's own tables (``GPKG_CATALOGUE``) are the file's catalogue: the names of the
columns the standard gives them say nothing of positions kept (``min_x``, ``z``), and a
column it does not give them is read as any table's. Their numbers are read as any
table's too, except where they describe what the file holds and so read like positions
by nature (``_DESCRIBING``: a layer's extent in ``gpkg_contents``, a tile matrix's pixel
sizes, the CRSs in use): there, only while every row describes a table (or CRS) the file
holds. A row that describes nothing is a place to keep numbers in; GDAL passes over it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field

import pyarrow as pa

from compliance.readers.gpkg_sql import RTREE_SQL, TILE_COLUMNS, quoted, rows_batch
from compliance.readers.kept_boxes import as_text
from compliance.readers.sources import NO_GEOMETRY, LayerInfo
from compliance.text_forms import may_hold_geometry

__all__ = ["GPKG_CATALOGUE", "HiddenTables", "hidden_tables"]

# The GeoPackage standard's tables (1.4, with its registered extensions), GDAL's own
# and SQLite's, each with the columns they are given there.
GPKG_CATALOGUE: dict[str, frozenset[str]] = {
    table: frozenset(columns.split())
    for table, columns in {
        "gpkg_spatial_ref_sys": "srs_name srs_id organization organization_coordsys_id "
        "definition description definition_12_063 epoch",
        "gpkg_contents": "table_name data_type identifier description last_change min_x "
        "min_y max_x max_y srs_id",
        "gpkg_ogr_contents": "table_name feature_count",
        "gpkg_geometry_columns": "table_name column_name geometry_type_name srs_id z m",
        "gpkg_tile_matrix_set": "table_name srs_id min_x min_y max_x max_y",
        "gpkg_tile_matrix": "table_name zoom_level matrix_width matrix_height tile_width "
        "tile_height pixel_x_size pixel_y_size",
        "gpkg_extensions": "table_name column_name extension_name definition scope",
        "gpkg_data_columns": "table_name column_name name title description mime_type "
        "constraint_name",
        "gpkg_data_column_constraints": "constraint_name constraint_type value min "
        "min_is_inclusive max max_is_inclusive description",
        "gpkg_metadata": "id md_scope md_standard_uri mime_type metadata",
        "gpkg_metadata_reference": "reference_scope table_name column_name row_id_value "
        "timestamp md_file_id md_parent_id",
        "gpkg_2d_gridded_coverage_ancillary": "id tile_matrix_set_name datatype scale "
        "offset precision data_null grid_cell_encoding uom field_name quantity_definition",
        "gpkg_2d_gridded_tile_ancillary": "id tpudt_name tpudt_id scale offset min max mean "
        "std_dev",
        "gpkgext_relations": "id base_table_name base_primary_column related_table_name "
        "related_primary_column relation_name mapping_table_name",
        "sqlite_sequence": "name seq",
        "sqlite_stat1": "tbl idx stat",
        "sqlite_stat4": "tbl idx neq nlt ndlt sample",
    }.items()
}
_SHADOWS = ("node", "parent", "rowid")
# The geometry type names of ``gpkg_geometry_columns`` (the standard's core and its
# non-linear geometry extension).
_GEOMETRY_TYPE_NAMES = frozenset(
    """GEOMETRY POINT LINESTRING POLYGON MULTIPOINT MULTILINESTRING MULTIPOLYGON
    GEOMETRYCOLLECTION CIRCULARSTRING COMPOUNDCURVE CURVEPOLYGON MULTICURVE MULTISURFACE
    CURVE SURFACE POLYHEDRALSURFACE TIN TRIANGLE""".split()
)
_HELD = "(SELECT lower(name) FROM sqlite_master WHERE type IN ('table', 'view'))"
# The catalogue tables whose numbers describe what the file holds, each with what makes a
# row describe something held: the table it names is there (or its CRS is one in use,
# or one of the three the standard requires).
_DESCRIBING = {
    "gpkg_contents": f"lower(table_name) IN {_HELD}",
    "gpkg_tile_matrix_set": f"lower(table_name) IN {_HELD}",
    "gpkg_tile_matrix": f"lower(table_name) IN {_HELD}",
    "gpkg_2d_gridded_tile_ancillary": f"lower(tpudt_name) IN {_HELD}",
    "gpkg_2d_gridded_coverage_ancillary": f"lower(tile_matrix_set_name) IN {_HELD}",
    "gpkg_spatial_ref_sys": "srs_id IN (-1, 0, 4326) OR srs_id IN (SELECT srs_id FROM "
    "gpkg_contents UNION SELECT srs_id FROM gpkg_geometry_columns)",
    "gpkg_ogr_contents": f"lower(table_name) IN {_HELD}",
    # A row per column of a table held (its key is the pair; the column must be there).
    "gpkg_geometry_columns": f"lower(table_name) IN {_HELD} AND EXISTS (SELECT 1 FROM "
    "pragma_table_info(table_name) p WHERE lower(p.name) = lower(column_name))",
    # SQLite's own: a row per table held (it has no key: a second row is a place).
    "sqlite_sequence": f"lower(name) IN {_HELD} AND rowid = (SELECT min(rowid) FROM "
    "sqlite_sequence s WHERE s.name = sqlite_sequence.name)",
}


# A table of at most this many rows is read whole as it is found (most catalogue tables
# hold a row or two): one statement for it instead of two.
_READ_AT_ONCE = 64


@dataclass
class HiddenTables:
    layers: list[LayerInfo] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # tables SQLite cannot read either
    rows: dict[str, pa.RecordBatch] = field(default_factory=dict)  # small tables, read whole


def hidden_tables(
    db: sqlite3.Connection, listed: Collection[str], read: Collection[str]
) -> HiddenTables:
    """The tables of the GeoPackage open on ``db`` that GDAL did not list (``listed``, its
    layers' names) and no other check reads (``read``: its raster tables, and the R*Trees
    the layers' index check walks), as tables without geometry; and, said in words, those
    SQLite cannot read (a virtual table of a module it lacks)."""
    found = HiddenTables()
    try:
        tables = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        master = [(as_text(name), as_text(sql or "")) for name, sql in tables.fetchall()]
    except sqlite3.Error as exc:
        found.unread.append(f"the tables of the file cannot be listed ({exc})")
        return found
    rtrees = [name for name, sql in master if RTREE_SQL.match(sql)]
    skipped = {n.lower() for n in [*listed, *read]}
    skipped |= {f"{name}_{part}".lower() for name in rtrees for part in _SHADOWS}
    hidden = [name for name, _ in master if name.lower() not in skipped]
    describing = _all_describe(db, [n for n in hidden if n.lower() in _DESCRIBING])
    for name in hidden:
        _add(db, name, found, name in describing)
    return found


def _add(db: sqlite3.Connection, name: str, found: HiddenTables, describing: bool) -> None:
    """One hidden table as a table without geometry (read whole when it is small), or as
    unread when SQLite cannot read it either."""
    try:  # a virtual table of a module SQLite lacks fails here
        cursor = db.execute(f"SELECT * FROM {quoted(name)}")
        columns = [str(d[0]) for d in cursor.description]
        rows = cursor.fetchmany(_READ_AT_ONCE + 1)
    except sqlite3.Error as exc:
        found.unread.append(f"{name}: a table GDAL does not list that SQLite cannot read ({exc})")
        return
    if TILE_COLUMNS <= {c.lower() for c in columns}:
        return  # tiles: read as a raster or said to be unread (``gpkg_catalogue``)
    spec = GPKG_CATALOGUE.get(name.lower())
    if len(rows) <= _READ_AT_ONCE:
        if spec is not None and _nothing_held(columns, rows, spec, describing):
            return
        found.rows[name] = rows_batch(columns, rows)
    found.layers.append(
        LayerInfo(
            name=name,
            crs=None,
            geometry_type=NO_GEOMETRY,
            feature_count=None,
            fields=columns,
            total_bounds=None,
            text_fields=columns,  # SQLite keeps text in any column
            catalogue=spec is not None,
            catalogue_columns=frozenset(c for c in columns if c.lower() in spec)
            if spec is not None
            else None,
            catalogue_values=describing,
            unlisted=True,
        )
    )


def _all_describe(db: sqlite3.Connection, tables: list[str]) -> set[str]:
    """Those of ``tables`` (of ``_DESCRIBING``) of which every row describes something the
    file holds, asked in one statement; none when it cannot be asked (a table the
    standard needs is missing)."""
    if not tables:
        return set()
    counts = ", ".join(
        f"(SELECT count(*) FROM {quoted(t)} WHERE NOT coalesce({_DESCRIBING[t.lower()]}, 0))"
        for t in tables
    )
    try:
        row = db.execute(f"SELECT {counts}").fetchone()
    except sqlite3.Error:
        return set()
    return {t for t, n in zip(tables, row, strict=True) if n == 0}


def _nothing_held(
    columns: list[str], rows: list[tuple[object, ...]], spec: frozenset[str], describing: bool
) -> bool:
    """Whether a small catalogue table, read whole, holds nothing a position could be
    read from: only the standard's columns, no number that counts (each row describes
    a table held, or the table holds no number), and no value that may be a geometry.
    It is then not handed on at all (reading it as a table costs a few times as much).

    Values are looked at as the table's reading would take them (``rows_batch``): a
    column of numbers alone is numbers, not their digits written out (a float's digits
    can look like hex WKB), and a geometry type name in ``gpkg_geometry_columns`` is
    the name the standard gives that column, not a geometry."""
    if any(c.lower() not in spec for c in columns):
        return False
    values = [v for row in rows for v in row]
    if not describing and any(isinstance(v, int | float) for v in values):
        return False
    texts = []
    for i, column in enumerate(columns):
        held = [row[i] for row in rows if row[i] is not None]
        if not any(isinstance(v, str | bytes) for v in held):
            continue  # numbers (of a table whose rows describe): read as numbers
        typed = column.lower() == "geometry_type_name"
        texts += [
            v if isinstance(v, bytes) else str(v).encode()
            for v in held
            if not (typed and as_text(v).upper() in _GEOMETRY_TYPE_NAMES)
        ]
    return not may_hold_geometry(texts)
