"""Mislabel part of a layer: lon/lat numbers beside one real position under a metric CRS.

Claim: a layer whose coordinates do not fit its CRS is held for review. Judged by the
layer's extent, one feature at a real position (x in the hundreds of thousands) makes the
extent too large to look like longitudes and latitudes, and the features written in
lon/lat numbers beside it passed as positions near the projection's origin. Each feature
is judged now. The lon/lat numbers are where a zone really is; where they land in the
tagged CRS is computed with pyproj directly.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from compliance import Checker, Effect

# (CRS, one real position in it, a place given as lon/lat numbers, how many lon/lat features)
CASES = [
    (5186, (200_000.0, 550_000.0), (127.03, 37.50), 40),
    (32652, (320_000.0, 4_150_000.0), (129.05, 35.15), 1),
    (5179, (960_000.0, 1_950_000.0), (126.98, 37.57), 7),
]


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _layer(tmp_path, epsg: int, real: tuple, place: tuple, n: int, mixed: bool):
    lon, lat = place
    d = 0.001  # a building of about 100 m, in degrees
    fakes = [box(lon + 2 * i * d, lat, lon + (2 * i + 1) * d, lat + d) for i in range(n)]
    x, y = real
    reals = [box(x, y, x + 100.0, y + 100.0)]
    path = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame(geometry=(fakes if mixed else []) + reals, crs=epsg).to_file(path)
    return path


@pytest.mark.parametrize(("epsg", "real", "place", "n"), CASES)
def test_lonlat_numbers_beside_a_real_position_are_a_crs_mismatch(
    tmp_path, checker, epsg, real, place, n
):
    # Where the lon/lat numbers land when read in the tagged CRS: nowhere near the place.
    landed = Transformer.from_crs(epsg, 4326, always_xy=True).transform(*place)
    assert abs(landed[0] - place[0]) > 1 or abs(landed[1] - place[1]) > 1
    verdict = checker.check(_layer(tmp_path, epsg, real, place, n, mixed=True))
    codes = {f.rule_id for f in verdict.findings}
    assert "MAPGATE-CRS-MISMATCH" in codes
    mismatch = next(f for f in verdict.findings if f.rule_id == "MAPGATE-CRS-MISMATCH")
    assert f"{n} of its features" in mismatch.message
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize(("epsg", "real", "place", "n"), CASES)
def test_control_the_real_position_alone_fits_its_crs(tmp_path, checker, epsg, real, place, n):
    verdict = checker.check(_layer(tmp_path, epsg, real, place, n, mixed=False))
    assert "MAPGATE-CRS-MISMATCH" not in {f.rule_id for f in verdict.findings}
