"""Territories: cut into tiles grown only near the data, and never smaller than their buffer."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from compliance import Checker
from compliance.locations import rules_dir
from compliance.zones.layer_file import read_layer
from compliance.zones.territory import load_territory
from tests.builders import write_pack_across_the_antimeridian, write_vector

GEOD = Geod(ellps="WGS84")
BUFFER_M = 22_224.0  # the kr pack's 12 nautical miles
KR_TERRITORY = rules_dir() / "territories" / "kr.geojson"


def _kr_land() -> shapely.Geometry:
    layer = read_layer(KR_TERRITORY, ValueError)
    return shapely.make_valid(shapely.union_all(layer.geometries))


def _ground_distance_m(lon: float, lat: float, land: shapely.Geometry) -> float:
    """Geodesic distance from a point to the land: in an equidistant projection centred on
    the point, distances from the centre are true, so the nearest boundary point's planar
    distance is the ground distance (edges densified so that they stay straight enough)."""
    near = shapely.clip_by_rect(land, lon - 1.0, lat - 1.0, lon + 1.0, lat + 1.0)
    if near.is_empty:
        return np.inf
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    to_local = Transformer.from_crs(4326, aeqd, always_xy=True)
    local = shapely.transform(
        shapely.segmentize(near, 0.002),
        lambda xy: np.column_stack(to_local.transform(xy[:, 0], xy[:, 1])),
    )
    return float(shapely.distance(shapely.Point(0.0, 0.0), local))


def _point_at_distance(start, azimuth, target_m, land):
    """Bisect along a ray from the coast for a point ``target_m`` from the land."""
    lo, hi = 0.0, 3.0 * BUFFER_M
    if _ground_distance_m(*GEOD.fwd(*start, azimuth, hi)[:2], land) < target_m:
        return None
    while hi - lo > 0.5:
        mid = (lo + hi) / 2
        lon, lat, _ = GEOD.fwd(*start, azimuth, mid)
        if _ground_distance_m(lon, lat, land) < target_m:
            lo = mid
        else:
            hi = mid
    lon, lat, _ = GEOD.fwd(*start, azimuth, hi)
    return shapely.Point(lon, lat)


def test_the_tiles_make_up_the_territory_exactly():
    land = _kr_land()
    territory = load_territory("kr", KR_TERRITORY, BUFFER_M)
    tiles = territory.areas._raw
    assert len(tiles) > 10
    assert shapely.union_all(tiles).symmetric_difference(land).area < 1e-9 * land.area
    assert shapely.is_valid(tiles).all()


def test_the_grown_territory_holds_every_point_within_the_buffer_and_little_more():
    # Hand-computed truth: points found on rays from the coast at a known geodesic distance
    # from the land. 2 m inside the buffer they must be in the grown territory (a territory
    # that falls short is a wrong allow); 0.5% beyond it they must not.
    land = _kr_land()
    territory = load_territory("kr", KR_TERRITORY, BUFFER_M)
    rng = np.random.default_rng(21)
    coast = shapely.get_coordinates(shapely.segmentize(land.boundary, 0.05))
    tested = 0
    for start in coast[rng.choice(len(coast), 120, replace=False)]:
        azimuth = float(rng.uniform(0.0, 360.0))
        within = _point_at_distance(tuple(start), azimuth, BUFFER_M - 2.0, land)
        beyond = _point_at_distance(tuple(start), azimuth, BUFFER_M * 1.005, land)
        if within is None or beyond is None:
            continue
        assert territory.near(within).covers(within), within
        assert not territory.near(beyond).covers(beyond), beyond
        tested += 1
    assert tested >= 15


def test_only_tiles_near_the_data_are_grown(tmp_path):
    load_territory.cache_clear()  # a territory is shared in a process: start from a fresh one
    checker = Checker(packs=["kr"])
    areas = checker.territories["kr"].areas
    before = areas.buffered
    path = write_vector(tmp_path / "seoul.gpkg", [shapely.box(126.9, 37.5, 127.0, 37.6)], 4326)
    verdict = checker.check(path)
    assert verdict.packs[0].applies and verdict.packs[0].territory_fraction == pytest.approx(1.0)
    assert 0 < areas.buffered - before <= 12 < len(areas)


def test_a_territory_across_the_antimeridian_counts_data_written_past_180(tmp_path):
    # A territory on both sides of 180° and a footprint written 179.5..180.5: both halves
    # lie inside, so the whole footprint counts, not just the half west of 180°.
    write_pack_across_the_antimeridian(tmp_path)
    territory = load_territory("fj", tmp_path / "fiji.geojson", 0.0)
    footprint = shapely.box(179.5, -17.2, 180.5, -16.8)
    assert territory.fraction_of(footprint) == pytest.approx(1.0, rel=1e-9)
    assert territory.fraction_of(shapely.box(-180.5, -17.2, -179.5, -16.8)) == pytest.approx(1.0)
    assert territory.fraction_of(shapely.box(177.5, -17.2, 178.5, -16.8)) == pytest.approx(
        0.5, rel=1e-3
    )
    assert territory.fraction_of(shapely.box(176.5, -17.2, 177.5, -16.8)) == 0.0


def test_a_pack_whose_territory_crosses_the_antimeridian_applies_in_full(tmp_path):
    pack = write_pack_across_the_antimeridian(tmp_path, buffer_m=22_224.0)
    data = write_vector(tmp_path / "east.geojson", [shapely.box(179.5, -17.2, 180.5, -16.8)], 4326)
    verdict = Checker(packs=[pack]).check(data)
    (info,) = verdict.packs
    assert info.applies and info.territory_fraction == pytest.approx(1.0)
    assert verdict.verdict == "deny"


def test_a_territory_near_the_same_places_again_is_the_same_territory():
    """The grown union is kept per set of tiles met: revisiting places (in another order,
    after more sets than are kept) gives the union of the grown tiles each place meets."""
    from compliance.zones.territory import _UNIONS_KEPT

    territory = load_territory("kr", KR_TERRITORY, BUFFER_M)
    areas = territory.areas
    rng = np.random.default_rng(5)
    boxes = []
    for lon, lat in zip(rng.uniform(124.0, 131.5, 240), rng.uniform(33.0, 38.7, 240), strict=True):
        size = float(rng.choice([0.01, 0.3, 0.6, 1.2, 1.7]))  # one tile, a few, many
        boxes.append(shapely.box(lon, lat, lon + size, lat + size))
    sets = set()
    for footprint in boxes + [boxes[i] for i in rng.permutation(len(boxes))]:
        met = np.flatnonzero(areas.meets(footprint.bounds))  # Korea: no turn past 180°
        sets.add(tuple(met.tolist()))
        truth = shapely.union_all(areas.grown(met)) if met.size else shapely.Polygon()
        assert shapely.equals(territory.near(footprint), truth), footprint.bounds
    assert len(sets) > _UNIONS_KEPT  # enough places that kept unions were let go
