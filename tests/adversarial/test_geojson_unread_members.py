"""GeoJSON: precise positions kept in members GDAL does not read, beside coarse features.

The moves, each on features snapped to a coarse grid (about 100 m): every Feature's (or
geometry's) ``bbox`` set to its precise box (a point's box is the point); the precise
position as a foreign member of each Feature (numbers, or text), or of its geometry;
the precise position as the fourth and fifth numbers of each position; many positions
in a member of the document itself, or as its bbox (GDAL itself keeps the precise extent
there when it rounds the coordinates it writes); a member given twice in one object
(JSON readers keep the last). GDAL reads the coarse features and none of these.

Claim under test: a document holding any of them is held (never ``allow``); documents
GDAL writes with bboxes (2-D, 3-D, RFC 7946 across the antimeridian, projected), a
WFS-style collection, a STAC Item GDAL reads the members of, and a GeoJSON text sequence
written whole are not.

Truth: the documents are built here with the json module from shapely geometries; what
GDAL reads is pyogrio's; the precise and coarse positions are the test's own numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pyogrio
import pytest
import shapely
from shapely.geometry import mapping

from compliance import Checker, Effect
from compliance.readers import geojson_unread

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
# Daejeon and Busan, in lon/lat; Seoul in UTM 52N (EPSG:32652).
PLACES = {"daejeon": (127.38, 36.35, 4326), "busan": (129.05, 35.15, 4326), "seoul_utm": (322000.0, 4152000.0, 32652)}  # fmt: skip


def _points(place: str, n: int = 40) -> tuple[list, list]:
    """Precise points (metre-level offsets) and the same snapped to about 100 m."""
    x0, y0, epsg = PLACES[place]
    unit = 1.0 if epsg != 4326 else 1e-5
    rng = np.random.default_rng(3)
    xy = np.column_stack([x0 + rng.uniform(0, 2000, n) * unit, y0 + rng.uniform(0, 2000, n) * unit])
    step = 100 * unit
    return list(shapely.points(xy)), list(shapely.points(np.round(xy / step) * step))


def _collection(features: list[dict], **members: object) -> dict:
    return {"type": "FeatureCollection", **members, "features": features}


def _feature(geom: shapely.Geometry, i: int, **members: object) -> dict:
    return {"type": "Feature", "properties": {"n": i}, "geometry": mapping(geom), **members}


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _held(checker: Checker, path: Path, coarse: list, expected: str) -> None:
    read = pyogrio.read_dataframe(path).geometry
    assert [round(g.x, 6) for g in read] == [round(g.x, 6) for g in coarse]  # GDAL: coarse
    verdict = checker.check(path)
    assert verdict.verdict != Effect.allow
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert expected in verdict.profile.unread_geometries, verdict.profile.unread_geometries


def _clean(checker: Checker, path: Path) -> None:
    verdict = checker.check(path)
    assert verdict.profile.unread_geometries == []
    assert UNREAD not in {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("where", ["feature", "geometry"])
def test_precise_bboxes_beside_coarse_points_hold_the_verdict(tmp_path, checker, place, where):
    precise, coarse = _points(place)
    features = []
    for i, (p, c) in enumerate(zip(precise, coarse, strict=True)):
        feature = _feature(c, i)
        target = feature if where == "feature" else feature["geometry"]
        target["bbox"] = list(p.bounds)
        features.append(feature)
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{PLACES[place][2]}"}}
    path = _write(tmp_path / "f.geojson", _collection(features, crs=crs))
    _held(checker, path, coarse, f"{len(coarse)} bbox members that are not their geometry's box")
    # The control: the same points with their own boxes.
    for feature, c in zip(features, coarse, strict=True):
        target = feature if where == "feature" else feature["geometry"]
        target["bbox"] = list(c.bounds)
    _clean(checker, _write(tmp_path / "control.geojson", _collection(features, crs=crs)))


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("where", lambda p: [p.x, p.y]),
        ("note", lambda p: f"surveyed at {p.x:.6f} {p.y:.6f}"),
        ("detail", lambda p: {"lon": p.x, "lat": p.y}),
    ],
)
@pytest.mark.parametrize("of", ["feature", "geometry"])
def test_precise_positions_in_foreign_members_hold_the_verdict(
    tmp_path, checker, member, value, of
):
    precise, coarse = _points("daejeon" if of == "feature" else "busan")
    features = [_feature(c, i) for i, c in enumerate(coarse)]
    for feature, p in zip(features, precise, strict=True):
        (feature if of == "feature" else feature["geometry"])[member] = value(p)
    path = _write(tmp_path / "f.geojson", _collection(features))
    expected = f"foreign members holding numbers beside the features: {member} ({len(coarse)})"
    _held(checker, path, coarse, expected)


@pytest.mark.parametrize("lax", ["NaN", "-Infinity"])
def test_precise_bboxes_in_text_the_fast_parser_refuses_hold_the_verdict(tmp_path, checker, lax):
    """GDAL reads NaN and infinities; orjson refuses them. The document is then looked
    through with the laxer parser, not passed over."""
    precise, coarse = _points("daejeon")
    features = [_feature(c, i, bbox=list(p.bounds)) for i, (p, c) in enumerate(zip(precise, coarse, strict=True))]  # fmt: skip
    text = json.dumps(_collection(features)).replace('"n": 0}', f'"n": {lax}}}', 1)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)
    path = tmp_path / "f.geojson"
    path.write_text(text)
    _held(checker, path, coarse, f"{len(coarse)} bbox members that are not their geometry's box")


@pytest.mark.parametrize("of", ["feature", "geometry"])
def test_a_position_split_between_two_text_members_holds_the_verdict(tmp_path, checker, of):
    """Each coordinate alone in a string of its own member: neither string holds two
    numbers, the object does. The control: a timestamp with fractions of a second and a
    long id as text, one number each, in members of their own."""
    precise, coarse = _points("daejeon")
    features = [_feature(c, i) for i, c in enumerate(coarse)]
    for feature, p in zip(features, precise, strict=True):
        target = feature if of == "feature" else feature["geometry"]
        target["x_at"], target["y_at"] = f"{p.x:.6f}", {"text": f"N {p.y:.6f}"}
    path = _write(tmp_path / "f.geojson", _collection(features))
    n = len(coarse)
    _held(checker, path, coarse, f"foreign members holding numbers beside the features: x_at ({n}), y_at ({n})")  # fmt: skip
    for i, feature in enumerate(features):
        target = feature if of == "feature" else feature["geometry"]
        target["x_at"], target["y_at"] = "2024-05-01T10:00:00.123456Z", f"{1234567 + i}"
    _clean(checker, _write(tmp_path / "control.geojson", _collection(features)))


@pytest.mark.parametrize("place", ["daejeon", "seoul_utm"])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_one_axis_of_each_position_alone_in_text_holds_the_verdict(tmp_path, checker, place, axis):
    """One coordinate-sized number per Feature, in a text member of its own: each the
    precise x (or y) of its Feature's point. The controls: a long text id per Feature,
    and the drawn coordinate itself."""
    precise, coarse = _points(place)
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}}
    extra = {"crs": crs} if PLACES[place][2] != 4326 else {}
    features = [_feature(c, i) for i, c in enumerate(coarse)]
    for feature, p in zip(features, precise, strict=True):
        feature["surveyed"] = f"at {getattr(p, axis):.6f}"
    path = _write(tmp_path / "f.geojson", _collection(features, **extra))
    _held(checker, path, coarse, f"foreign members holding numbers beside the features: surveyed ({len(coarse)})")  # fmt: skip
    for i, feature in enumerate(features):
        feature["surveyed"] = f"ref {1234567 + 7919 * i}"
    _clean(checker, _write(tmp_path / "ids.geojson", _collection(features, **extra)))
    for feature, c in zip(features, coarse, strict=True):
        feature["surveyed"] = f"{getattr(c, axis):.6f}"
    _clean(checker, _write(tmp_path / "drawn.geojson", _collection(features, **extra)))


def test_numbers_past_the_third_of_a_position_hold_the_verdict(tmp_path, checker):
    precise, coarse = _points("daejeon")
    features = [_feature(c, i) for i, c in enumerate(coarse)]
    for feature, p in zip(features, precise, strict=True):
        geometry = feature["geometry"]
        geometry["coordinates"] = [*geometry["coordinates"], 0.0, p.x, p.y]  # x, y, z, then more
    path = _write(tmp_path / "f.geojson", _collection(features))
    _held(
        checker,
        path,
        coarse,
        f"{len(coarse)} positions with numbers past the third (GDAL reads three)",
    )


def test_positions_in_the_document_s_own_member_hold_the_verdict(tmp_path, checker):
    precise, coarse = _points("seoul_utm")
    positions = [[p.x, p.y] for p in precise]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}}
    doc = _collection([_feature(c, i) for i, c in enumerate(coarse)], crs=crs, survey=positions)
    path = _write(tmp_path / "f.geojson", doc)
    _held(
        checker, path, coarse, f"{2 * len(precise)} numbers in the document's own members (survey)"
    )


@pytest.mark.parametrize("spelling", ['"bbox": ', '"bbox"\n  :\t'])
@pytest.mark.parametrize("where", ["feature", "properties", "nested"])
def test_a_member_given_twice_holds_the_verdict(tmp_path, checker, spelling, where):
    precise, coarse = _points("busan", 5)
    rows = []
    for i, (p, c) in enumerate(zip(precise, coarse, strict=True)):
        geometry = json.dumps(mapping(c))
        hidden, shown = json.dumps(list(p.bounds)), json.dumps(list(c.bounds))
        twice = f"{spelling}{hidden}, {spelling}{shown}"
        feature, properties = {
            "feature": (twice + ", ", ""),
            "properties": ("", ", " + twice),
            "nested": ("", f', "survey": {{"at": [{i}, {{}}], {twice}}}'),
        }[where]
        rows.append(
            f'{{"type": "Feature", {feature}"properties": {{"n": {i}{properties}}}, '
            f'"geometry": {geometry}}}'
        )
    path = tmp_path / "f.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + ",".join(rows) + "]}")
    first = json.loads(path.read_text())["features"][0]
    holder = {"feature": first, "properties": first["properties"]}.get(where)
    assert (holder or first["properties"]["survey"])["bbox"] == list(coarse[0].bounds)
    _held(checker, path, coarse, "5 objects that give a member twice (a reader keeps one)")


@pytest.mark.parametrize("stamped", [False, True], ids=["plain", "colons_in_text"])
@pytest.mark.parametrize("placed", ["every", "last"])
def test_a_scalar_property_given_twice_holds_the_verdict(tmp_path, checker, stamped, placed):
    """Features of nothing but plain members and scalar properties, the kind counted in a
    few passes: a precise number given before the coarse one under the same name (readers
    keep the last) is still found, in every feature or only the last, and when the
    document's strings hold colons (times, addresses) beside the names' own."""
    precise, coarse = _points("daejeon", 40)
    rows = []
    for i, (p, c) in enumerate(zip(precise, coarse, strict=True)):
        stamp = ', "seen": "2024-05-01T12:30:00Z", "src": "https://example.org/a:b"' * stamped
        twice = f'"x": {p.x!r}, "x": {c.x!r}, ' if placed == "every" or i == 39 else ""
        rows.append(
            f'{{"type": "Feature", "properties": {{{twice}"n": {i}{stamp}}}, '
            f'"geometry": {json.dumps(mapping(c))}}}'
        )
    path = tmp_path / "f.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + ",".join(rows) + "]}")
    read = pyogrio.read_dataframe(path)
    assert read["x"].iloc[-1] == coarse[-1].x  # GDAL keeps the coarse one
    held = 40 if placed == "every" else 1
    _held(checker, path, coarse, f"{held} objects that give a member twice (a reader keeps one)")


def test_plain_features_with_colons_in_their_text_are_clean(tmp_path, checker):
    _, coarse = _points("busan")
    features = [_feature(c, i) for i, c in enumerate(coarse)]
    for feature in features:
        feature["properties"].update(seen="2024-05-01T12:30:00Z", note='a "quoted": colon')
    _clean(checker, _write(tmp_path / "f.geojson", _collection(features)))


def test_a_text_sequence_with_precise_bboxes_holds_the_verdict(tmp_path, checker):
    precise, coarse = _points("daejeon")
    lines = [
        json.dumps(_feature(c, i, bbox=list(p.bounds)))
        for i, (p, c) in enumerate(zip(precise, coarse, strict=True))
    ]
    path = tmp_path / "f.geojsonl"
    path.write_text("\n".join(lines) + "\n")
    assert pyogrio.read_info(path)["driver"] == "GeoJSONSeq"
    _held(checker, path, coarse, f"{len(coarse)} bbox members that are not their geometry's box")


def test_a_document_too_large_to_parse_is_held(tmp_path, checker, monkeypatch):
    _, coarse = _points("daejeon")
    path = _write(
        tmp_path / "f.geojson", _collection([_feature(c, i) for i, c in enumerate(coarse)])
    )
    monkeypatch.setattr(geojson_unread, "GEOJSON_PARSE_LIMIT", 1000)
    size = path.stat().st_size
    _held(
        checker,
        path,
        coarse,
        f"a document of {size} bytes, too large to look for members GDAL does not read",
    )


DOCUMENT_BOX = "a document bbox that is not the box of its features"


@pytest.mark.parametrize("place", ["daejeon", "seoul_utm"])
def test_precise_positions_in_the_document_s_bbox_hold_the_verdict(tmp_path, checker, place):
    """The document's own bbox: two precise positions where the extent should be."""
    precise, coarse = _points(place)
    box = [precise[0].x, precise[0].y, precise[1].x, precise[1].y]
    doc = _collection([_feature(c, i) for i, c in enumerate(coarse)], bbox=box)
    if PLACES[place][2] != 4326:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}}
    _held(checker, _write(tmp_path / "f.geojson", doc), coarse, DOCUMENT_BOX)


def test_the_precise_extent_gdal_keeps_beside_rounded_coordinates_holds_the_verdict(
    tmp_path, checker
):
    """GDAL rounds the coordinates it writes (SIGNIFICANT_FIGURES) but writes the
    document's bbox from the extent before rounding: the precise box of the features."""
    precise, _ = _points("daejeon")
    frame = gpd.GeoDataFrame({"a": range(len(precise))}, geometry=precise, crs=4326)
    path = tmp_path / "rounded.geojson"
    options = {"WRITE_BBOX": "YES", "SIGNIFICANT_FIGURES": "6"}
    pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer_options=options)
    doc = json.loads(path.read_text())
    written = [f["geometry"]["coordinates"] for f in doc["features"]]
    assert all(len(str(v).replace(".", "")) <= 6 for xy in written for v in xy)  # rounded
    truth = shapely.total_bounds(precise)
    assert np.allclose(doc["bbox"], truth, rtol=1e-13, atol=0)  # the precise extent
    verdict = checker.check(path)
    assert verdict.verdict != Effect.allow
    assert DOCUMENT_BOX in verdict.profile.unread_geometries


@pytest.mark.parametrize(("place", "metres", "held"), [("daejeon", 0.005, False), ("daejeon", 0.02, True), ("seoul_utm", 0.005, False), ("seoul_utm", 0.02, True)])  # fmt: skip
def test_a_document_bbox_may_miss_the_extent_by_less_than_a_centimetre(
    tmp_path, checker, place, metres, held
):
    _, coarse = _points(place)
    extent = list(shapely.total_bounds(coarse))
    step = metres / 111_320.0 if PLACES[place][2] == 4326 else metres
    extent[1] -= step  # south of the southernmost point
    doc = _collection([_feature(c, i) for i, c in enumerate(coarse)], bbox=extent)
    if PLACES[place][2] != 4326:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}}
    verdict = checker.check(_write(tmp_path / "f.geojson", doc))
    assert (DOCUMENT_BOX in verdict.profile.unread_geometries) == held


