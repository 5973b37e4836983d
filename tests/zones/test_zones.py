"""Overlap with sensitive zones: boundaries included, buffers on the ground, any CRS."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import transform

from compliance import Checker, ZonesError
from compliance.zones.zone_set import ZoneSet
from tests.builders import write_vector

GEOD = Geod(ellps="WGS84")
ZONE = (127.000, 37.500, 127.010, 37.510)  # a 0.01° square near Seoul
CRSS = ["EPSG:4326", "EPSG:5186", "EPSG:3857", "EPSG:32652"]


def _zones(tmp_path, buffer_m: float = 0.0, crs: str = "EPSG:4326"):
    zone = box(*ZONE)
    if crs != "EPSG:4326":
        t = Transformer.from_crs(4326, crs, always_xy=True)
        zone = transform(t.transform, zone.segmentize(0.0005))
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-SECRET-1"], "zone_class": ["military"], "buffer_m": [buffer_m]},
        geometry=[zone],
        crs=crs,
    ).to_file(path)
    return Checker(packs=["kr"], zones=path)


def _in_crs(geom, crs):
    if crs == "EPSG:4326":
        return geom
    t = Transformer.from_crs(4326, crs, always_xy=True)
    return transform(t.transform, geom)


def _east_of_zone(metres: float) -> Point:
    """A point ``metres`` due east of the zone's east edge, at its middle latitude."""
    lon, lat, _ = GEOD.fwd(ZONE[2], 37.505, 90.0, metres)
    return Point(lon, lat)


@pytest.mark.parametrize("crs", CRSS)
def test_a_line_touching_the_zone_boundary_overlaps(tmp_path, crs):
    checker = _zones(tmp_path)
    # A line that ends exactly on the zone's east edge: boundary included.
    line = LineString([(ZONE[2], 37.505), (ZONE[2] + 0.01, 37.505)]).segmentize(0.001)
    path = write_vector(tmp_path / "touch.gpkg", [_in_crs(line, crs)], crs)
    verdict = checker.check(path)
    assert verdict.zones.count == 1
    assert verdict.zones.by_class["military"].features == 1


@pytest.mark.parametrize("crs", CRSS)
@pytest.mark.parametrize(("distance_m", "hit"), [(480.0, True), (520.0, False)])
def test_buffers_are_metres_on_the_ground(tmp_path, crs, distance_m, hit):
    checker = _zones(tmp_path, buffer_m=500.0)
    point = _east_of_zone(distance_m)
    path = write_vector(tmp_path / "pt.gpkg", [_in_crs(point, crs)], crs)
    assert (checker.check(path).zones.count == 1) is hit


@pytest.mark.parametrize("zone_crs", ["EPSG:4326", "EPSG:5186"])
def test_zones_and_data_may_be_in_different_crss(tmp_path, zone_crs):
    checker = _zones(tmp_path, crs=zone_crs)
    inside = box(127.004, 37.504, 127.006, 37.506)
    path = write_vector(tmp_path / "in.gpkg", [_in_crs(inside, "EPSG:3857")], "EPSG:3857")
    assert checker.check(path).zones.count == 1


def test_overlap_area_is_geodesic_and_matches_hand_computation(tmp_path):
    checker = _zones(tmp_path)
    # A polygon covering the zone's western half exactly: 0.005° x 0.01° at 37.5°N.
    half = box(126.990, 37.500, 127.005, 37.510)
    path = write_vector(
        tmp_path / "half.gpkg", [_in_crs(half, "EPSG:5186").segmentize(10)], "EPSG:5186"
    )
    verdict = checker.check(path)
    # Hand computation on the ellipsoid: width = N·cosφ·Δλ, height = M·Δφ at φ = 37.505°.
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = math.radians(37.505)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    m = a * (1 - e2) / (1 - e2 * math.sin(phi) ** 2) ** 1.5
    expected_km2 = (n * math.cos(phi) * math.radians(0.005)) * (m * math.radians(0.010)) / 1e6
    assert verdict.zones.by_class["military"].overlap_km2 == pytest.approx(expected_km2, rel=2e-3)


