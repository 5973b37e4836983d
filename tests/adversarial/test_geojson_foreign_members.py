"""Geometry a GeoJSON document carries where GDAL does not read it holds the verdict.

The claim: "the check measures every geometry the file holds". GDAL reads the features'
geometries and properties and passes over foreign members, which any JSON reader hands
on: fine buildings as a Feature's ``"detail"`` member, as a second FeatureCollection under
a key of the first, or inside a geometry object, beside coarse roads, gave ``allow``.
Truth here is the JSON itself, walked with the standard library: the geometry objects
outside the features' own geometries are counted and are the fine buildings.
"""

from __future__ import annotations

import json

import pytest
import shapely

from compliance import Checker, Effect

FINDING = "MAPGATE-UNREAD-GEOMETRIES"
PLACES = [(127.38, 36.35), (129.05, 35.15), (126.70, 37.45)]  # Daejeon, Busan, Incheon


def _roads(lon: float, lat: float) -> list[dict]:
    """Twenty coarse roads (about 1 km, two vertices each)."""
    return [
        {"type": "Feature", "properties": {"id": i},
         "geometry": {"type": "LineString",
                      "coordinates": [[lon, lat + i * 0.01], [lon + 0.01, lat + i * 0.01]]}}
        for i in range(20)
    ]  # fmt: skip


def _buildings(lon: float, lat: float) -> list[dict]:
    """Fine buildings: 6 x 4 m squares (about 5e-5 degrees)."""
    return [
        shapely.geometry.mapping(shapely.box(x, lat, x + 6e-5, lat + 4e-5))
        for x in (lon + 0.02 + k * 1e-4 for k in range(30))
    ]


def _outside_features(doc: object, path: tuple = ()) -> int:
    """Geometry objects (with coordinates) not at features[i].geometry or its members."""
    if isinstance(doc, dict):
        here = "coordinates" in doc and not _is_feature_geometry(path)
        return int(here) + sum(_outside_features(v, (*path, k)) for k, v in doc.items())
    if isinstance(doc, list):
        return sum(_outside_features(v, (*path, i)) for i, v in enumerate(doc))
    return 0


def _is_feature_geometry(path: tuple) -> bool:
    if len(path) < 3 or path[0] != "features" or path[2] != "geometry":
        return False
    rest = path[3:]  # a collection's members: ("geometries", j) pairs
    return all(rest[i] == "geometries" for i in range(0, len(rest), 2))


def _check(tmp_path, doc: dict, raw: str | None = None):
    path = tmp_path / "roads.geojson"
    path.write_text(raw if raw is not None else json.dumps(doc))
    return Checker(packs=["kr"]).check(path)


TRICKS = ["feature_member", "collection_member", "geometry_member"]


def _numbers(value: object) -> int:
    """Truth: the JSON numbers in a value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return 0
    if isinstance(value, int | float):
        return 1
    items = value.values() if isinstance(value, dict) else value
    return sum(_numbers(v) for v in items)  # type: ignore[union-attr]


def _trick(kind: str, lon: float, lat: float) -> dict:
    roads, fine = _roads(lon, lat), _buildings(lon, lat)
    doc = {"type": "FeatureCollection", "features": roads}
    if kind == "feature_member":
        for road, building in zip(roads, fine, strict=False):
            road["detail"] = building
    elif kind == "collection_member":
        doc["extra"] = {"type": "FeatureCollection",
                        "features": [{"type": "Feature", "properties": {}, "geometry": g}
                                     for g in fine]}  # fmt: skip
    else:
        roads[0]["geometry"]["annex"] = {"type": "GeometryCollection", "geometries": fine}
    return doc


@pytest.mark.parametrize("kind", TRICKS)
@pytest.mark.parametrize("place", PLACES)
def test_geometry_in_foreign_members_holds_the_file(tmp_path, kind, place):
    doc = _trick(kind, *place)
    hidden = _outside_features(doc)
    assert hidden in (20, 30)  # the buildings the features' geometries do not hold
    verdict = _check(tmp_path, doc)
    assert FINDING in {f.rule_id for f in verdict.findings}
    # The member holding them is named too (its numbers counted here, in the JSON).
    members = {
        "feature_member": "foreign members holding numbers beside the features: detail (20)",
        "collection_member": f"{_numbers(doc.get('extra'))} numbers in the document's own "
        "members (extra)",
        "geometry_member": "foreign members holding numbers beside the features: annex (1)",
    }
    assert verdict.profile.unread_geometries == [
        members[kind],
        f"{hidden} geometry objects of the GeoJSON document that GDAL did not read "
        "(foreign members, or geometries it dropped as malformed)",
    ]
    assert verdict.verdict != Effect.allow
    # Control: the roads alone.
    plain = _check(tmp_path, {"type": "FeatureCollection", "features": _roads(*place)})
    assert plain.profile.unread_geometries == [] and plain.verdict == Effect.allow


def test_an_escaped_key_is_the_same_key(tmp_path):
    # "coordin\\u0061tes" is "coordinates" to every JSON reader.
    doc = _trick("feature_member", *PLACES[0])
    raw = json.dumps(doc).replace('"detail": {"type": "Polygon", "coordinates"',
                                  '"detail": {"type": "Polygon", "coordin\\u0061tes"')  # fmt: skip
    assert json.loads(raw) == json.loads(json.dumps(doc)) and raw.count('"coordinates"') == 20
    verdict = _check(tmp_path, doc, raw)
    assert FINDING in {f.rule_id for f in verdict.findings}


def test_collections_and_multi_parts_are_read_whole(tmp_path):
    # Control: geometry collections (nested too) and multi-polygons are features' own.
    lon, lat = PLACES[0]
    fine = _buildings(lon, lat)
    features = _roads(lon, lat) + [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "GeometryCollection",
                      "geometries": [fine[0], {"type": "GeometryCollection",
                                               "geometries": fine[1:3]}]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [g["coordinates"] for g in fine[3:6]]}},
    ]  # fmt: skip
    doc = {"type": "FeatureCollection", "features": features}
    assert _outside_features(doc) == 0
    verdict = _check(tmp_path, doc)
    assert verdict.profile.unread_geometries == []


@pytest.mark.parametrize("spelling", ['"Coordinates"', '"COORDINATES"', '"\\u0043oordinates"'])
def test_a_geometry_key_spelled_otherwise_does_not_balance_a_hidden_one(tmp_path, spelling):
    # GDAL reads a feature's geometry whose key is spelled in another case: counting only
    # the lower-case key, that geometry's count went missing and balanced a hidden one.
    doc = _trick("feature_member", *PLACES[0])
    for road in doc["features"][1:]:
        road.pop("detail")
    raw = json.dumps(doc)
    first = raw.index('"coordinates"', raw.index('"features"') + 200)  # a road's own key
    raw = raw[:first] + spelling + raw[first + len('"coordinates"') :]
    verdict = _check(tmp_path, doc, raw)
    assert verdict.profile.feature_count == 20  # every road read, the respelled one too
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow
