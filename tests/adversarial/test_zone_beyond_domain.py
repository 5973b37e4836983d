"""A zone that runs past the edge of the data CRS's domain is still tested.

An orthographic projection shows one hemisphere; a zone across its horizon has vertices
that cannot be drawn in it, and such zones were dropped: data on the zone's visible part
was cleared. They are now tested in lon/lat. Truth: shapely in lon/lat, positions from
pyproj.Geod.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer
from shapely.geometry import Polygon, box
from shapely.ops import transform

from compliance import Checker, Effect

GEOD = Geod(ellps="WGS84")
PLACES = {"seoul": (127.03, 37.50), "delhi": (77.21, 28.61), "tel_aviv": (34.78, 32.08)}


def _ortho(lon: float, lat: float) -> CRS:
    return CRS.from_proj4(f"+proj=ortho +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


def _zone_across_the_horizon(lon: float, lat: float, azimuth: float) -> Polygon:
    """A band 1° of azimuth wide from 8,500 to 10,500 km out of (lon, lat), across the
    horizon, its long sides traced along the geodesics out of (lon, lat)."""
    out = np.linspace(8.5e6, 10.5e6, 41)
    left = [GEOD.fwd(lon, lat, azimuth - 0.5, d)[:2] for d in out]
    right = [GEOD.fwd(lon, lat, azimuth + 0.5, d)[:2] for d in out[::-1]]
    return Polygon(left + right)


def _pack(tmp_path) -> object:
    path = tmp_path / "zone-deny.yaml"
    path.write_text(
        'pack: zone-deny\nversion: "1"\ntitle: t\njurisdiction: XX\nrules:\n'
        "  - id: ZD-1\n    title: data on a zone\n    when: zones.count > 0\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return path


@pytest.mark.parametrize(
    ("place", "azimuth"), [("seoul", 45.0), ("delhi", 200.0), ("tel_aviv", 300.0)]
)
def test_data_on_the_visible_part_of_a_zone_across_the_horizon_meets_it(tmp_path, place, azimuth):
    lon, lat = PLACES[place]
    crs = _ortho(lon, lat)
    zone = _zone_across_the_horizon(lon, lat, azimuth)
    to_ortho = Transformer.from_crs(4326, crs, always_xy=True)
    # Part of the zone lies beyond the horizon: it cannot be drawn in this CRS.
    x, _ = to_ortho.transform(*np.array(zone.exterior.coords).T, errcheck=False)
    assert not np.isfinite(x).all() and np.isfinite(x).any()
    # Three 1 km squares on the zone's visible part, 9,000 km out (the horizon: 10,000).
    squares = []
    for da in (-0.2, 0.0, 0.2):
        clon, clat, _ = GEOD.fwd(lon, lat, azimuth + da, 9.0e6)
        squares.append(box(clon - 0.005, clat - 0.005, clon + 0.005, clat + 0.005))
    assert all(s.intersects(zone) for s in squares)
    zones = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-1"], "zone_class": ["military"], "buffer_m": [0.0]},
        geometry=[zone],
        crs=4326,
    ).to_file(zones)
    data = tmp_path / "data.gpkg"
    drawn = [transform(to_ortho.transform, s.segmentize(0.001)) for s in squares]
    gpd.GeoDataFrame(geometry=drawn, crs=crs).to_file(data)
    verdict = Checker(packs=[_pack(tmp_path)], zones=zones).check(data)
    assert verdict.profile.georeferenced
    assert verdict.zones.count == 1
    assert verdict.zones.by_class["military"].features == 3
    assert verdict.verdict == Effect.deny


def test_control_data_beside_the_zone_is_clear(tmp_path):
    lon, lat = PLACES["seoul"]
    crs = _ortho(lon, lat)
    zone = _zone_across_the_horizon(lon, lat, 45.0)
    clon, clat, _ = GEOD.fwd(lon, lat, 40.0, 9.0e6)  # 5° of azimuth aside: ~800 km away
    square = box(clon - 0.005, clat - 0.005, clon + 0.005, clat + 0.005)
    assert not square.intersects(zone)
    zones = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-1"], "zone_class": ["military"], "buffer_m": [0.0]},
        geometry=[zone],
        crs=4326,
    ).to_file(zones)
    to_ortho = Transformer.from_crs(4326, crs, always_xy=True)
    data = tmp_path / "data.gpkg"
    drawn = transform(to_ortho.transform, square.segmentize(0.001))
    gpd.GeoDataFrame(geometry=[drawn], crs=crs).to_file(data)
    verdict = Checker(packs=[_pack(tmp_path)], zones=zones).check(data)
    assert verdict.zones.count == 0
    assert verdict.verdict == Effect.allow


def _territory_pack(tmp_path, territory: Polygon) -> object:
    """A pack whose territory is ``territory`` (no buffer); it denies whatever it applies to."""
    gpd.GeoDataFrame({"name": ["band"]}, geometry=[territory], crs=4326).to_file(
        tmp_path / "band.geojson"
    )
    path = tmp_path / "band.yaml"
    path.write_text(
        'pack: band\nversion: "1"\ntitle: t\njurisdiction: XX\nterritory: band.geojson\n'
        "territory_buffer_m: 0\nrules:\n"
        "  - id: B-1\n    title: anything here\n    when: territory.touches == true\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return path


def _drawable(geom, to_ortho: Transformer) -> np.ndarray:
    x, _ = to_ortho.transform(*np.array(geom.exterior.coords).T, errcheck=False)
    return np.isfinite(x)


def _square_in_a_degree_cell_across_the_horizon(lon, lat, azimuth, territory, to_ortho):
    """A 100 m square on the visible side of the horizon, in a 1° cell of longitude and
    latitude whose share of ``territory`` runs past the horizon: a territory is cut into
    such cells, and a cell partly beyond it cannot be drawn in the data's CRS."""
    back = Transformer.from_crs(to_ortho.target_crs, 4326, always_xy=True)
    for d in np.arange(9.50e6, 10.01e6, 1e3):
        clon, clat, _ = GEOD.fwd(lon, lat, azimuth, d)
        square = box(clon - 5e-4, clat - 5e-4, clon + 5e-4, clat + 5e-4)
        cell = box(np.floor(clon), np.floor(clat), np.floor(clon) + 1, np.floor(clat) + 1)
        piece = territory.intersection(cell).segmentize(0.01)
        if not _drawable(square, to_ortho).all() or _drawable(piece, to_ortho).all():
            continue
        # The square's box in the data's CRS must lie on the Earth too: that box is where
        # the data is placed.
        x, y = to_ortho.transform(*np.array(square.exterior.coords).T)
        corners = back.transform([x.min(), x.max()], [y.min(), y.max()], errcheck=False)
        corners2 = back.transform([x.min(), x.max()], [y.max(), y.min()], errcheck=False)
        if np.isfinite(corners).all() and np.isfinite(corners2).all():
            return square
    raise AssertionError("no such square")


@pytest.mark.parametrize(
    ("place", "azimuth"), [("seoul", 120.0), ("delhi", 270.0), ("tel_aviv", 90.0)]
)
def test_a_territory_across_the_horizon_still_applies_its_pack(tmp_path, place, azimuth):
    lon, lat = PLACES[place]
    crs = _ortho(lon, lat)
    territory = _zone_across_the_horizon(lon, lat, azimuth)
    to_ortho = Transformer.from_crs(4326, crs, always_xy=True)
    square = _square_in_a_degree_cell_across_the_horizon(lon, lat, azimuth, territory, to_ortho)
    assert square.within(territory)
    data = tmp_path / "data.gpkg"
    drawn = transform(to_ortho.transform, square.segmentize(0.001))
    gpd.GeoDataFrame(geometry=[drawn], crs=crs).to_file(data)
    verdict = Checker(packs=[_territory_pack(tmp_path, territory)], zones=None).check(data)
    assert verdict.profile.georeferenced
    (info,) = verdict.packs
    assert info.applies
    assert verdict.verdict == Effect.deny