def test_zone_ids_and_geometry_are_shown_only_when_revealed(tmp_path):
    checker = _zones(tmp_path)
    path = write_vector(tmp_path / "in.gpkg", [box(127.004, 37.504, 127.006, 37.506)], 4326)
    hidden = checker.check(path)
    assert hidden.zones.hits is None
    assert hidden.zones.source == "zones.gpkg", "no server path leaves the checker"
    assert "Z-SECRET-1" not in hidden.model_dump_json()
    shown = checker.check(path, reveal_zones=True)
    assert shown.zones.hits is not None and shown.zones.hits[0].zone_id == "Z-SECRET-1"
    assert shown.zones.hits[0].geometry_wkt.startswith("POLYGON")


def test_a_raster_footprint_overlaps_a_zone(tmp_path):
    from rasterio.transform import from_origin

    from tests.builders import write_raster

    checker = _zones(tmp_path)
    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(127.005, 37.505)
    path = write_raster(tmp_path / "r.tif", "EPSG:32652", from_origin(x, y, 1.0, 1.0), 50, 50)
    verdict = checker.check(path)
    assert verdict.zones.count == 1
    # 50 x 50 one-metre pixels, ~180 km from the central meridian where k is ~1.0000.
    assert verdict.zones.by_class["military"].overlap_km2 == pytest.approx(0.0025, rel=0.01)


def test_zones_source_without_required_fields_is_refused(tmp_path):
    path = write_vector(tmp_path / "bad.gpkg", [box(0, 0, 1, 1)], 4326)
    with pytest.raises(ZonesError, match="zone_id"):
        Checker(packs=["kr"], zones=path)


@pytest.mark.parametrize("bad", ["five hundred", "-5", "inf"])
def test_a_zone_buffer_that_is_not_a_usable_distance_is_refused(tmp_path, bad):
    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-1", "Z-2"], "zone_class": ["military"] * 2, "buffer_m": ["100", bad]},
        geometry=[box(*ZONE), box(127.1, 37.5, 127.11, 37.51)],
        crs=4326,
    ).to_file(path)
    with pytest.raises(ZonesError, match="buffer_m"):
        Checker(packs=["kr"], zones=path)


def test_a_zone_without_a_buffer_value_gets_none_and_rows_without_geometry_are_dropped(tmp_path):
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": [7, 8, 9], "zone_class": ["military"] * 3, "buffer_m": [None, 500.0, 100.0]},
        geometry=[box(*ZONE), None, box(127.1, 37.5, 127.11, 37.51)],
        crs=4326,
    ).to_file(path)
    zones = ZoneSet.load(path)
    assert zones.areas.ids == ["7", "9"]
    assert len(zones.areas) == 2
    checker = Checker(packs=["kr"], zones=path)
    # 0.5 m of tolerance only: 0.4 m east of the zone meets it, 1 m does not.
    for metres, count in [(0.4, 1), (1.0, 0)]:
        point = write_vector(tmp_path / f"p{metres}.gpkg", [_east_of_zone(metres)], 4326)
        assert checker.check(point).zones.count == count


def test_zones_source_without_crs_is_refused(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["a"], "zone_class": ["military"]}, geometry=[box(0, 0, 1, 1)]
    ).to_file(path)
    with pytest.raises(ZonesError, match="no CRS"):
        Checker(packs=["kr"], zones=path)


def test_lon_lat_data_written_past_180_still_meets_a_zone_across_the_antimeridian(tmp_path):
    zones = tmp_path / "fiji.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["F"], "zone_class": ["military"]},
        geometry=[box(-179.9, -17.0, -179.8, -16.9)],
        crs=4326,
    ).to_file(zones)
    checker = Checker(packs=["kr"], zones=zones)
    # The same place written with longitudes past 180, as antimeridian-crossing data often is.
    path = write_vector(tmp_path / "east.geojson", [box(180.05, -16.99, 180.15, -16.95)], 4326)
    assert checker.check(path).zones.count == 1


