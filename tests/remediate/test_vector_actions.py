"""drop_contours, strip_sensitive_attributes, coarsen_resolution and strip_coordinates on
vectors, and conditions no data change can meet, each verified with pyogrio, pyproj and
shapely alone."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from compliance import Checker
from compliance.verdict import Effect
from tests.remediate.conftest import (
    MASK_PACK,
    buffered_zone_local,
    from_lonlat,
    read_layer,
    shapes_lonlat,
    to_local,
    write_gpkg,
    write_pack,
)

CONTOUR_PACK = """\
pack: contour-test
version: "1"
title: Contours and elevation are left out
jurisdiction: XX
rules:
  - id: T-CONTOURS
    title: Contours and elevation
    when: dataset.has_z || dataset.fields.exists(f, f.matches("(?i)(contour|elev|height)"))
    effect: allow_with_conditions
    conditions: [drop_contours]
    reference: test fixture
"""
ATTRIBUTE_PACK = """\
pack: attribute-test
version: "1"
title: Sensitive attributes
jurisdiction: XX
rules:
  - id: T-ATTRIBUTES
    title: Features at a zone may not carry attributes
    when: zones.count > 0
    effect: allow_with_conditions
    conditions: [strip_sensitive_attributes]
    reference: test fixture
"""
COARSEN_PACK = """\
pack: coarsen-test
version: "1"
title: Detail limits
jurisdiction: XX
rules:
  - id: T-2M
    title: Finer than 2 m
    when: dataset.resolution_m < 2.0
    effect: allow_with_conditions
    conditions: [coarsen_resolution: {resolution_m: 2.0}]
    reference: test fixture
  - id: T-5M
    title: Finer than 5 m
    when: dataset.resolution_m < 5.0
    effect: deny
    conditions: [coarsen_resolution: {resolution_m: 5}]
    reference: test fixture
"""
STRIP_PACK = """\
pack: strip-test
version: "1"
title: 3-D data loses its coordinates
jurisdiction: XX
rules:
  - id: T-3D
    title: Georeferenced 3-D data
    when: dataset.has_z && dataset.georeferenced
    effect: allow_with_conditions
    conditions: [strip_coordinates]
    reference: test fixture
"""
STORE_PACK = """\
pack: store-test
version: "1"
title: Data stays at home
jurisdiction: XX
rules:
  - id: T-STORE
    title: Vector data is kept at home
    when: dataset.kind == "vector"
    effect: allow_with_conditions
    conditions: [store_in_india, attribution]
    reference: test fixture
"""


def checker_for(tmp_path: Path, zones: Path, *texts: str) -> Checker:
    return Checker(
        packs=[write_pack(tmp_path, t, f"p{i}.yaml") for i, t in enumerate(texts)], zones=zones
    )


def with_z(geoms: np.ndarray, z: float) -> np.ndarray:
    return shapely.force_3d(geoms, z)


def test_contour_layers_fields_and_z_are_dropped(tmp_path: Path, zones_file: Path) -> None:
    path = tmp_path / "in.gpkg"
    written = write_gpkg(path, {"roads": (shapes_lonlat("LineString", 0.004), 5186)})
    lines = with_z(from_lonlat(shapes_lonlat("LineString", 0.005), 32652), 120.0)
    gpd.GeoDataFrame({"ELEV_M": np.arange(len(lines))}, geometry=list(lines), crs=32652).to_file(
        path, layer="contour_lines", driver="GPKG"
    )
    report = checker_for(tmp_path, zones_file, CONTOUR_PACK).remediate(path, tmp_path / "out.gpkg")
    (action,) = report.actions
    assert action.condition == "drop_contours" and action.status == "applied"
    assert action.changes.layers_dropped == ["contour_lines"]
    assert action.changes.fields_dropped == ["roads.height"]
    out = tmp_path / "out.gpkg"
    assert [str(n) for n, _ in pyogrio.list_layers(out)] == ["roads"]
    geoms, wkb, attrs = read_layer(out, "roads")
    assert set(attrs) == {"name"} and not shapely.has_z(geoms).any()
    assert wkb == read_layer(written.path, "roads")[1]  # 2-D roads: geometry untouched
    assert report.verdict.verdict == Effect.allow and report.verdict.conditions == []


@pytest.mark.parametrize("epsg", [5186, 32652, 4326])
def test_heights_in_m_are_dropped_like_z(tmp_path: Path, zones_file: Path, epsg: int) -> None:
    # Lines named innocently whose M ordinate holds heights: has_z holds them, and the
    # derivative keeps neither Z nor M.
    lines = from_lonlat(shapes_lonlat("LineString", 0.005), epsg)
    coords = shapely.get_coordinates(lines)
    index = shapely.get_parts(lines, return_index=True)[1].repeat(shapely.get_num_points(lines))
    measured = np.column_stack([coords, 100.0 + index])
    wkt = [
        "LINESTRING M ("
        + ", ".join(f"{x!r} {y!r} {m!r}" for x, y, m in measured[index == i].tolist())
        + ")"
        for i in range(len(lines))
    ]
    path = tmp_path / "in.gpkg"
    table = pa.table({"name": [f"l{i}" for i in range(len(wkt))],
                      "geometry": list(shapely.to_wkb(shapely.from_wkt(wkt), flavor="iso"))})  # fmt: skip
    pyogrio.write_arrow(table, path, layer="paths", driver="GPKG", geometry_name="geometry",
                        geometry_type="Unknown", crs=f"EPSG:{epsg}")  # fmt: skip
    assert shapely.has_m(read_layer(path, "paths")[0]).all()
    report = checker_for(tmp_path, zones_file, CONTOUR_PACK).remediate(path, tmp_path / "out.gpkg")
    assert report.original.profile.has_z is True
    (action,) = report.actions
    assert action.status == "applied" and action.changes.features_changed == len(wkt)
    geoms, _, _ = read_layer(tmp_path / "out.gpkg", "paths")
    assert not (shapely.has_m(geoms) | shapely.has_z(geoms)).any()
    assert report.verdict.profile.has_z is False and report.verdict.verdict == Effect.allow


@pytest.mark.parametrize("epsg", [5186, 4326, 3857])
def test_attributes_of_features_at_a_zone_are_emptied(
    tmp_path: Path, zones_file: Path, epsg: int
) -> None:
    written = write_gpkg(tmp_path / "in.gpkg", {"sites": (shapes_lonlat("Polygon", 0.0026), epsg)})
    report = checker_for(tmp_path, zones_file, ATTRIBUTE_PACK).remediate(
        written.path, tmp_path / "out.gpkg"
    )
    original, original_wkb, original_attrs = read_layer(written.path, "sites")
    derived, derived_wkb, attrs = read_layer(tmp_path / "out.gpkg", "sites")
    assert derived_wkb == original_wkb  # geometry is not touched
    met = shapely.intersects(buffered_zone_local(), to_local(original, epsg))
    assert met.any() and (~met).any()
    for i, hit in enumerate(met):
        if hit:
            assert attrs["name"][i] is None and attrs["height"][i] is None
    far = shapely.distance(buffered_zone_local(), to_local(original, epsg)) > 1_500.0
    for i in np.flatnonzero(far):
        assert attrs["name"][i] == original_attrs["name"][i]
    (action,) = report.actions
    assert action.status == "applied" and action.changes.features_changed >= int(met.sum())
    # The rule asks again, as it reads only that the data meets a zone: the derivative's
    # verdict says so rather than pretend the condition is met.
    assert report.verdict.conditions == ["strip_sensitive_attributes"]


def shortest_segment_m(geoms: np.ndarray, epsg: int) -> float:
    """The shortest non-zero segment of every line and ring, as a geodesic (pyproj alone)."""
    geod = Geod(ellps="WGS84")
    t = Transformer.from_crs(epsg, 4326, always_xy=True)
    lonlat = shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    best = np.inf
    for part in shapely.get_parts(lonlat):
        rings = shapely.get_rings(part) if part.geom_type == "Polygon" else [part]
        for ring in rings:
            c = np.asarray(ring.coords)
            _, _, d = geod.inv(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1])
            d = np.asarray(d)[np.asarray(d) > 1e-9]
            if d.size:
                best = min(best, float(d.min()))
    return best


@pytest.mark.parametrize(
    ("epsg", "kind"), [(5186, "Polygon"), (4326, "LineString"), (3857, "MultiPolygon")]
)
def test_coarsening_reaches_the_coarsest_required_resolution(
    tmp_path: Path, zones_file: Path, epsg: int, kind: str
) -> None:
    # Shapes a few tens of metres across with 1-3 m wiggles: detail far finer than 5 m.
    base = [shapely.affinity.translate(g, 0.2, 0.0) for g in shapes_lonlat(kind, 0.004)]
    fine = [shapely.segmentize(g, 0.00002) for g in base]
    written = write_gpkg(tmp_path / "in.gpkg", {"parcels": (fine, epsg)})
    report = checker_for(tmp_path, zones_file, COARSEN_PACK).remediate(
        written.path, tmp_path / "out.gpkg"
    )
    assert report.original.verdict == Effect.deny
    (action,) = report.actions
    assert action.parameters == {"resolution_m": 5.0} and sorted(action.rules) == ["T-2M", "T-5M"]
    derived, _, _ = read_layer(tmp_path / "out.gpkg", "parcels")
    assert shortest_segment_m(derived, epsg) >= 5.0
    assert (
        report.verdict.profile.resolution_m is not None
        and report.verdict.profile.resolution_m >= 5.0
    )
    assert report.verdict.verdict == Effect.allow


def write_3d_lines(path: Path, epsg: int, shift_deg: float) -> None:
    lonlat = [
        shapely.affinity.translate(g, shift_deg, 0.0) for g in shapes_lonlat("LineString", 0.003)
    ]
    lines = with_z(from_lonlat(lonlat, epsg), 35.0)
    gpd.GeoDataFrame(
        {"name": [f"l{i}" for i in range(len(lines))], "lat": np.ones(len(lines))},
        geometry=list(lines),
        crs=epsg,
    ).to_file(path, layer="lines", driver="GPKG")


@pytest.mark.parametrize("epsg", [5186, 32652, 4326])
def test_coordinates_go_to_a_local_frame(tmp_path: Path, zones_file: Path, epsg: int) -> None:
    path = tmp_path / "in.gpkg"
    write_3d_lines(path, epsg, 0.2)  # away from the zone: only the frame changes
    checker = checker_for(tmp_path, zones_file, STRIP_PACK)
    report = checker.remediate(path, tmp_path / "out.gpkg")
    assert [(a.condition, a.status) for a in report.actions] == [("strip_coordinates", "applied")]
    assert report.actions[0].changes.fields_dropped == ["lines.lat"]
    out = tmp_path / "out.gpkg"
    info = pyogrio.read_info(out, layer="lines")
    assert info["crs"] is None and list(info["fields"]) == ["name"]
    derived, _, _ = read_layer(out, "lines")
    original, _, _ = read_layer(path, "lines")
    # The same shapes in metres (lengths kept within the projections' scale), moved far.
    assert np.allclose(shapely.length(derived), shapely.length(to_local(original, epsg)), rtol=2e-3)
    moved = shapely.get_coordinates(derived)[0] - shapely.get_coordinates(original)[0]
    assert np.hypot(*moved) > 1.0
    assert report.placement is not None
    verdict = report.verdict
    assert verdict.profile.has_crs is False and verdict.profile.georeferenced is False
    assert verdict.input.sha256 == report.output.sha256
    assert verdict.conditions == [] and verdict.verdict == Effect.allow
    # On its own the derivative cannot be placed, and a plain check says so.
    assert checker.check(out).verdict == Effect.review


@pytest.mark.parametrize("epsg", [5186, 4326])
def test_a_stripped_derivative_is_rechecked_where_the_original_lies(
    tmp_path: Path, zones_file: Path, epsg: int
) -> None:
    path = tmp_path / "in.gpkg"
    write_3d_lines(path, epsg, 0.0)  # across the zone: masked, then stripped
    report = checker_for(tmp_path, zones_file, STRIP_PACK, MASK_PACK).remediate(
        path, tmp_path / "out.gpkg"
    )
    statuses = {a.condition: a.status for a in report.actions}
    assert statuses == {
        "strip_sensitive_attributes": "applied",
        "mask_zones": "applied",
        "strip_coordinates": "applied",
    }
    verdict = report.verdict
    assert verdict.zones.count == 0  # placed where it lies, the masked zone is not met
    assert verdict.verdict == Effect.allow and verdict.conditions == []


def test_conditions_no_data_change_meets_stay(tmp_path: Path, zones_file: Path) -> None:
    written = write_gpkg(
        tmp_path / "in.gpkg", {"roads": (shapes_lonlat("LineString", 0.004), 5186)}
    )
    report = checker_for(tmp_path, zones_file, STORE_PACK).remediate(
        written.path, tmp_path / "out.gpkg"
    )
    assert {a.condition: a.status for a in report.actions} == {
        "store_in_india": "cannot_apply",
        "attribution": "cannot_apply",
    }
    assert all("no change to the data" in a.reason for a in report.actions)
    assert report.verdict.verdict == Effect.allow_with_conditions
    assert report.verdict.conditions == ["attribution", "store_in_india"]


@pytest.mark.parametrize(
    ("fields", "epsg"),
    [(("POINT_X", "POINT_Y"), 5186), (("gps_lon", "gps_lat"), 32652), (("lon2", "lat2"), 4326),
     (("X_COORD", "Y_COORD"), 5186), (("LatDD", "LonDD"), 4326)],
)  # fmt: skip
def test_positions_under_any_coordinate_name_are_dropped(
    tmp_path: Path, zones_file: Path, fields: tuple[str, str], epsg: int
) -> None:
    # Positions (lon/lat of somewhere else) kept as plain numbers beside 3-D lines.
    path = tmp_path / "in.gpkg"
    lines = with_z(from_lonlat(shapes_lonlat("LineString", 0.003), epsg), 35.0)
    n = len(lines)
    gpd.GeoDataFrame(
        {"name": [f"l{i}" for i in range(n)], fields[0]: np.full(n, 127.3821060398563),
         fields[1]: np.full(n, 36.35054235710999)},
        geometry=list(lines), crs=epsg,
    ).to_file(path, layer="lines", driver="GPKG")  # fmt: skip
    report = checker_for(tmp_path, zones_file, STRIP_PACK).remediate(path, tmp_path / "out.gpkg")
    assert [(a.condition, a.status) for a in report.actions] == [("strip_coordinates", "applied")]
    assert sorted(report.actions[0].changes.fields_dropped) == sorted(f"lines.{f}" for f in fields)
    info = pyogrio.read_info(tmp_path / "out.gpkg", layer="lines")
    assert list(info["fields"]) == ["name"]
