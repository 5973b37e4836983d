"""Precise positions written anywhere in an attribute's value, or as a list.

The move: points snapped to about 100 m, and each row's precise position written in an
attribute after numbers that are not it: four or more decimals first ("1000.5 2000.5
3000.5 4000.5 127.0451234 37.5123456"), the coarse position twice first, a varying
count of others first; or as a property's array (GeoJSON keeps ``[lon, lat]`` as a list,
which no text scan saw), its items in any order behind ids; or every position in one
row's value. The text scans read the first four numbers of a value and passed over
lists.

Claim under test: each holds the file for coordinates kept in a table, with the column
named, in GeoPackage, GeoJSON and GeoParquet, in degrees and in a projected CRS; a
plain table (no geometry) of such values too. Values whose numbers are no position
(prices, years, long ids) and arrays that repeat each row's own point are clean.

Truth: the positions are drawn here at random; eastings and northings are made by
pyproj here; what GDAL reads back is pyogrio's answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import FINDING, write_layer
from tests.adversarial.test_gpkg_unlisted_tables import EPSG, _positions

Row = Callable[[int, np.ndarray, np.ndarray], object]  # row, precise, coarse -> value


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _pairs(epsg: int) -> tuple[np.ndarray, np.ndarray]:
    """Precise positions and the same snapped (1e-3 degrees, or 100 m)."""
    xy, lonlat = _positions()
    if epsg == 4326:
        return lonlat, np.round(lonlat, 3)
    return xy, np.round(xy / 100.0) * 100.0


def _held(verdict, column: str) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.profile.layers[0].coordinate_columns == [column]


def _clean(verdict) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert all(layer.coordinate_columns is None for layer in verdict.profile.layers)


TEXTS: dict[str, Row] = {
    "decoys_first": lambda i, p, c: f"1000.5 2000.5 3000.5 4000.5 {p[0]!r} {p[1]!r}",
    "coarse_twice_first": lambda i, p, c: f"{c[0]!r} {c[1]!r} {c[0]!r} {c[1]!r} {p[0]!r} {p[1]!r}",
    "varying_count_first": lambda i, p, c: " ".join(
        [f"{1000 + 17 * k}.{k}" for k in range(i % 9)] + [repr(p[0]), "x", repr(p[1])]
    ),
    "after_long_prose": lambda i, p, c: (
        f"Surveyed 2019.5 by crew 1234, lot 5678.25, fee 4321.75, at {p[1]!r} N {p[0]!r} E"
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "suffix, epsg", [("gpkg", 4326), ("gpkg", EPSG), ("geojson", 4326)],
    ids=["gpkg_degrees", "gpkg_metres", "geojson"],
)  # fmt: skip
@pytest.mark.parametrize("text", TEXTS)
def test_a_position_after_other_numbers_holds_the_file(tmp_path, checker, text, suffix, epsg):
    precise, coarse = _pairs(epsg)
    notes = [TEXTS[text](i, p, c) for i, (p, c) in enumerate(zip(precise, coarse, strict=True))]
    path = write_layer(tmp_path / f"f.{suffix}", shapely.points(coarse), epsg, {"note": notes})
    _held(checker.check(path), "note")


def _geojson(path: Path, values: list[object], coarse: np.ndarray) -> Path:
    features = [
        {"type": "Feature", "properties": {"id": i, "pos": value},
         "geometry": {"type": "Point", "coordinates": [float(c[0]), float(c[1])]}}
        for i, (value, c) in enumerate(zip(values, coarse, strict=True))
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    kind = pyogrio.read_arrow(path)[1].schema.field("pos").type
    # GDAL reads an array as a list, an object or an array of arrays as JSON: never
    # as plain text.
    assert pa.types.is_list(kind) or isinstance(kind, pa.BaseExtensionType), kind
    return path


ARRAYS: dict[str, Row] = {
    "pair": lambda i, p, c: [p[0], p[1]],
    "pair_as_text": lambda i, p, c: [repr(p[0]), repr(p[1])],
    "behind_ids": lambda i, p, c: [1, 2, 3, 4, 5, p[0], p[1]],
    "behind_the_coarse_pair": lambda i, p, c: [c[0], c[1], c[0], c[1], p[0], p[1]],
    "nested": lambda i, p, c: [[c[0], c[1]], [p[0], p[1]]],
    "object": lambda i, p, c: {"x": p[0], "y": p[1]},
    "object_in_object": lambda i, p, c: {"survey": {"by": "gps", "at": [1, 2, 3, 4, 5, p[0], p[1]]}},
    "wkt_in_an_array": lambda i, p, c: ["site", f"POINT ({p[0]!r} {p[1]!r})"],
}  # fmt: skip


@pytest.mark.parametrize("array", ARRAYS)
def test_a_position_in_a_geojson_array_holds_the_file(tmp_path, checker, array):
    precise, coarse = _pairs(4326)
    values = [ARRAYS[array](i, list(p), list(c)) for i, (p, c) in enumerate(zip(precise, coarse, strict=True))]  # fmt: skip
    _held(checker.check(_geojson(tmp_path / "f.geojson", values, coarse)), "pos")


def _parquet(path: Path, column: pa.Array, coarse: np.ndarray) -> Path:
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}}  # fmt: skip
    table = pa.table({"id": list(range(len(coarse))), "pos": column,
                      "geometry": shapely.to_wkb(shapely.points(coarse))})  # fmt: skip
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), path)
    return path


@pytest.mark.parametrize("array", ["behind_ids", "behind_the_coarse_pair"])
def test_a_position_late_in_a_geoparquet_list_holds_the_file(tmp_path, checker, array):
    precise, coarse = _pairs(4326)
    values = [ARRAYS[array](i, list(p), list(c)) for i, (p, c) in enumerate(zip(precise, coarse, strict=True))]  # fmt: skip
    path = _parquet(tmp_path / "f.parquet", pa.array(values, pa.list_(pa.float64())), coarse)
    _held(checker.check(path), "pos")


@pytest.mark.parametrize("form", ["geojson_array", "parquet_list", "gpkg_text"])
def test_every_position_in_one_row_s_value_holds_the_file(tmp_path, checker, form):
    precise, coarse = _pairs(4326)
    flat = [float(v) for v in precise.ravel()]
    empty: list[list[float]] = [[] for _ in range(len(coarse) - 1)]
    if form == "geojson_array":
        path = _geojson(tmp_path / "f.geojson", [flat, *empty], coarse)
    elif form == "parquet_list":
        path = _parquet(tmp_path / "f.parquet", pa.array([flat, *empty]), coarse)
    else:
        notes = [" ".join(map(repr, flat))] + [""] * (len(coarse) - 1)
        path = write_layer(tmp_path / "f.gpkg", shapely.points(coarse), 4326, {"pos": notes})
    _held(checker.check(path), "pos")


def test_a_plain_table_of_positions_after_other_numbers_holds_the_file(tmp_path, checker):
    precise, coarse = _pairs(EPSG)
    path = write_layer(tmp_path / "f.gpkg", shapely.points(coarse), EPSG, {})
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, entry TEXT)")
        db.executemany(
            "INSERT INTO log (entry) VALUES (?)",
            [(f"run {1000 + i}.5 {2000 + i}.25 {3000 + i}.75 {4000 + i}.5 at {x!r} {y!r}",)
             for i, (x, y) in enumerate(precise)],
        )  # fmt: skip
        db.commit()
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    log = [layer for layer in verdict.profile.layers if layer.name == "log"]
    assert log and log[0].coordinate_columns == ["entry"]


CLEAN: dict[str, Row] = {
    "prices_and_years": lambda i, p, c: f"built {1990 + i % 20}, {1200.5 + 37 * i} m2, {98000.25 + i}",
    "long_ids": lambda i, p, c: " ".join(str(10_000 + 7919 * (i * 9 + k)) for k in range(9)),
    "own_point_twice": lambda i, p, c: f"{c[0]!r} {c[1]!r} and again {c[0]!r} {c[1]!r}",
}  # fmt: skip


@pytest.mark.parametrize("text", CLEAN)
def test_values_whose_numbers_are_no_new_position_are_clean(tmp_path, checker, text):
    _, coarse = _pairs(4326)
    notes = [CLEAN[text](i, c, c) for i, c in enumerate(coarse)]
    _clean(
        checker.check(
            write_layer(tmp_path / "f.gpkg", shapely.points(coarse), 4326, {"note": notes})
        )
    )


def test_arrays_of_each_row_s_own_point_are_clean(tmp_path, checker):
    _, coarse = _pairs(4326)
    values = [[7, 2024, float(c[0]), float(c[1])] for c in coarse]
    _clean(checker.check(_geojson(tmp_path / "f.geojson", values, coarse)))


def _one_row_table(path: Path, epsg: int, body: str) -> Path:
    """The coarse points, and a table of one row beside them."""
    _, coarse = _pairs(epsg)
    write_layer(path, shapely.points(coarse), epsg, {})
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY, f_table_name TEXT, style TEXT)"
        )
        db.execute("INSERT INTO layer_styles (f_table_name, style) VALUES ('sites', ?)", (body,))
        db.commit()
    return path


ONE_ROW: dict[str, tuple[int, Callable[[np.ndarray], str]]] = {
    "json_degrees": (4326, lambda p: json.dumps(p.tolist())),
    "xml_degrees": (4326, lambda p: "<qgis><labels>" + "".join(f"<pos>{y!r} {x!r}</pos>" for x, y in p) + "</labels></qgis>"),
    "text_metres": (EPSG, lambda p: " ".join(f"E{x:.2f} N{y:.2f}" for x, y in p)),
}  # fmt: skip


@pytest.mark.parametrize("body", ONE_ROW)
def test_every_position_in_a_one_row_table_holds_the_file(tmp_path, checker, body):
    epsg, write = ONE_ROW[body]
    path = _one_row_table(tmp_path / "f.gpkg", epsg, write(_pairs(epsg)[0]))
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    styles = [layer for layer in verdict.profile.layers if layer.name == "layer_styles"]
    assert styles and styles[0].coordinate_columns == ["style"]


def test_a_one_row_table_of_other_numbers_is_clean(tmp_path, checker):
    log = "; ".join(f"v{2.0 + k / 10:.1f} on 2024-0{1 + k % 9}-1{k % 9}, build {31337 + 97 * k}, {1024.5 * k:.1f} KB" for k in range(20))  # fmt: skip
    _clean(checker.check(_one_row_table(tmp_path / "f.gpkg", 4326, log)))
