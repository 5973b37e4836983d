"""Ground measures against hand-computed truth, in several CRSs."""

from __future__ import annotations

import math

import pytest
from pyproj import Transformer
from rasterio.transform import Affine, from_origin

from compliance.geodesy import area_km2, geometry_to_wgs84
from compliance.raster_profile import ground_pixel_size
from compliance.readers.dataset import open_dataset
from tests.conftest import write_raster

A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
# One arc-second at the equator: along the meridian a(1-e²)·(π/648000), along the equator a·(π/648000).
ARCSEC = math.pi / 648000
MERIDIAN_ARCSEC_EQUATOR = A * (1 - E2) * ARCSEC  # 30.7151 m
PARALLEL_ARCSEC_EQUATOR = A * ARCSEC  # 30.9221 m


def _sizes(tmp_path, crs, transform):
    src = open_dataset(write_raster(tmp_path / "r.tif", crs, transform, 8, 8))
    return ground_pixel_size(src)


def test_one_arcsecond_pixel_at_the_equator_is_measured_on_the_ellipsoid(tmp_path):
    finest, coarsest = _sizes(
        tmp_path, "EPSG:4326", from_origin(10.0, 8 / 3600, 1 / 3600, 1 / 3600)
    )
    assert finest == pytest.approx(MERIDIAN_ARCSEC_EQUATOR, rel=1e-4)
    assert coarsest == pytest.approx(PARALLEL_ARCSEC_EQUATOR, rel=1e-4)


def test_utm_pixel_on_the_central_meridian_is_grid_size_over_k0(tmp_path):
    # UTM 52N central meridian is 129°E; k0 = 0.9996 there, so 10 grid metres are 10/0.9996 on the ground.
    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(129.0, 36.0)
    finest, _ = _sizes(tmp_path, "EPSG:32652", from_origin(x - 40, y + 40, 10.0, 10.0))
    assert finest == pytest.approx(10.0 / 0.9996, rel=2e-4)


def test_web_mercator_grid_metres_are_not_ground_metres(tmp_path):
    # At 60° latitude a Web Mercator metre is cos(60°)/sqrt(1-e²sin²60°) ground metres along the parallel.
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(10.0, 60.0)
    finest, _ = _sizes(tmp_path, "EPSG:3857", from_origin(x, y, 1.0, 1.0))
    phi = math.radians(60.0)
    along_parallel = math.cos(phi) / math.sqrt(1 - E2 * math.sin(phi) ** 2)
    assert finest == pytest.approx(along_parallel, rel=5e-3)
    assert finest < 0.51


def test_us_survey_feet_are_converted_to_metres(tmp_path):
    # EPSG:2263, NAD83 / New York Long Island (ftUS): 1 ftUS = 1200/3937 m, scale factor ~1 there.
    x, y = Transformer.from_crs(4326, 2263, always_xy=True).transform(-73.95, 40.75)
    finest, _ = _sizes(tmp_path, "EPSG:2263", from_origin(x, y, 1.0, 1.0))
    assert finest == pytest.approx(1200 / 3937, rel=2e-3)


def test_rotated_and_sheared_transforms_measure_the_pixel_sides(tmp_path):
    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(129.0, 36.0)
    theta = math.radians(30)
    rotated = Affine(
        10 * math.cos(theta),
        -10 * math.sin(theta),
        x,
        10 * math.sin(theta),
        10 * math.cos(theta),
        y,
    )
    finest, coarsest = _sizes(tmp_path, "EPSG:32652", rotated)
    assert finest == pytest.approx(10.0 / 0.9996, rel=1e-3)
    assert coarsest == pytest.approx(10.0 / 0.9996, rel=1e-3)
    sheared = Affine(5.0, 3.0, x, 0.0, -4.0, y)  # column step 5 m, row step sqrt(3²+4²) = 5 m
    finest, coarsest = _sizes(tmp_path, "EPSG:32652", sheared)
    assert finest == pytest.approx(5.0 / 0.9996, rel=1e-3)


def test_geodesic_area_of_a_100km_utm_square_on_the_central_meridian():
    from shapely.geometry import box

    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(129.0, 36.0)
    square = box(x - 50_000, y - 50_000, x + 50_000, y + 50_000).segmentize(1000)
    from pyproj import CRS

    ground = geometry_to_wgs84(square, CRS.from_epsg(32652))
    # The grid area is 10,000 km²; scale varies across the square (0.9996 at the centre line,
    # ~0.99966 at ±50 km), so the ground area is 10,000 / k² with k between them.
    assert 10000 / 0.99966**2 <= area_km2(ground) <= 10000 / 0.9996**2 + 0.1
