"""Zones are buffered and indexed only near the data, and that must never lose a zone."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from compliance import Checker
from compliance.geo.geodesy import buffer_many_on_ground
from compliance.zones.area_cover import GrowingIndex, lonlat_region
from compliance.zones.area_index import AreaIndex
from compliance.zones.areas import AreaSet
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.zone_set import ZoneSet
from tests.builders import write_vector


def _inside(lon, lat, region) -> bool:
    west, south, east, north = region
    return bool(((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)).all())


@pytest.mark.parametrize(
    ("crs", "box"),
    [
        ("EPSG:5186", (150_000.0, 450_000.0, 260_000.0, 600_000.0)),
        ("EPSG:3857", (14_000_000.0, 4_000_000.0, 14_600_000.0, 4_600_000.0)),
        ("EPSG:32652", (200_000.0, 3_500_000.0, 800_000.0, 4_600_000.0)),
        ("EPSG:2263", (900_000.0, 120_000.0, 1_070_000.0, 270_000.0)),  # US feet
        ("EPSG:3413", (-2_000_000.0, -1_000_000.0, -500_000.0, 500_000.0)),  # polar, off the pole
        ("EPSG:4326", (170.0, -20.0, 190.0, -10.0)),  # lon/lat running past the antimeridian
    ],
)
def test_a_region_holds_every_point_of_its_box(crs, box):
    rng = np.random.default_rng(1)
    x = box[0] + rng.random(200_000) * (box[2] - box[0])
    y = box[1] + rng.random(200_000) * (box[3] - box[1])
    region = lonlat_region(box, CRS(crs))
    assert region is not None
    if crs == "EPSG:4326":
        lon, lat = x, y
    else:
        lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    assert _inside(np.asarray(lon), np.asarray(lat), region)
    # ... and is not the whole world: it must be worth having.
    assert region[2] - region[0] < 180 and region[3] - region[1] < 30


@pytest.mark.parametrize(
    ("crs", "box"),
    [
        ("EPSG:3413", (-500_000.0, -500_000.0, 500_000.0, 500_000.0)),  # holds the North Pole
        ("EPSG:3031", (-100_000.0, -100_000.0, 100_000.0, 100_000.0)),  # holds the South Pole
        ("EPSG:3857", (0.0, 0.0, 1e9, 1e9)),  # beyond the projection's domain
    ],
)
def test_a_box_that_cannot_be_carried_back_safely_gives_no_region(crs, box):
    assert lonlat_region(box, CRS(crs)) is None


@pytest.mark.parametrize("lat", [0.0, 37.5, 70.0, 88.5, -89.5])
def test_an_areas_reach_holds_it_once_buffered(lat):
    rng = np.random.default_rng(int(abs(lat)))
    lon = -179.9 + rng.random(200) * 359.8
    size = rng.random(200) * 0.05
    geoms = shapely.box(lon, lat, lon + size, np.clip(lat + size, -90, 90))
    buffers = rng.choice([0.0, 0.5, 100.0, 5_000.0, 50_000.0], 200)
    areas = AreaSet([f"a{i}" for i in range(200)], ["military"] * 200, geoms, buffers)
    grown = shapely.bounds(buffer_many_on_ground(geoms, buffers))
    reach = areas.reach
    assert (reach[:, 0] <= grown[:, 0]).all() and (reach[:, 2] >= grown[:, 2]).all()
    assert (reach[:, 1] <= grown[:, 1]).all() and (reach[:, 3] >= grown[:, 3]).all()


def _zone_frame(n: int, seed: int = 5) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon, lat = 124.5 + rng.random(n) * 7.0, 33.0 + rng.random(n) * 5.5
    size = 0.002 + rng.random(n) * 0.01
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(n)],
            "zone_class": rng.choice(["military", "energy"], n),
            "buffer_m": rng.choice([0.0, 100.0, 2_000.0], n),
        },
        geometry=shapely.box(lon, lat, lon + size, lat + size),
        crs=4326,
    )


@pytest.mark.parametrize("crs", ["EPSG:5186", "EPSG:3857", "EPSG:4326"])
def test_an_index_grown_batch_by_batch_finds_what_a_whole_index_finds(tmp_path, crs):
    # Features arrive in west-to-east strips, as a spatially sorted file is read: the index
    # grows many times, and every hit and overlap area must be those of an index of all zones.
    _zone_frame(3_000).to_file(tmp_path / "zones.gpkg")
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    rng = np.random.default_rng(8)
    lon = np.sort(125.0 + rng.random(60_000) * 6.0)
    lat = 34.0 + rng.random(60_000) * 4.0
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    side = 0.003 if crs == "EPSG:4326" else 300.0
    feats = shapely.box(x, y, x + side, y + side)
    target = CRS(crs)
    growing = GrowingIndex(zones.areas, target)
    whole = AreaIndex.build(zones.areas, target)
    grown, full = OverlapAccumulator(zones.areas), OverlapAccumulator(zones.areas)
    indexes = []
    for part in np.array_split(feats, 30):
        b = shapely.bounds(part)
        box = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        index = growing.covering(box).index
        if not any(index is seen for seen in indexes):
            indexes.append(index)
        grown.add(part, index)
        full.add(part, whole)
    assert len(indexes) >= 3  # it did grow along the way
    assert len(full.features_by_area) > 200
    assert grown.features_by_area == full.features_by_area
    assert grown.km2_by_area == pytest.approx(full.km2_by_area, rel=1e-9)


def test_only_zones_near_the_data_are_buffered(tmp_path):
    _zone_frame(2_000).to_file(tmp_path / "zones.gpkg")
    checker = Checker(packs=["kr"], zones=tmp_path / "zones.gpkg")
    assert checker.zones.areas.buffered == 0
    # A 30 km square near Seoul, in the Korean CRS.
    t = Transformer.from_crs(4326, 5186, always_xy=True)
    x, y = t.transform(127.0, 37.5)
    path = write_vector(
        tmp_path / "small.gpkg", [shapely.box(x, y, x + 30_000, y + 30_000)], "EPSG:5186"
    )
    checker.check(path)
    assert 0 < checker.zones.areas.buffered < 200


def test_data_spread_across_the_zones_meets_the_same_zones_as_before(tmp_path):
    # End to end through the checker, against zones buffered and indexed all at once.
    frame = _zone_frame(1_500, seed=9)
    frame.to_file(tmp_path / "zones.gpkg")
    rng = np.random.default_rng(4)
    lon, lat = 124.6 + rng.random(5_000) * 6.8, 33.1 + rng.random(5_000) * 5.3
    x, y = Transformer.from_crs(4326, 5179, always_xy=True).transform(lon, lat)
    path = write_vector(
        tmp_path / "spread.gpkg", list(shapely.box(x, y, x + 400, y + 400)), "EPSG:5179"
    )
    verdict = Checker(packs=["kr"], zones=tmp_path / "zones.gpkg").check(path, reveal_zones=True)
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    acc = OverlapAccumulator(zones.areas)
    acc.add(shapely.box(x, y, x + 400, y + 400), AreaIndex.build(zones.areas, CRS(5179)))
    expected = {zones.areas.ids[a]: n for a, n in acc.features_by_area.items()}
    assert len(expected) > 50
    assert {h.zone_id: h.features for h in verdict.zones.hits or []} == expected


def test_a_cover_grown_without_new_zones_keeps_its_index_and_grid(tmp_path):
    # Data moving along a coast with one zone on it: the box grows, nothing is rebuilt.
    frame = _zone_frame(500)
    frame.loc[0, "geometry"] = shapely.box(150.0, -30.0, 150.01, -29.99)
    frame.to_file(tmp_path / "zones.gpkg")
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    growing = GrowingIndex(zones.areas, CRS(4326))
    first = growing.covering((150.0, -30.0, 150.1, -29.9))
    grid = first.grid
    assert grid is not None
    later = growing.covering((152.0, -30.0, 152.1, -29.9))
    assert later.box != first.box and later.index is first.index and later.grid is grid
    assert zones.areas.buffered == 1


def test_lon_lat_data_away_from_the_antimeridian_gets_a_tight_grid(tmp_path):
    # Copies of the zones a turn west and east belong in the index only where data runs past
    # ±180°: elsewhere they stretch the cell grid over two turns and it clears nothing.
    _zone_frame(2_000).to_file(tmp_path / "zones.gpkg")
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    cover = GrowingIndex(zones.areas, CRS(4326)).covering((126.9, 37.4, 127.1, 37.6))
    grid = cover.grid
    assert grid is not None
    assert grid.nx * grid.cell < 2.0 and grid.ny * grid.cell < 2.0
    assert shapely.bounds(cover.index.geometries)[:, 0].min() > 120.0
    rng = np.random.default_rng(11)
    lon, lat = 126.9 + rng.random(20_000) * 0.2, 37.4 + rng.random(20_000) * 0.2
    points = shapely.points(lon, lat)
    state = grid.classify(np.column_stack([lon, lat, lon, lat]))
    cleared = state == 0
    assert cleared.mean() > 0.5
    # Every cleared point is truly clear of every zone.
    assert not cover.index.tree.query(points[cleared], predicate="intersects").size


@pytest.mark.parametrize("coarse", [False, True])
def test_lon_lat_data_crossing_the_antimeridian_meets_every_zone_it_should(tmp_path, coarse):
    # Zones on both sides of 180°, data written 178.5..181.5 (past 180) and read west to
    # east: copies a turn east are added as the data reaches them, and the hits and areas
    # equal those of an index holding every zone and every copy.
    rng = np.random.default_rng(12)
    n = 400
    lon = np.where(rng.random(n) < 0.5, 178.0, -180.0) + rng.random(n) * 1.99
    lat = -18.0 + rng.random(n) * 2.0
    size = 0.002 + rng.random(n) * 0.01
    frame = gpd.GeoDataFrame(
        {
            "zone_id": [f"F{i}" for i in range(n)],
            "zone_class": ["military"] * n,
            "buffer_m": rng.choice([0.0, 500.0], n),
        },
        geometry=shapely.box(lon, lat, lon + size, lat + size),
        crs=4326,
    )
    frame.to_file(tmp_path / "zones.gpkg")
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    flon = np.sort(178.5 + rng.random(30_000) * 3.0)
    flat = -18.0 + rng.random(30_000) * 2.0
    feats = shapely.box(flon, flat, flon + 0.003, flat + 0.003)
    growing = GrowingIndex(zones.areas, CRS(4326), coarse=coarse)
    everything = AreaIndex.build(zones.areas, CRS(4326))
    grown, full = OverlapAccumulator(zones.areas), OverlapAccumulator(zones.areas)
    for part in np.array_split(feats, 20):
        b = shapely.bounds(part)
        cover = growing.covering((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))
        state = cover.grid.classify(b)
        assert not cover.index.tree.query(part[state == 0], predicate="intersects").size
        grown.add(part, cover.index)
        full.add(part, everything)
    hit_ids = {zones.areas.ids[a] for a in full.features_by_area}
    west_of_180 = {f"F{i}" for i in np.flatnonzero(lon < 0)}
    assert len(hit_ids & west_of_180) > 20  # met only as copies a turn east
    assert grown.features_by_area == full.features_by_area
    assert grown.km2_by_area == pytest.approx(full.km2_by_area, rel=1e-9)


def test_an_index_grown_past_180_adds_the_copy_of_a_zone_it_already_held(tmp_path):
    # The same zone is chosen before and after the data runs past 180°; only its copy a turn
    # east is new, and the grown index must hold it rather than keep the old one.
    gpd.GeoDataFrame(
        {"zone_id": ["F"], "zone_class": ["military"]},
        geometry=[shapely.box(-179.95, -17.0, -179.9, -16.95)],
        crs=4326,
    ).to_file(tmp_path / "zones.gpkg")
    zones = ZoneSet.load(tmp_path / "zones.gpkg")
    growing = GrowingIndex(zones.areas, CRS(4326))
    west = shapely.box(-179.94, -16.99, -179.93, -16.98)
    east = shapely.box(180.06, -16.99, 180.07, -16.98)  # the same place, written past 180
    first = growing.covering(tuple(west.bounds))
    assert first.index.tree.query(east).size == 0
    later = growing.covering(tuple(east.bounds))
    assert later.index is not first.index
    acc = OverlapAccumulator(zones.areas)
    acc.add(np.array([west, east]), later.index)
    assert acc.features_by_area == {0: 2}
