"""JSON-FG: a precise ``geometry`` beside a coarse ``place``, which GDAL reads instead.

The move: each feature's ``place`` snapped coarse (0.001 degree, or 100 m in Korea 2000)
and its ``geometry``, the WGS84 copy the specification asks for, left precise. GDAL's
JSONFG driver reads the place and passes over the geometry.

Claim under test: a feature whose geometry lies off its place carried to WGS84 holds the
file for review (``MAPGATE-UNREAD-GEOMETRIES``), whatever the place's CRS and axis order;
a geometry that is its place carried over (as pyproj carries it here), a place alone or
a geometry alone do not.

Truth: the positions are drawn here at random; pyproj carries them between CRSs; what
GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from pyproj import Transformer

from compliance import Checker, Effect
from tests.conftest import REAL_DATA

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
HELD = "JSON-FG features whose geometry is not their place"
CONFORMS = ["http://www.opengis.net/spec/json-fg-1/0.2/conf/core"]
N = 30


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _lonlat(place: tuple[float, float] = (126.978, 37.566)) -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.array(place) + rng.uniform(-0.004, 0.004, (N, 2))


def _document(path: Path, places: list, geometries: list, crs: str | None) -> Path:
    features = [
        {"type": "Feature", "id": i, "time": None, "place": p, "geometry": g,
         "properties": {"n": i}}
        for i, (p, g) in enumerate(zip(places, geometries, strict=True))
    ]  # fmt: skip
    doc: dict = {"type": "FeatureCollection", "conformsTo": CONFORMS, "features": features}
    if crs is not None:
        doc["coordRefSys"] = crs
    path.write_text(json.dumps(doc))
    assert pyogrio.read_info(path)["driver"] == "JSONFG"
    bounds = pyogrio.read_dataframe(path).to_crs(4326).total_bounds
    assert np.allclose(bounds, [126.974, 37.562, 126.982, 37.570], atol=0.003)  # as drawn
    return path


def _point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def _square(x: float, y: float, side: float) -> dict:
    ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _korea(lonlat: np.ndarray) -> np.ndarray:
    return np.column_stack(Transformer.from_crs(4326, 5186, always_xy=True).transform(*lonlat.T))


def _to_wgs84(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(Transformer.from_crs(5186, 4326, always_xy=True).transform(*xy.T))


def _leak(kind: str) -> tuple[list, list, str | None]:
    precise = _lonlat()
    coarse = np.round(precise, 3)
    if kind == "crs84_points":
        return [_point(*c) for c in coarse], [_point(*p) for p in precise], None
    if kind == "epsg4326_points_in_lat_lon_order":
        places = [_point(c[1], c[0]) for c in coarse]
        return places, [_point(*p) for p in precise], "[EPSG:4326]"
    if kind == "korea_2000_points_snapped_to_100_m":
        snapped = np.round(_korea(precise) / 100) * 100
        crs = "http://www.opengis.net/def/crs/EPSG/0/5186"
        return [_point(y, x) for x, y in snapped], [_point(*p) for p in precise], crs
    if kind == "squares_with_a_corner_beyond":
        places = [_square(*c, 0.001) for c in coarse]
        return places, [_square(*(c + 0.002), 0.001) for c in coarse], None
    raise AssertionError(kind)


LEAKS = [
    "crs84_points",
    "epsg4326_points_in_lat_lon_order",
    "korea_2000_points_snapped_to_100_m",
    "squares_with_a_corner_beyond",
]


@pytest.mark.parametrize("kind", LEAKS)
def test_a_geometry_off_its_place_holds_the_file(tmp_path, checker, kind):
    verdict = checker.check(_document(tmp_path / "f.json", *_leak(kind)))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert f"{N} {HELD} (GDAL reads the place)" in verdict.profile.unread_geometries


def _clean(kind: str) -> tuple[list, list, str | None]:
    coarse = np.round(_lonlat(), 3)
    snapped = np.round(_korea(_lonlat()) / 100) * 100
    if kind == "the_place_carried_to_wgs84":
        crs = "http://www.opengis.net/def/crs/EPSG/0/5186"
        places = [_point(y, x) for x, y in snapped]  # Korea 2000's axis order: north, east
        return places, [_point(*g) for g in _to_wgs84(snapped)], crs
    if kind == "the_same_point_twice":
        return [_point(*c) for c in coarse], [_point(*c) for c in coarse], None
    if kind == "a_point_within_its_square":
        places = [_square(*c, 0.001) for c in coarse]
        return places, [_point(*(c + 0.0005)) for c in coarse], None
    if kind == "a_place_alone":
        return [_point(*c) for c in coarse], [None] * N, None
    if kind == "a_geometry_alone":
        return [None] * N, [_point(*c) for c in coarse], None
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["the_place_carried_to_wgs84", "the_same_point_twice", "a_point_within_its_square",
     "a_place_alone", "a_geometry_alone"],
)  # fmt: skip
def test_a_geometry_that_is_its_place_is_clean(tmp_path, checker, kind):
    verdict = checker.check(_document(tmp_path / "f.json", *_clean(kind)))
    assert not any(u.startswith(f"{N} {HELD}") for u in verdict.profile.unread_geometries)
    assert UNREAD not in {f.rule_id for f in verdict.findings}


def test_a_real_document_with_a_geometry_apart_from_its_place(checker):
    # node-gdal-async's test file: a place in UTM 31N, and a geometry at 0, 0 "not
    # equivalent to place on purpose". GDAL reads the place; the geometry is counted.
    path = REAL_DATA / "vectors" / "node-gdal-async" / "crs_32631_fc_and_feat.json"
    verdict = checker.check(path)
    assert verdict.verdict == Effect.review
    assert verdict.profile.unread_geometries == [f"1 {HELD} (GDAL reads the place)"]
