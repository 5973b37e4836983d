"""Geometry kept as values in a table without geometry is found whatever the column's name.

The claim: "a table that may hold positions is held for review". It was decided by column
names alone: fine building outlines as WKT in a column called ``remarks``, beside a layer of
coarse roads, gave ``allow``; so did a GeoPackage layer unregistered from the catalogue,
whose GEOMETRY column GDAL then reads as text. Truth here is built with shapely and the
GeoPackage blob layout (clause 2.1.3) alone: every value written reads back as a geometry.
"""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect

FINDING = "MAPGATE-COORDINATES-IN-TABLE"
PLACES = {"seoul": ((126.975, 37.585), 5186), "busan": ((129.05, 35.15), 32652)}


def _buildings(place: str, n: int = 12) -> np.ndarray:
    """Small buildings (8 x 6 m with a 1.5 m notch) in the place's projected CRS."""
    (lon, lat), epsg = PLACES[place]
    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    out = []
    for i in range(n):
        x, y = x0 + (i % 4) * 30.0, y0 + (i // 4) * 30.0
        ring = [(x, y), (x + 8, y), (x + 8, y + 4.5), (x + 6.5, y + 4.5), (x + 6.5, y + 6),
                (x, y + 6), (x, y)]  # fmt: skip
        out.append(shapely.Polygon(ring))
    return np.array(out, dtype=object)


def _roads(path, epsg: int) -> None:
    """A layer of two coarse roads, 10 km long, beside the table."""
    x0, y0 = 200_000.0, 550_000.0
    lines = shapely.linestrings([[(x0, y0), (x0 + 10_000, y0)], [(x0, y0 + 9_000),
                                 (x0 + 10_000, y0 + 9_000)]])  # fmt: skip
    table = pa.table({"name": ["a", "b"], "geometry": shapely.to_wkb(lines)})
    pyogrio.write_arrow(table, path, layer="roads", driver="GPKG", geometry_name="geometry",
                        geometry_type="LineString", crs=f"EPSG:{epsg}")  # fmt: skip


def _table(path, column: str, values: list, epsg: int) -> None:
    _roads(path, epsg)
    table = pa.table({"id": list(range(len(values))), column: values})
    pyogrio.write_arrow(table, path, layer="records", driver="GPKG", append=True)


ENCODINGS = {
    "wkt": lambda g: [x.wkt for x in g],
    "ewkt": lambda g: [f"SRID=5186;{x.wkt}" for x in g],
    "geojson": lambda g: [shapely.to_geojson(x) for x in g],
    "hex_wkb": lambda g: [x.wkb_hex for x in g],
    "wkb": lambda g: [x.wkb for x in g],
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("column", ["remarks", "note_2"])
def test_geometry_values_under_any_name_hold_the_table(tmp_path, place, encoding, column):
    geoms = _buildings(place)
    values = ENCODINGS[encoding](geoms)
    # Truth: each value reads back as its building (shapely alone).
    readers = {"wkt": shapely.from_wkt, "geojson": shapely.from_geojson, "wkb": shapely.from_wkb,
               "hex_wkb": shapely.from_wkb,
               "ewkt": lambda v: shapely.from_wkt(v.split(";", 1)[1])}  # fmt: skip
    assert all(readers[encoding](v).equals(g) for v, g in zip(values, geoms, strict=True))
    path = tmp_path / "t.gpkg"
    _table(path, column, values, PLACES[place][1])
    verdict = Checker(packs=["kr"]).check(path)
    (records,) = [la for la in verdict.profile.layers if la.name == "records"]
    assert records.coordinate_columns == [column]
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(
    "values",
    [
        ["POINT of contact: north gate", "LINESTRING-like fence", "see map"],
        ["0101 ward", "01 2345 6789", '{"type": "note"}'],
        ["POINT EMPTY", "", "POLYGON"],
    ],
)
def test_text_that_only_looks_like_geometry_is_not_taken_for_it(tmp_path, values):
    # Control: words, numbers and empty geometries hold no position.
    path = tmp_path / "t.gpkg"
    _table(path, "remarks", values, 5186)
    verdict = Checker(packs=["kr"]).check(path)
    (records,) = [la for la in verdict.profile.layers if la.name == "records"]
    assert records.coordinate_columns is None
    assert FINDING not in {f.rule_id for f in verdict.findings}


def _gpkg_blob(geom: shapely.Geometry, srs_id: int) -> bytes:
    """A GeoPackage geometry blob: GP, version 0, flags (little-endian, no envelope), SRS id."""
    return b"GP" + bytes([0, 0b0000_0001]) + struct.pack("<i", srs_id) + geom.wkb


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("column", ["payload", "geom"])
def test_an_unregistered_geopackage_layer_holds_the_file(tmp_path, place, column):
    # A layer removed from gpkg_contents and gpkg_geometry_columns: GDAL lists its table as
    # one without geometry and reads its GEOMETRY column as text.
    epsg = PLACES[place][1]
    path = tmp_path / "t.gpkg"
    _roads(path, epsg)
    geoms = _buildings(place)
    with sqlite3.connect(path) as db:
        db.execute(f'CREATE TABLE secret (fid INTEGER PRIMARY KEY, "{column}" GEOMETRY, n INT)')
        db.executemany(
            f'INSERT INTO secret ("{column}", n) VALUES (?, ?)',
            [(_gpkg_blob(g, epsg), i) for i, g in enumerate(geoms)],
        )
    with sqlite3.connect(path) as db:  # truth: the blobs hold the buildings
        blobs = [row[0] for row in db.execute(f'SELECT "{column}" FROM secret')]
    assert all(shapely.from_wkb(b[8:]).equals(g) for b, g in zip(blobs, geoms, strict=True))
    assert "secret" in [str(n) for n, _ in pyogrio.list_layers(path)]
    verdict = Checker(packs=["kr"]).check(path)
    (secret,) = [la for la in verdict.profile.layers if la.name == "secret"]
    assert secret.geometry_type == "None" and secret.coordinate_columns == [column]
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize("encoding", ["wkt", "geojson", "hex_wkb"])
def test_a_csv_of_geometry_values_is_held(tmp_path, encoding):
    # Read through GDAL's own table stream (the CSV driver), not SQLite.
    import csv

    path = tmp_path / "records.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "remarks"])
        writer.writerows(enumerate(ENCODINGS[encoding](_buildings("seoul"))))
    verdict = Checker(packs=["kr"]).check(path)
    (records,) = verdict.profile.layers
    assert records.geometry_type == "None" and records.coordinate_columns == ["remarks"]
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow


def _roads_with(path, driver: str, column: str, values: list) -> None:
    """Coarse roads (10 km segments) whose ``column`` attribute holds ``values``."""
    x0, y0 = 200_000.0, 550_000.0
    lines = [shapely.LineString([(x0, y0 + i * 900.0), (x0 + 10_000, y0 + i * 900.0)])
             for i in range(len(values))]  # fmt: skip
    table = pa.table({"name": [f"road {i}" for i in range(len(values))], column: values,
                      "geometry": shapely.to_wkb(lines)})  # fmt: skip
    pyogrio.write_arrow(table, path, driver=driver, geometry_name="geometry",
                        geometry_type="LineString", crs="EPSG:5186")  # fmt: skip


LAYER_FORMATS = [("GPKG", ".gpkg"), ("GeoJSON", ".geojson"), ("FlatGeobuf", ".fgb")]


@pytest.mark.parametrize(("driver", "suffix"), LAYER_FORMATS)
@pytest.mark.parametrize("encoding", ["wkt", "geojson", "hex_wkb"])
def test_geometry_in_a_layers_attributes_holds_the_file(tmp_path, driver, suffix, encoding):
    # The roads are coarse and far from everything; the buildings ride in their text.
    values = ENCODINGS[encoding](_buildings("seoul"))
    path = tmp_path / f"roads{suffix}"
    _roads_with(path, driver, "remarks", values)
    verdict = Checker(packs=["kr"]).check(path)
    (roads,) = verdict.profile.layers
    assert roads.geometry_type != "None" and roads.coordinate_columns == ["remarks"]
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(("driver", "suffix"), LAYER_FORMATS)
def test_a_layers_ordinary_text_is_not_taken_for_geometry(tmp_path, driver, suffix):
    # Control: the same roads with notes and numbers in their text.
    values = [f"resurfaced (2019), lane {i}" for i in range(12)]
    path = tmp_path / f"roads{suffix}"
    _roads_with(path, driver, "remarks", values)
    verdict = Checker(packs=["kr"]).check(path)
    (roads,) = verdict.profile.layers
    assert roads.coordinate_columns is None
    assert FINDING not in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == Effect.allow


@pytest.mark.parametrize("encoding", ["wkt", "wkb"])
def test_geometry_in_a_geoparquet_files_columns_holds_it(tmp_path, encoding):
    # GeoParquet is read by pyarrow, not GDAL: its other columns are read in the same pass.
    import json

    import pyarrow.parquet as pq
    from pyproj import CRS

    lines = shapely.linestrings([[(200_000.0, 550_000.0 + i * 900), (210_000.0, 550_000.0 + i * 900)]
                                 for i in range(12)])  # fmt: skip
    values = ENCODINGS[encoding](_buildings("seoul"))
    table = pa.table({"remarks": values, "geometry": shapely.to_wkb(lines)})
    column = {"encoding": "WKB", "geometry_types": [], "crs": CRS(5186).to_json_dict()}
    geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
    path = tmp_path / "roads.parquet"
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), path)
    verdict = Checker(packs=["kr"]).check(path)
    (roads,) = verdict.profile.layers
    assert roads.coordinate_columns == ["remarks"]
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(
    "names",
    [
        ("POINT_X", "POINT_Y"), ("X_COORD", "Y_COORD"), ("lon2", "lat2"), ("gps_lon", "gps_lat"),
        ("LONDD", "LATDD"), ("DECLONG", "DECLAT"), ("decimalLongitude", "decimalLatitude"),
        ("경도", "위도"), ("X좌표", "Y좌표"), ("经度", "纬度"), ("долгота", "широта"),
    ],
)  # fmt: skip
def test_positions_under_any_coordinate_name_hold_a_table(tmp_path, names):
    # Numbers, not geometry text: the names are what there is to go on in a table.
    path = tmp_path / "t.gpkg"
    _roads(path, 5186)
    table = pa.table({"id": [1, 2], names[0]: [126.975, 126.976], names[1]: [37.585, 37.586]})
    pyogrio.write_arrow(table, path, layer="records", driver="GPKG", append=True)
    verdict = Checker(packs=["kr"]).check(path)
    (records,) = [la for la in verdict.profile.layers if la.name == "records"]
    assert records.coordinate_columns == list(names)
    assert verdict.verdict != Effect.allow