@pytest.mark.parametrize(
    "options",
    [
        {"WRITE_BBOX": "YES"},
        {"WRITE_BBOX": "YES", "RFC7946": "YES"},
        {"WRITE_BBOX": "YES", "COORDINATE_PRECISION": "5"},
        {"WRITE_BBOX": "YES", "SIGNIFICANT_FIGURES": "9"},
    ],
)
@pytest.mark.parametrize("epsg", [4326, 32652])
def test_documents_gdal_writes_with_bboxes_are_clean(tmp_path, checker, options, epsg):
    rng = np.random.default_rng(4)
    geoms = [shapely.box(127.0 + i * 0.01, 37.5, 127.004 + i * 0.01, 37.503) for i in range(20)]
    geoms += [shapely.LineString(np.column_stack([127 + rng.random(4) * 0.01, 37.5 + rng.random(4) * 0.01, rng.random(4) * 50]))]  # fmt: skip
    geoms += [
        shapely.GeometryCollection(
            [shapely.Point(127.1, 37.2), shapely.LineString([(127, 37), (127.3, 37.4)])]
        )
    ]
    frame = gpd.GeoDataFrame({"a": range(len(geoms))}, geometry=geoms, crs=4326).to_crs(epsg)
    path = tmp_path / "w.geojson"
    pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer_options=options)
    assert '"bbox"' in path.read_text()
    _clean(checker, path)


