"""Precise positions kept in a table without geometry beside coarse layers.

The move: snap a layer's points to 100 m and put every precise position in a plain table
of the same GeoPackage (or SQLite database), in columns of innocent names (``p``,
``q``), as longitude and latitude, as eastings and northings, as integers of 1e-7
degrees, or written in one text column. No feature is drawn from the table, so nothing
measures it, and a rule that goes by column names misses it.

Claim under test: such a table is held for review, its columns named; a table of
numbers that are not positions there (readings, counts, positions of another city, one
axis alone) is not.

Truth: the positions are drawn here at random and carried between CRSs with pyproj; the
tables are written with pyogrio (GDAL) and with sqlite3 directly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import held, write_layer

SEOUL, BUSAN = (126.905, 37.552), (129.075, 35.180)
EPSG = 5186  # Korea 2000 / Central Belt 2010


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _positions(place: tuple[float, float], n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Precise points about 50 m apart near ``place``, in EPSG:5186, and their lon/lat."""
    x0, y0 = Transformer.from_crs(4326, EPSG, always_xy=True).transform(*place)
    lattice = np.array([(i % 6, i // 6) for i in range(n)], dtype=float) * 50.0
    xy = np.array([x0, y0]) + lattice + np.random.default_rng(31).uniform(-40, 40, (n, 2))
    lonlat = np.column_stack(Transformer.from_crs(EPSG, 4326, always_xy=True).transform(*xy.T))
    return xy, lonlat


def _with_table(path: Path, table: dict[str, object], by: str) -> Path:
    """The coarse layer ``sites`` and a plain table ``survey_log`` beside it."""
    xy, _ = _positions(SEOUL)
    write_layer(path, shapely.points(np.round(xy / 100.0) * 100.0), EPSG, {})
    if by == "gdal":
        pyogrio.write_arrow(
            pa.table({"k": list(range(len(xy))), **table}), path, layer="survey_log", append=True
        )  # fmt: skip
    else:
        with sqlite3.connect(path) as db:
            names = list(table)
            db.execute(f"CREATE TABLE survey_log (k INTEGER, {', '.join(names)})")
            rows = zip(range(len(xy)), *(np.asarray(table[n]).tolist() for n in names), strict=True)
            db.executemany(f"INSERT INTO survey_log VALUES (?{', ?' * len(names)})", rows)
            if path.suffix == ".gpkg":  # registered, as GDAL registers a table it writes
                db.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
                    "VALUES ('survey_log', 'attributes', 'survey_log')"
                )
    return path


def _table_columns(checker: Checker, path: Path) -> list[str]:
    verdict = checker.check(path)
    (table,) = [layer for layer in verdict.profile.layers if layer.name == "survey_log"]
    if table.coordinate_columns:
        assert held(verdict)
        assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    return table.coordinate_columns or []


def _precise(form: str) -> dict[str, object]:
    xy, lonlat = _positions(SEOUL)
    return {
        "lon/lat": {"p": lonlat[:, 0], "q": lonlat[:, 1]},
        "eastings": {"p": xy[:, 0], "q": xy[:, 1]},
        "1e-7 degrees": {"p": np.round(lonlat[:, 0] * 1e7).astype(np.int64),
                         "q": np.round(lonlat[:, 1] * 1e7).astype(np.int64)},
        "text": {"note": [f"fix {b:.6f} {a:.6f}" for a, b in lonlat]},
    }[form]  # fmt: skip


@pytest.mark.parametrize("by", ["gdal", "sqlite"])
@pytest.mark.parametrize("form", ["lon/lat", "eastings", "1e-7 degrees", "text"])
def test_positions_in_a_plain_table_beside_the_layer_hold_the_file(tmp_path, checker, by, form):
    table = _precise(form)
    path = _with_table(tmp_path / "sites.gpkg", table, by)
    assert _table_columns(checker, path) == list(table)


@pytest.mark.parametrize("rows", ["one at 0, 0", "one far off", "as many again anywhere"])
@pytest.mark.parametrize("form", ["lon/lat", "eastings", "text"])
def test_positions_among_rows_of_numbers_anywhere_hold_the_file(tmp_path, checker, form, rows):
    """The positions, and rows whose numbers lie anywhere else (one at 0, 0; one a
    million units off; thirty drawn at random): each column's values then no longer all
    lie where the features are, but the rows of the positions still do."""
    table = {k: list(np.asarray(v).tolist()) for k, v in _precise(form).items()}
    rng = np.random.default_rng(33)
    extra = {"one at 0, 0": 1, "one far off": 1, "as many again anywhere": 30}[rows]
    for values in table.values():
        if form == "text":
            junk = [f"fix {a:.6f} {b:.6f}" for a, b in rng.uniform(-90, 90, (extra, 2))]
        elif rows == "one at 0, 0":
            junk = [0.0]
        elif rows == "one far off":
            junk = [1e6]
        else:
            junk = rng.uniform(-1e6, 1e6, extra).tolist()
        values += junk[:extra] if form != "text" or rows != "one at 0, 0" else ["fix 0 0"]
    xy, _ = _positions(SEOUL)
    path = write_layer(tmp_path / "sites.gpkg", shapely.points(np.round(xy / 100) * 100), EPSG, {})
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE survey_log (k INTEGER, {', '.join(table)})")
        db.executemany(
            f"INSERT INTO survey_log VALUES (?{', ?' * len(table)})",
            [(k, *row) for k, row in enumerate(zip(*table.values(), strict=True))],
        )
    assert _table_columns(checker, path) == list(table)


def test_a_plain_table_in_a_sqlite_database_is_met_too(tmp_path, checker):
    table = _precise("lon/lat")
    path = tmp_path / "sites.sqlite"
    xy, _ = _positions(SEOUL)
    write_layer(path, shapely.points(np.round(xy / 100.0) * 100.0), EPSG, {})
    pyogrio.write_arrow(
        pa.table({"k": list(range(len(xy))), **table}), path, layer="survey_log", append=True
    )  # fmt: skip
    assert _table_columns(checker, path) == ["p", "q"]


@pytest.mark.parametrize(
    "what",
    ["readings", "another city", "one axis", "counts and ids"],
)
def test_numbers_that_are_no_positions_there_do_not_hold_the_file(tmp_path, checker, what):
    rng = np.random.default_rng(32)
    _, busan = _positions(BUSAN)
    _, seoul = _positions(SEOUL)
    table = {
        "readings": {"temp": rng.uniform(10, 30, 30), "hum": rng.uniform(20, 90, 30)},
        "another city": {"p": busan[:, 0], "q": busan[:, 1]},
        "one axis": {"p": seoul[:, 0], "q": rng.uniform(0, 1, 30)},
        "counts and ids": {"n": np.arange(30) * 7, "ref": 1_000_000 + np.arange(30) * 7919},
    }[what]
    path = _with_table(tmp_path / "sites.gpkg", table, "gdal")
    assert _table_columns(checker, path) == []


@pytest.mark.parametrize("payload", ["positions", "outlines as WKT"])
def test_an_unregistered_table_beside_a_registered_one_is_read(tmp_path, checker, payload):
    """GDAL lists a GeoPackage's unregistered tables only while no table is registered as
    attributes: with one registered (harmless notes), the other would go unread."""
    path = _with_table(tmp_path / "sites.gpkg", {"remark": ["ok"] * 30}, "gdal")
    xy, lonlat = _positions(SEOUL)
    with sqlite3.connect(path) as db:
        if payload == "positions":
            db.execute("CREATE TABLE survey_log_2 (k INTEGER, p REAL, q REAL)")
            db.executemany("INSERT INTO survey_log_2 VALUES (?, ?, ?)",
                           [(i, x, y) for i, (x, y) in enumerate(lonlat.tolist())])  # fmt: skip
        else:
            db.execute("CREATE TABLE survey_log_2 (k INTEGER, note TEXT)")
            outlines = [shapely.box(x, y, x + 7.5, y + 4.2).wkt for x, y in xy.tolist()]
            db.executemany("INSERT INTO survey_log_2 VALUES (?, ?)", list(enumerate(outlines)))
    assert "survey_log_2" not in pyogrio.list_layers(path)[:, 0]  # GDAL, as it opens by default
    verdict = checker.check(path)
    (table,) = [layer for layer in verdict.profile.layers if layer.name == "survey_log_2"]
    assert table.coordinate_columns == (["p", "q"] if payload == "positions" else ["note"])
    assert held(verdict)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


def test_a_spatialite_databases_own_catalogue_does_not_hold_it(tmp_path, checker):
    """SpatiaLite keeps some thirty tables about itself (CRS definitions, statistics,
    columns named ``geometry_type`` or ``extent_min_x``): read, not taken for positions."""
    xy, _ = _positions(SEOUL)
    path = tmp_path / "sites.sqlite"
    table = pa.table({"id": list(range(len(xy))), "geometry": shapely.to_wkb(shapely.points(xy))})
    pyogrio.write_arrow(
        table, path, layer="sites", driver="SQLite", geometry_name="geometry",
        geometry_type="Point", crs=f"EPSG:{EPSG}", dataset_options={"SPATIALITE": "YES"},
    )  # fmt: skip
    verdict = checker.check(path)
    names = [layer.name for layer in verdict.profile.layers]
    assert names[0] == "sites" and {"spatial_ref_sys", "geometry_columns"} <= set(names)
    assert not held(verdict)
    assert not [note for note in verdict.profile.notes if "spatial_ref_sys" in note]


@pytest.mark.parametrize(
    ("place", "held_too"),
    [
        pytest.param((0.0, 51.5), True, id="1e-7 degrees across Greenwich"),
        pytest.param((32.5, 0.0), True, id="1e-7 degrees across the equator"),
        pytest.param((0.02, 0.02), False, id="ids and counts at null island"),
    ],
)
def test_large_units_around_zero_pair_only_with_the_other_axis(tmp_path, checker, place, held_too):
    """On an axis whose range holds zero, any small count divided by 1e7 lands inside
    it. Integers of 1e-7 degrees count there when the other axis takes the same unit
    away from zero; at null island (both axes around zero) small integers never do."""
    rng = np.random.default_rng(33)
    lonlat = np.array(place) + rng.uniform(-0.03, 0.03, (30, 2))
    path = tmp_path / "sites.gpkg"
    write_layer(path, shapely.points(np.round(lonlat, 3)), 4326, {})
    if held_too:
        table = {"p": np.round(lonlat[:, 0] * 1e7).astype(np.int64),
                 "q": np.round(lonlat[:, 1] * 1e7).astype(np.int64)}  # fmt: skip
    else:
        table = {"srid": 2000 + 37 * np.arange(30), "count": 9000 + 11 * np.arange(30)}
    pyogrio.write_arrow(
        pa.table({"k": list(range(30)), **table}), path, layer="survey_log", append=True
    )
    assert _table_columns(checker, path) == (list(table) if held_too else [])