def test_names_that_only_contain_coordinate_letters_do_not_hold_a_table(tmp_path):
    path = tmp_path / "t.gpkg"
    _roads(path, 5186)
    table = pa.table(
        {"id": [1], "region": ["a"], "Shape_Length": [3.5], "exit": [2], "LOCATION_ID": [7]}
    )
    pyogrio.write_arrow(table, path, layer="records", driver="GPKG", append=True)
    verdict = Checker(packs=["kr"]).check(path)
    (records,) = [la for la in verdict.profile.layers if la.name == "records"]
    assert records.coordinate_columns is None


_FINE = _buildings("seoul")
OTHER_TEXT_FORMS = {
    "linearring": _FINE[0].exterior.wkt,
    "escaped_geojson_key": shapely.to_geojson(_FINE[0]).replace("coordinates", "coordin\\u0061tes"),
    "json_list_of_geometries": "[" + ",".join(shapely.to_geojson(g) for g in _FINE[:3]) + "]",
    "upper_case_key": shapely.to_geojson(_FINE[0]).replace("coordinates", "Coordinates"),
    "vertical_tab": "\x0b" + _FINE[0].wkt,
    "no_break_space": "\xa0" + _FINE[0].wkt,
    "gml": "<gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>"
    + " ".join(f"{x} {y}" for x, y in _FINE[0].exterior.coords)
    + "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
    "kml": "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
    + " ".join(f"{x},{y}" for x, y in _FINE[0].exterior.coords)
    + "</coordinates></LinearRing></outerBoundaryIs></Polygon>",
    "postgres_bytea_hex": "\\x" + _FINE[0].wkb_hex,
}


@pytest.mark.parametrize("form", sorted(OTHER_TEXT_FORMS))
def test_other_text_forms_of_geometry_hold_a_layer(tmp_path, form):
    path = tmp_path / "roads.geojson"
    _roads_with(path, "GeoJSON", "remarks", [OTHER_TEXT_FORMS[form]] * 3)
    verdict = Checker(packs=["kr"]).check(path)
    (roads,) = verdict.profile.layers
    assert roads.coordinate_columns == ["remarks"]
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(
    "blob",
    [
        _FINE[0].wkb + b"\x00",  # a byte after it: GEOS reads the geometry and stops
        _FINE[0].wkb + _FINE[1].wkb,  # two geometries one after the other
        # SpatiaLite's BLOB-Geometry: start, byte order, SRID, MBR, MBR end, class, ..., end.
        b"\x00\x01" + struct.pack("<i", 5186) + struct.pack("<4d", *_FINE[0].bounds) + b"\x7c"
        + _FINE[0].wkb[1:] + b"\xfe",
    ],
    ids=["wkb_and_a_byte", "two_wkb", "spatialite"],
)  # fmt: skip
def test_other_binary_forms_of_geometry_hold_a_table(tmp_path, blob):
    path = tmp_path / "t.gpkg"
    _table(path, "remarks", [blob, blob], 5186)
    verdict = Checker(packs=["kr"]).check(path)
    (records,) = [la for la in verdict.profile.layers if la.name == "records"]
    assert records.coordinate_columns == ["remarks"]
    assert verdict.verdict != Effect.allow