def test_an_index_in_wgs84_finds_what_a_densified_one_finds(tmp_path) -> None:
    # Zones are not reprojected into WGS84 data, so they are indexed as drawn, without the
    # extra vertices that reprojection needs: the hits and areas must not change.
    import numpy as np
    import shapely
    from pyproj import CRS

    from compliance.zones.area_index import _DENSIFY_DEG, AreaIndex
    from compliance.zones.overlap import OverlapAccumulator
    from compliance.zones.zone_set import ZoneSet

    rng = np.random.default_rng(3)
    x, y = 126.0 + rng.random(300) * 2, 36.0 + rng.random(300) * 2
    frame = gpd.GeoDataFrame(
        {"zone_id": [f"z{i}" for i in range(300)], "zone_class": ["military"] * 300,
         "buffer_m": rng.random(300) * 500},
        geometry=shapely.box(x, y, x + 0.02, y + 0.03), crs="EPSG:4326",
    )  # fmt: skip
    frame.to_file(tmp_path / "zones.gpkg")
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    plain = AreaIndex.build(zones.areas, CRS.from_epsg(4326))
    dense = np.array([shapely.segmentize(g, _DENSIFY_DEG) for g in plain.geometries])
    assert (
        shapely.get_num_coordinates(dense).sum()
        > shapely.get_num_coordinates(plain.geometries).sum()
    )
    densified = AreaIndex(plain.crs, plain.positions, dense, shapely.STRtree(dense))
    fx, fy = 126.0 + rng.random(20_000) * 2, 36.0 + rng.random(20_000) * 2
    feats = np.concatenate([shapely.box(fx, fy, fx + 0.004, fy + 0.003), shapely.points(fx, fy)])
    a, b = OverlapAccumulator(zones.areas), OverlapAccumulator(zones.areas)
    a.add(feats, plain)
    b.add(feats, densified)
    assert len(a.features_by_area) > 100
    assert a.features_by_area == b.features_by_area
    assert a.km2_by_area == pytest.approx(b.km2_by_area, rel=1e-7)


def _one_zone(tmp_path, geom, buffer_m: float):
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-1"], "zone_class": ["military"], "buffer_m": [buffer_m]},
        geometry=[geom],
        crs="EPSG:4326",
    ).to_file(path)
    return Checker(packs=["kr"], zones=path)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32760", "EPSG:32701", "EPSG:3832"])
@pytest.mark.parametrize(
    ("lon", "lat", "hit"),
    [(-179.97, -16.98, True), (179.97, -16.98, True), (-179.5, -16.98, False), (0.0, 0.0, False)],
)
def test_a_zone_buffered_across_the_antimeridian_stays_where_it_is(tmp_path, crs, lon, lat, hit):
    # The zone ends 0.01° west of 180°; 5 km of buffer reach about 0.047° past it. Grown in a
    # projection and brought back, the buffer must not wrap into a band round the Earth.
    checker = _one_zone(tmp_path, box(179.95, -17.0, 179.99, -16.96), 5_000.0)
    path = write_vector(tmp_path / "p.gpkg", [_in_crs(Point(lon, lat), crs)], crs)
    assert checker.check(path).zones.count == (1 if hit else 0)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3413"])
@pytest.mark.parametrize(("lon", "lat", "hit"), [(120.0, 89.9, True), (120.0, 88.0, False)])
def test_a_zone_whose_buffer_takes_in_the_pole_covers_it(tmp_path, crs, lon, lat, hit):
    # 100 km round a zone 44 km from the North Pole takes the pole in, and every longitude.
    checker = _one_zone(tmp_path, box(0.0, 89.5, 10.0, 89.6), 100_000.0)
    path = write_vector(tmp_path / "p.gpkg", [_in_crs(Point(lon, lat), crs)], crs)
    assert checker.check(path).zones.count == (1 if hit else 0)


