"""Precise positions in GeoPackage tables GDAL does not list.

The move: snap a layer's points to 100 m and put every precise position in a table named
so that GDAL's GeoPackage driver passes over it even when asked for every table: a name
starting with ``gpkg`` (``gpkg_survey``, ``GPKG_Survey``) or ``rtree`` (``rtreesurvey``),
an R*Tree virtual table of precise boxes named like a spatial index of no layer
(``rtree_ghost_geom``), columns added to one of the standard's own tables, or outlines
written as text in a column the standard gives such a table. No reader of the layers sees
any of them; anyone who opens the file with SQLite does.

Claim under test: each is held for review, its table and columns named; a table that
neither GDAL nor SQLite can read holds the verdict too; GeoPackages GDAL writes (several
layers in one place, an attribute table, a spatial index, metadata) come out as before,
their catalogue named nowhere.

Truth: the positions are drawn here at random and carried between CRSs with pyproj; the
tables are written with sqlite3; what GDAL lists is pyogrio's answer.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect
from compliance.readers.gpkg_hidden import hidden_tables
from tests.adversarial.attribute_layers import FINDING, write_layer

SEOUL = (126.905, 37.552)
EPSG = 5186  # Korea 2000 / Central Belt 2010
UNREAD = "MAPGATE-UNREAD-GEOMETRIES"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _positions(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Precise points about 50 m apart in Seoul, in EPSG:5186, and their lon/lat."""
    x0, y0 = Transformer.from_crs(4326, EPSG, always_xy=True).transform(*SEOUL)
    lattice = np.array([(i % 6, i // 6) for i in range(n)], dtype=float) * 50.0
    xy = np.array([x0, y0]) + lattice + np.random.default_rng(41).uniform(-40, 40, (n, 2))
    lonlat = np.column_stack(Transformer.from_crs(EPSG, 4326, always_xy=True).transform(*xy.T))
    return xy, lonlat


@pytest.fixture(scope="module")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer ``sites`` of the points snapped to 100 m, with its spatial index."""
    xy, _ = _positions()
    path = tmp_path_factory.mktemp("coarse") / "sites.gpkg"
    return write_layer(path, shapely.points(np.round(xy / 100.0) * 100.0), EPSG, {})


def _copy(coarse: Path, tmp_path: Path, statements: list[str], rows: list[tuple]) -> Path:
    """The coarse file with ``statements`` run on it, the last one once per row."""
    path = tmp_path / "trick.gpkg"
    shutil.copy(coarse, path)
    with closing(sqlite3.connect(path)) as db:
        for sql in statements[:-1]:
            db.execute(sql)
        db.executemany(statements[-1], rows)
        db.commit()
    return path


def _listed(path: Path) -> list[str]:
    return [str(name) for name in pyogrio.list_layers(path)[:, 0]]


def _held_for(verdict, table: str, columns: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert FINDING in {f.rule_id for f in verdict.findings}
    found = {la.name: la.coordinate_columns for la in verdict.profile.layers}
    assert found.get(table) == columns, found
    assert any("GDAL does not list" in note and table in note for note in verdict.profile.notes)


@pytest.mark.parametrize("table", ["gpkg_survey", "GPKG_Survey", "rtreesurvey", "gpkgext_log"])
@pytest.mark.parametrize("axes", ["lonlat", "metres"])
def test_positions_in_a_table_gdal_passes_over_hold_the_file(
    tmp_path, checker, coarse, table, axes
):
    xy, lonlat = _positions()
    values = lonlat if axes == "lonlat" else xy
    path = _copy(
        coarse,
        tmp_path,
        [f'CREATE TABLE "{table}" (k INTEGER PRIMARY KEY, p REAL, q REAL)',
         f'INSERT INTO "{table}" (p, q) VALUES (?, ?)'],
        [tuple(v) for v in values.tolist()],
    )  # fmt: skip
    assert _listed(path) == ["sites"]  # GDAL: the layer alone
    with closing(sqlite3.connect(path)) as db:
        assert db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == len(values)
    _held_for(checker.check(path), table, ["p", "q"])


def test_a_table_too_long_to_read_whole_as_found_is_read_all_the_same(tmp_path, checker, coarse):
    """Past the few rows read as the table is found, the rest stream as any table's (the
    layer's precise points, surveyed again and again: 420 rows)."""
    xy, _ = _positions()
    xy = np.tile(xy, (14, 1)) + np.random.default_rng(5).uniform(-1, 1, (14 * len(xy), 2))
    path = _copy(
        coarse,
        tmp_path,
        ['CREATE TABLE "gpkg_log" (k INTEGER PRIMARY KEY, note TEXT, p REAL, q REAL)',
         'INSERT INTO "gpkg_log" (note, p, q) VALUES (?, ?, ?)'],
        [("survey", x, y) for x, y in xy.tolist()],
    )  # fmt: skip
    _held_for(checker.check(path), "gpkg_log", ["p", "q"])


def test_an_rtree_of_precise_boxes_named_for_no_layer_holds_the_file(tmp_path, checker, coarse):
    xy, _ = _positions()
    path = _copy(
        coarse,
        tmp_path,
        ["CREATE VIRTUAL TABLE rtree_ghost_geom USING rtree(id, minx, maxx, miny, maxy)",
         "INSERT INTO rtree_ghost_geom VALUES (?, ?, ?, ?, ?)"],
        [(i + 1, x, x, y, y) for i, (x, y) in enumerate(xy.tolist())],
    )  # fmt: skip
    assert _listed(path) == ["sites"]
    verdict = checker.check(path)
    _held_for(verdict, "rtree_ghost_geom", ["minx", "maxx", "miny", "maxy"])
    # Its shadow tables are its storage, not tables of their own.
    assert not any(la.name.startswith("rtree_ghost_geom_") for la in verdict.profile.layers)


def test_columns_added_to_the_standard_s_own_table_hold_the_file(tmp_path, checker, coarse):
    _, lonlat = _positions()
    path = _copy(
        coarse,
        tmp_path,
        ["ALTER TABLE gpkg_extensions ADD COLUMN px REAL",
         "ALTER TABLE gpkg_extensions ADD COLUMN py REAL",
         "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
         "scope, px, py) VALUES ('sites', ?, 'x_note', 'none', 'read-write', ?, ?)"],
        [(f"c{i}", x, y) for i, (x, y) in enumerate(lonlat.tolist())],
    )  # fmt: skip
    _held_for(checker.check(path), "gpkg_extensions", ["px", "py"])


def test_outlines_as_text_in_a_column_the_standard_gives_hold_the_file(tmp_path, checker, coarse):
    xy, _ = _positions()
    outlines = shapely.to_wkt(shapely.buffer(shapely.points(xy), 5.0, quad_segs=2))
    path = _copy(
        coarse,
        tmp_path,
        ["CREATE TABLE gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT "
         "NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name "
         "TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name))",
         "INSERT INTO gpkg_data_columns (table_name, column_name, name, description) "
         "VALUES ('sites', ?, ?, ?)"],
        [(f"c{i}", f"c{i}", text) for i, text in enumerate(outlines.tolist())],
    )  # fmt: skip
    _held_for(checker.check(path), "gpkg_data_columns", ["description"])


def test_extents_of_tables_the_file_does_not_hold_hold_the_file(tmp_path, checker, coarse):
    """Rows of gpkg_contents naming no table (GDAL passes over them), each extent a
    precise point: the catalogue's numbers are its own only while each row describes a
    table the file holds."""
    xy, _ = _positions()
    path = _copy(
        coarse,
        tmp_path,
        ["INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, "
         "max_y, srs_id) VALUES (?, 'attributes', ?, ?, ?, ?, ?, 5186)"],
        [(f"gone{i}", f"gone{i}", x, y, x, y) for i, (x, y) in enumerate(xy.tolist())],
    )  # fmt: skip
    assert _listed(path) == ["sites"]
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    found = {la.name: la.coordinate_columns for la in verdict.profile.layers}
    assert set(found["gpkg_contents"] or []) >= {"min_x", "min_y"}, found


def test_catalogue_rows_for_columns_the_file_does_not_hold_hold_it(tmp_path, checker, coarse):
    """Rows of gpkg_geometry_columns naming tables that are not there, each CRS code and
    z flag an axis of a precise point in 1e-7 degrees: the catalogue's numbers are its
    own only where each row describes a column the file holds."""
    _, lonlat = _positions()
    path = _copy(
        coarse,
        tmp_path,
        ["INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, "
         "srs_id, z, m) VALUES (?, 'geom', 'POINT', ?, ?, 0)"],
        [(f"gone{i}", round(x * 1e7), round(y * 1e7)) for i, (x, y) in enumerate(lonlat.tolist())],
    )  # fmt: skip
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    found = {la.name: la.coordinate_columns for la in verdict.profile.layers}
    assert found.get("gpkg_geometry_columns") == ["srs_id", "z"], found


def test_range_constraints_of_precise_numbers_hold_the_file(tmp_path, checker, coarse):
    _, lonlat = _positions()
    path = _copy(
        coarse,
        tmp_path,
        ["CREATE TABLE gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
         "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, "
         "max NUMERIC, max_is_inclusive BOOLEAN, description TEXT)",
         "INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, min, "
         "min_is_inclusive, max, max_is_inclusive) VALUES (?, 'range', ?, 1, ?, 1)"],
        [(f"r{i}", x, y) for i, (x, y) in enumerate(lonlat.tolist())],
    )  # fmt: skip
    _held_for(checker.check(path), "gpkg_data_column_constraints", ["min", "max"])


def test_a_table_sqlite_cannot_read_holds_the_file(tmp_path, checker, coarse):
    path = tmp_path / "trick.gpkg"
    shutil.copy(coarse, path)
    with closing(sqlite3.connect(path)) as db:
        # A virtual table of a module no SQLite here has: written into the schema as a
        # tool with that module would have written it.
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "INSERT INTO sqlite_master VALUES ('table', 'gpkg_vault', 'gpkg_vault', 0, "
            "'CREATE VIRTUAL TABLE gpkg_vault USING vault(p, q)')"
        )
        db.execute(f"PRAGMA schema_version = {version + 1}")
        db.commit()
    assert _listed(path) == ["sites"]
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(
        u.startswith("gpkg_vault: a table GDAL does not list that SQLite cannot read")
        for u in verdict.profile.unread_geometries
    ), verdict.profile.unread_geometries


def test_geopackages_gdal_writes_are_as_before(tmp_path, checker):
    """Six layers in one place (their extents in gpkg_contents all within it), an
    attribute table, a spatial index and a metadata document: allowed, the layers named
    as GDAL lists them and the catalogue nowhere."""
    xy, _ = _positions()
    path = tmp_path / "city.gpkg"
    for k in range(6):
        layer = shapely.points(np.round(xy[k::6] / 100.0) * 100.0)
        table = pa.table({"id": list(range(len(layer))), "geometry": shapely.to_wkb(layer)})
        pyogrio.write_arrow(
            table, path, layer=f"l{k}", driver="GPKG", geometry_name="geometry",
            geometry_type="Point", crs=f"EPSG:{EPSG}", append=k > 0,
            layer_options={"DESCRIPTION": "surveyed 2024-05-01T12:30:00Z"},
        )  # fmt: skip
    pyogrio.write_arrow(
        pa.table({"k": [1, 2, 3], "note": ["a", "b", "c"]}), path, layer="log", append=True
    )
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM gpkg_contents").fetchone()[0] == 7
    verdict = checker.check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert [la.name for la in verdict.profile.layers] == [*(f"l{k}" for k in range(6)), "log"]
    assert verdict.profile.layer_count == 7
    assert not any("GDAL does not list" in note for note in verdict.profile.notes)
    assert "min_x" not in verdict.profile.fields


def test_outlines_in_place_of_geometry_type_names_hold_the_file(tmp_path, checker, coarse):
    """Each row of gpkg_geometry_columns describes a column the file holds (empty tables
    made for them: so its numbers are the catalogue's own), yet its geometry type name is
    an outline: a name of the standard's list is passed over, anything else is read for
    geometry."""
    xy, _ = _positions(12)
    outlines = shapely.to_wkt(shapely.buffer(shapely.points(xy), 5.0, quad_segs=2))
    path = _copy(
        coarse,
        tmp_path,
        [*(f"CREATE TABLE t{i} (fid INTEGER PRIMARY KEY, g BLOB)" for i in range(len(xy))),
         "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, "
         "srs_id, z, m) VALUES (?, 'g', ?, 5186, 0, 0)"],
        [(f"t{i}", text) for i, text in enumerate(outlines.tolist())],
    )  # fmt: skip
    _held_for(checker.check(path), "gpkg_geometry_columns", ["geometry_type_name"])


def test_catalogue_tables_that_only_describe_are_not_read_as_tables(coarse):
    """A file GDAL writes: its contents and geometry columns (each row about a table it
    holds, their numbers its extents and flags, the type a name of the standard's) are
    not handed on as tables; the CRS definitions are (WKT, read for geometry)."""
    with closing(sqlite3.connect(coarse)) as db:
        db.text_factory = bytes
        hidden = hidden_tables(db, ["sites"], ["rtree_sites_geom"])
    assert [layer.name for layer in hidden.layers] == ["gpkg_spatial_ref_sys"]
    assert not hidden.unread
