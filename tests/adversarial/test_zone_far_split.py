"""Data split between a sensitive place and a far box, in the far box's CRS.

Zones and territories more than 10° from the CRS's area of use were dropped: buildings on
a military zone in Korea plus one box near Tokyo, in UTM 54N, were allowed and the Korea
pack did not apply. Every zone and territory the data's real extent can meet is tested,
whatever the CRS. Truth (where the zone is, which features touch it) is computed with
pyproj and shapely in the test.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box
from shapely.ops import transform

from compliance import Checker, Effect

PLACES = {
    "seoul": (127.03, 37.50),
    "busan": (129.05, 35.15),
    "tel_aviv": (34.78, 32.08),
    "delhi": (77.21, 28.61),
}
PACK_OF = {"seoul": "kr", "busan": "kr", "tel_aviv": "us-kba", "delhi": "in"}
FAR = {
    "tokyo": (139.69, 35.69),
    "kushiro": (144.38, 42.98),
    "bangkok": (100.50, 13.75),
    "muscat": (58.40, 23.60),
}
ZONE_HALF_DEG = 0.004  # the military zone: a square about 800 m across


def _utm(lon: float, lat: float) -> int:
    return (32600 if lat >= 0 else 32700) + int((lon + 180) // 6) + 1


def _zones(tmp_path, place: str) -> Checker:
    lon, lat = PLACES[place]
    zone = box(lon - ZONE_HALF_DEG, lat - ZONE_HALF_DEG, lon + ZONE_HALF_DEG, lat + ZONE_HALF_DEG)
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-1"], "zone_class": ["military"], "buffer_m": [0.0]},
        geometry=[zone],
        crs=4326,
    ).to_file(path)
    return Checker(zones=path)


def _buildings(place: str, crs: int, n: int) -> list:
    """``n`` 8 m squares in a row across the zone's middle, drawn in ``crs``."""
    lon, lat = PLACES[place]
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    return [box(x - 150 + 25 * i, y, x - 142 + 25 * i, y + 8) for i in range(n)]


def _far_box(far: str, crs: int) -> object:
    lon, lat = FAR[far]
    t = Transformer.from_crs(4326, crs, always_xy=True)
    return transform(t.transform, box(lon, lat, lon + 0.002, lat + 0.002).segmentize(0.0005))


def _on_zone(place: str, geoms: list, crs: int) -> int:
    """How many features touch the zone, by shapely in lon/lat."""
    lon, lat = PLACES[place]
    zone = box(lon - ZONE_HALF_DEG, lat - ZONE_HALF_DEG, lon + ZONE_HALF_DEG, lat + ZONE_HALF_DEG)
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    return sum(transform(t.transform, g).intersects(zone) for g in geoms)


SPLITS = [
    ("seoul", "tokyo"),  # the case: 11° west of UTM 54N
    ("busan", "kushiro"),  # 15° west of UTM 55N
    ("delhi", "bangkok"),  # 19° west of UTM 47N
    ("tel_aviv", "muscat"),  # 19° west of UTM 40N
]


@pytest.mark.parametrize(("place", "far"), SPLITS)
def test_buildings_on_a_zone_plus_a_far_box_are_tested_against_the_zone(tmp_path, place, far):
    crs = _utm(*FAR[far])
    buildings = _buildings(place, crs, 12)
    expected = _on_zone(place, buildings, crs)
    assert expected == 12
    path = tmp_path / "split.gpkg"
    gpd.GeoDataFrame(geometry=buildings + [_far_box(far, crs)], crs=crs).to_file(path)
    verdict = _zones(tmp_path, place).check(path, reveal_zones=True)
    assert verdict.zones.count == 1
    assert verdict.zones.by_class["military"].features == expected
    assert next(p for p in verdict.packs if p.name == PACK_OF[place]).applies
    mismatch = next(f for f in verdict.findings if f.rule_id == "MAPGATE-CRS-MISMATCH")
    assert "outside the CRS's area of use" in mismatch.message
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(("place", "far"), [("seoul", "tokyo"), ("delhi", "bangkok")])
def test_a_coarse_image_from_the_zone_to_the_far_box_meets_the_zone(tmp_path, place, far):
    # One outline from the sensitive place to the far one, in the far place's UTM zone.
    crs = _utm(*FAR[far])
    t = Transformer.from_crs(4326, crs, always_xy=True)
    (x0, x1), (y0, y1) = t.transform(
        [PLACES[place][0], FAR[far][0]], [PLACES[place][1], FAR[far][1]]
    )
    west, east = min(x0, x1) - 5_000, max(x0, x1) + 5_000
    south, north = min(y0, y1) - 5_000, max(y0, y1) + 5_000
    pixel = 1_000.0
    width, height = int((east - west) // pixel) + 1, int((north - south) // pixel) + 1
    path = tmp_path / "split.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="uint8",
        crs=f"EPSG:{crs}",
        transform=from_origin(west, north, pixel, pixel),
        tiled=True,
        sparse_ok=True,
    ) as dst:
        dst.write(np.zeros((1, 1, 1), dtype="uint8"), window=((0, 1), (0, 1)))
    verdict = _zones(tmp_path, place).check(path)
    assert verdict.zones.count == 1
    assert next(p for p in verdict.packs if p.name == PACK_OF[place]).applies
    assert "MAPGATE-CRS-MISMATCH" in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("seoul", Effect.deny),  # KR-SECURITY-ZONES-LARGE-SCALE
        ("busan", Effect.deny),
        ("delhi", Effect.allow_with_conditions),  # IN-SENSITIVE-ATTRIBUTES: on a zone
        ("tel_aviv", Effect.allow),  # us-kba limits imagery only
    ],
)
def test_control_the_same_buildings_in_their_own_utm_zone(tmp_path, place, expected):
    crs = _utm(*PLACES[place])
    buildings = _buildings(place, crs, 12)
    path = tmp_path / "near.gpkg"
    gpd.GeoDataFrame(geometry=buildings, crs=crs).to_file(path)
    verdict = _zones(tmp_path, place).check(path)
    assert verdict.zones.count == 1
    assert verdict.zones.by_class["military"].features == _on_zone(place, buildings, crs) == 12
    assert {p.name for p in verdict.packs if p.applies} == {PACK_OF[place]}
    assert "MAPGATE-CRS-MISMATCH" not in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == expected