@pytest.mark.parametrize("crs", ["EPSG:5186", "EPSG:32652"])
def test_a_zone_drawn_in_a_projected_crs_keeps_its_long_straight_edges(tmp_path, crs):
    # A 20 km square turned 45° in a Korean grid: carried to lon/lat vertex by vertex, its
    # straight edges would bow by about 12 m (a 10 km edge by 3 m), and features just inside
    # an edge would be missed. Points 1 m inside each edge's middle meet it; 3 m outside do not.
    centre = Transformer.from_crs(4326, crs, always_xy=True).transform(127.3, 37.2)
    half = 10_000.0 * np.sqrt(2)
    cx, cy = centre
    diamond = Polygon([(cx, cy - half), (cx + half, cy), (cx, cy + half), (cx - half, cy)])
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-DIAMOND"], "zone_class": ["military"]}, geometry=[diamond], crs=crs
    ).to_file(path)
    checker = Checker(packs=["kr"], zones=path)
    corners = list(diamond.exterior.coords)[:4]
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        mx, my = (ax + bx) / 2, (ay + by) / 2
        # Unit normal pointing into the diamond (towards its centre).
        nx, ny = cx - mx, cy - my
        norm = np.hypot(nx, ny)
        nx, ny = nx / norm, ny / norm
        for offset, count in [(1.0, 1), (-3.0, 0)]:
            point = Point(mx + nx * offset, my + ny * offset)
            data = write_vector(tmp_path / "p.gpkg", [point], crs)
            assert checker.check(data).zones.count == count, (mx, my, offset)


def test_a_zone_drawn_across_the_antimeridian_in_a_projected_crs_stays_in_one_piece(tmp_path):
    t = Transformer.from_crs(4326, 3832, always_xy=True)
    square = shapely.transform(
        shapely.segmentize(box(179.8, -17.2, 180.2, -16.8), 0.01),
        lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])),
    )
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-FJ"], "zone_class": ["military"]}, geometry=[square], crs="EPSG:3832"
    ).to_file(path)
    zones = ZoneSet.load(path)
    west, _, east, _ = zones.areas.grown(np.array([0]))[0].bounds
    assert east - west < 1.0
    checker = Checker(packs=["kr"], zones=path)
    inside = write_vector(tmp_path / "in.gpkg", [Point(-179.9, -17.0)], 4326)
    away = write_vector(tmp_path / "away.gpkg", [Point(0.0, -17.0)], 4326)
    assert checker.check(inside).zones.count == 1
    assert checker.check(away).zones.count == 0


def test_a_feature_in_overlapping_zones_counts_once_per_class_and_once_per_zone(tmp_path):
    # A and B (military) overlap, C (energy) covers part of both. One feature lies in all
    # three, one in A alone, one in C alone, one in none.
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["A", "B", "C"], "zone_class": ["military", "military", "energy"]},
        geometry=[
            box(127.00, 37.00, 127.02, 37.02),
            box(127.01, 37.00, 127.03, 37.02),
            box(127.015, 37.00, 127.05, 37.02),
        ],
        crs=4326,
    ).to_file(path)
    points = [
        Point(127.016, 37.01),
        Point(127.005, 37.01),
        Point(127.04, 37.01),
        Point(127.2, 37.5),
    ]
    data = write_vector(tmp_path / "p.gpkg", points, 4326)
    verdict = Checker(packs=["kr"], zones=path).check(data, reveal_zones=True)
    assert verdict.zones.by_class["military"].features == 2
    assert verdict.zones.by_class["energy"].features == 2
    assert verdict.zones.by_class["military"].zones == 2
    assert {h.zone_id: h.features for h in verdict.zones.hits or []} == {"A": 2, "B": 1, "C": 2}
