"""The areal scale factor interpolated over many points matches PROJ's at each point."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Proj

from compliance.geo.areal_scale import areal_scale


@pytest.mark.parametrize(
    ("crs", "lon", "lat", "span"),
    [("EPSG:5186", 126.8, 37.4, 0.6), ("EPSG:32652", 128.5, 35.0, 1.9),
     ("EPSG:3857", 10.0, 60.0, 1.5), ("EPSG:3035", 2.0, 48.5, 2.0),
     ("EPSG:2039", 34.7, 31.9, 0.4), ("EPSG:7755", 77.0, 28.5, 1.0),
     ("EPSG:3413", -45.0, 75.0, 1.8), ("EPSG:32719", -71.2, -34.1, 1.6),
     ("EPSG:32760", 178.6, -88.4, 0.5)],
)  # fmt: skip
def test_interpolated_factors_match_proj(crs, lon, lat, span):
    rng = np.random.default_rng(3)
    lons = lon + rng.uniform(0, span, 5000)
    lats = lat + rng.uniform(0, span, 5000)
    proj = Proj(CRS.from_user_input(crs))
    want = np.array([proj.get_factors(a, b).areal_scale for a, b in zip(lons, lats, strict=True)])
    np.testing.assert_allclose(areal_scale(proj.crs.to_wkt(), lons, lats), want, rtol=1e-6)


def test_a_wide_region_and_points_without_a_position():
    rng = np.random.default_rng(4)
    lons, lats = rng.uniform(120, 135, 3000), rng.uniform(30, 45, 3000)  # 225 tiles
    lons[:3] = np.nan
    proj = Proj(CRS.from_user_input("EPSG:32652"))
    got = areal_scale(proj.crs.to_wkt(), lons, lats)
    want = [
        proj.get_factors(a, b, errcheck=False).areal_scale for a, b in zip(lons, lats, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-6)