def test_a_document_across_the_antimeridian_gdal_writes_is_clean(tmp_path, checker):
    frame = gpd.GeoDataFrame(
        {"a": [1, 2]},
        geometry=[
            shapely.box(179.5, 10, 180.5, 11),
            shapely.LineString([(179.9, -16), (180.2, -16.5)]),
        ],
        crs=4326,
    )
    path = tmp_path / "am.geojson"
    pyogrio.write_dataframe(
        frame, path, driver="GeoJSON", layer_options={"WRITE_BBOX": "YES", "RFC7946": "YES"}
    )
    bbox = json.loads(path.read_text())["features"][0]["bbox"]
    assert bbox[0] > bbox[2]  # west of east: it crosses the antimeridian
    _clean(checker, path)


def test_a_wfs_style_collection_and_a_text_sequence_gdal_writes_are_clean(tmp_path, checker):
    _, coarse = _points("busan")
    features = [
        _feature(c, i, id=f"roads.{i}", geometry_name="the_geom") for i, c in enumerate(coarse)
    ]
    doc = _collection(
        features,
        totalFeatures=len(coarse),
        numberMatched=len(coarse),
        numberReturned=len(coarse),
        timeStamp="2026-12-06T01:02:03.456Z",
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}},
        links=[{"href": "https://example.org/wfs?page=2", "rel": "next"}],
    )
    _clean(checker, _write(tmp_path / "wfs.geojson", doc))
    frame = gpd.GeoDataFrame({"a": range(len(coarse))}, geometry=coarse, crs=4326)
    seq = tmp_path / "w.geojsonl"
    pyogrio.write_dataframe(frame, seq, driver="GeoJSONSeq", layer_options={"WRITE_BBOX": "YES"})
    _clean(checker, seq)


def test_a_stac_item_whose_members_gdal_reads_is_clean(real_data, checker):
    path = next((real_data / "vectors").rglob("S3A_SL_2_LST_*.json"))
    assert "assets" in json.loads(path.read_text())
    assert "links" in pyogrio.read_arrow(path)[1].column_names  # GDAL reads it as a field
    _clean(checker, path)
