"""Precise positions kept in attributes, written in another unit than the geometry's.

The move: snap the drawn points to a coarse grid and keep each precise position in
columns of innocent names, written so that a reader meeting them with the geometry as it
is written finds nothing: longitude and latitude beside a projected layer; eastings in
kilometres, centimetres, millimetres or feet (or metres beside a layer in US feet);
degrees as integers of 1e-7 or 1e-6 degrees (OpenStreetMap's), as minutes or seconds of
arc, as radians; a southern latitude or western longitude without its sign, or any
coordinate with its sign turned; degrees, minutes and seconds with the hemisphere
letter after a blank (which a reader may take for the next number's).

Claim under test: each holds the layer for review, in every place and CRS tried (Seoul
in Korea 2000, Long Island in US survey feet, Sydney and Lima south of the equator and
Lima west of Greenwich); the same columns holding the drawn positions do not.

Truth: the precise positions are drawn here at random, carried between CRSs with pyproj,
and written in each unit by the test's own arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import held, write_layer

# Each place: (lon, lat) and a projected CRS there; the CRS's unit in metres.
PLACES = {
    "seoul": ((126.905, 37.552), 5186, 1.0),
    "long_island": ((-73.55, 40.75), 2263, 1200 / 3937),
    "sydney": ((151.205, -33.865), 32756, 1.0),
    "lima": ((-77.03, -12.05), 32718, 1.0),
}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _projected(place: str, n: int = 24) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Precise points up to 40 m from a 50 m lattice, and the same snapped to 100 m, in
    the place's projected CRS (in its own unit)."""
    (lon, lat), epsg, metre = PLACES[place]
    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    lattice = np.array([(i % 6, i // 6) for i in range(n)], dtype=float) * 50.0
    offsets = np.random.default_rng(21).uniform(-40.0, 40.0, (n, 2))
    precise = np.array([x0, y0]) + (lattice + offsets) / metre
    step = 100.0 / metre
    return precise, np.round(precise / step) * step, epsg, metre


def _lonlat(xy: np.ndarray, epsg: int) -> np.ndarray:
    to = Transformer.from_crs(epsg, 4326, always_xy=True)
    return np.column_stack(to.transform(xy[:, 0], xy[:, 1]))


def _check(checker: Checker, path: Path, geoms: np.ndarray, epsg: int, columns: dict) -> list:
    verdict = checker.check(write_layer(path, geoms, epsg, columns))
    if verdict.profile.layers[0].coordinate_columns:
        assert held(verdict)
        assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    return verdict.profile.layers[0].coordinate_columns or []


@pytest.mark.parametrize("place", sorted(PLACES))
def test_longitude_and_latitude_in_any_columns_beside_a_projected_layer_hold_it(
    tmp_path, checker, place
):
    precise, coarse, epsg, _ = _projected(place)
    geoms = shapely.points(coarse)
    exact = _lonlat(precise, epsg)
    columns = {"a": exact[:, 0], "b": exact[:, 1]}
    assert _check(checker, tmp_path / "precise.gpkg", geoms, epsg, columns) == ["a", "b"]
    # Control: the drawn points' own longitude and latitude, to nine decimals.
    drawn = np.round(_lonlat(coarse, epsg), 9)
    columns = {"a": drawn[:, 0], "b": drawn[:, 1]}
    assert _check(checker, tmp_path / "drawn.gpkg", geoms, epsg, columns) == []


# How a coordinate in the CRS's unit is written: (name, writer, metres per CRS unit).
LINEAR = [
    ("kilometres", lambda v, m: v * m / 1000.0),
    ("centimetres", lambda v, m: np.round(v * m * 100.0).astype(np.int64)),
    ("millimetres", lambda v, m: np.round(v * m * 1000.0).astype(np.int64)),
    ("international feet", lambda v, m: v * m / 0.3048),
    ("US survey feet", lambda v, m: v * m * 3937 / 1200),
    ("metres", lambda v, m: v * m),
    ("sign turned", lambda v, m: -v),
]


@pytest.mark.parametrize("place", ["seoul", "long_island"])
@pytest.mark.parametrize(("unit", "write"), LINEAR, ids=[u for u, _ in LINEAR])
def test_eastings_and_northings_in_another_unit_hold_a_projected_layer(
    tmp_path, checker, place, unit, write
):
    precise, coarse, epsg, metre = _projected(place)
    geoms = shapely.points(coarse)
    columns = {"remark": write(precise[:, 0], metre), "code": write(precise[:, 1], metre)}
    assert _check(checker, tmp_path / "precise.gpkg", geoms, epsg, columns) == ["remark", "code"]
    columns = {"remark": write(coarse[:, 0], metre), "code": write(coarse[:, 1], metre)}
    assert _check(checker, tmp_path / "drawn.gpkg", geoms, epsg, columns) == []


# How a coordinate in degrees is written.
ANGULAR: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
    ("1e-7 degree integers", lambda d: np.round(d * 1e7).astype(np.int64)),
    ("1e-6 degree integers", lambda d: np.round(d * 1e6).astype(np.int64)),
    ("minutes of arc", lambda d: d * 60.0),
    ("seconds of arc", lambda d: d * 3600.0),
    ("radians", np.radians),
    ("without a sign", np.abs),
    ("sign turned", np.negative),
]


@pytest.mark.parametrize("place", ["sydney", "lima", "seoul"])
@pytest.mark.parametrize(("unit", "write"), ANGULAR, ids=[u for u, _ in ANGULAR])
def test_degrees_in_another_unit_hold_a_lonlat_layer(tmp_path, checker, place, unit, write):
    precise, _, epsg, _ = _projected(place)
    exact = _lonlat(precise, epsg)
    coarse = np.round(exact, 3)  # about 100 m
    geoms = shapely.points(coarse)
    columns = {"p": write(exact[:, 0]), "q": write(exact[:, 1])}
    found = _check(checker, tmp_path / "precise.gpkg", geoms, 4326, columns)
    # A positive coordinate without its sign is the coordinate itself: found as such.
    assert found == ["p", "q"]
    columns = {"p": write(coarse[:, 0]), "q": write(coarse[:, 1])}
    assert _check(checker, tmp_path / "drawn.gpkg", geoms, 4326, columns) == []


def _dms(value: float, positive: str, negative: str) -> str:
    letter = positive if value >= 0 else negative
    seconds = round(abs(value) * 3600, 3)
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(degrees)}°{int(minutes)}'{seconds:06.3f}\" {letter}"


@pytest.mark.parametrize("place", ["sydney", "lima", "long_island"])
def test_degrees_minutes_seconds_with_spaced_hemisphere_letters_hold_the_layer(
    tmp_path, checker, place
):
    """``33°51'54.123" S 151°12'18.456" E``: the letter after a blank, before the next
    number, which a reader of the text may take for that number's."""
    precise, _, epsg, _ = _projected(place)
    exact = _lonlat(precise, epsg)
    coarse = np.round(exact, 3)
    geoms = shapely.points(coarse)

    def text(lonlat: np.ndarray) -> pa.Array:
        return pa.array([f"{_dms(y, 'N', 'S')} {_dms(x, 'E', 'W')}" for x, y in lonlat])

    assert _check(checker, tmp_path / "precise.gpkg", geoms, 4326, {"at": text(exact)}) == ["at"]
    assert _check(checker, tmp_path / "drawn.gpkg", geoms, 4326, {"at": text(coarse)}) == []


def test_a_geojson_member_of_1e7_degree_integers_holds_the_document(tmp_path, checker):
    """One number per Feature, as text in a member GDAL does not read: the latitude in
    integers of 1e-7 degrees. The control: the drawn latitude so written."""
    precise, _, epsg, _ = _projected("sydney")
    exact = _lonlat(precise, epsg)
    coarse = np.round(exact, 3)

    def document(lat: np.ndarray) -> dict:
        features = [
            {
                "type": "Feature",
                "properties": {"n": i},
                "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                "ref": f"{round(v * 1e7)}",
            }
            for i, ((x, y), v) in enumerate(zip(coarse, lat, strict=True))
        ]
        return {"type": "FeatureCollection", "features": features}

    path = tmp_path / "precise.geojson"
    path.write_text(json.dumps(document(exact[:, 1])))
    verdict = checker.check(path)
    assert any("ref (24)" in f.message for f in verdict.findings)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    path = tmp_path / "drawn.geojson"
    path.write_text(json.dumps(document(coarse[:, 1])))
    assert not any("ref (" in f.message for f in checker.check(path).findings)


@pytest.mark.parametrize("epsg", [3031, 3413])  # Antarctic and NSIDC Arctic polar stereographic
def test_latitudes_beside_a_layer_around_a_pole_hold_it(tmp_path, checker, epsg):
    """Points 100 km across, around the pole: the latitudes nearest it lie beyond those
    of the layer's corners, and still follow their rows."""
    grid = np.linspace(-50_000.0, 50_000.0, 6)
    lattice = np.array([(x, y) for x in grid for y in grid])
    precise = lattice + np.random.default_rng(22).uniform(-40.0, 40.0, lattice.shape)
    coarse = np.round(precise / 100.0) * 100.0
    geoms = shapely.points(coarse)
    columns = {"b": _lonlat(precise, epsg)[:, 1]}
    assert _check(checker, tmp_path / "precise.gpkg", geoms, epsg, columns) == ["b"]
    columns = {"b": _lonlat(coarse, epsg)[:, 1]}
    assert _check(checker, tmp_path / "drawn.gpkg", geoms, epsg, columns) == []
