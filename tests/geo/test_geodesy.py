"""Ground measures against hand-computed truth, in several CRSs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from rasterio.transform import Affine, from_origin

from compliance.geo.geodesy import area_km2, geometry_to_wgs84
from compliance.geo.ground_distance import distances_m
from compliance.measure.raster_profile import ground_pixel_size
from compliance.readers.dataset import open_dataset
from tests.builders import write_raster

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


def test_rotated_and_sheared_transforms_measure_the_pixel_lattice(tmp_path):
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
    # Column step (5, 0) m and row step (3, -4) m: both sides are 5 m, but the centres one
    # row down and one column back are (3 - 5, -4) = (-2, -4) m away, sqrt(20) = 4.47 m.
    sheared = Affine(5.0, 3.0, x, 0.0, -4.0, y)
    finest, coarsest = _sizes(tmp_path, "EPSG:32652", sheared)
    assert finest == pytest.approx(math.sqrt(20) / 0.9996, rel=1e-3)
    assert coarsest == pytest.approx(5.0 / 0.9996, rel=1e-3)


def test_geodesic_area_of_a_100km_utm_square_on_the_central_meridian():
    from shapely.geometry import box

    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(129.0, 36.0)
    square = box(x - 50_000, y - 50_000, x + 50_000, y + 50_000).segmentize(1000)
    from pyproj import CRS

    ground = geometry_to_wgs84(square, CRS.from_epsg(32652))
    # The grid area is 10,000 km²; scale varies across the square (0.9996 at the centre line,
    # ~0.99966 at ±50 km), so the ground area is 10,000 / k² with k between them.
    assert 10000 / 0.99966**2 <= area_km2(ground) <= 10000 / 0.9996**2 + 0.1


def test_buffers_reach_their_distance_on_the_ground_and_fall_back_without_a_scale_factor(
    monkeypatch,
):
    import numpy as np
    import shapely
    from pyproj import Geod

    from compliance.geo import geodesy

    # Squares 1° wide at 3 latitudes, one far from its UTM zone's central meridian: a point
    # 2 m inside the buffer, due east of each square's east edge at its middle, is held.
    squares = np.array([shapely.box(x, y, x + 1.0, y + 1.0) for x, y in
                        [(128.5, 0.2), (131.0, 37.0), (-71.9, -60.5)]])  # fmt: skip
    metres = np.full(3, 20_000.0)
    grown = geodesy.buffer_many_on_ground(squares, metres)
    geod = Geod(ellps="WGS84")
    for square, ring in zip(squares, grown, strict=True):
        west, south, east, north = square.bounds
        lon, lat, _ = geod.fwd(east, (south + north) / 2, 90.0, 20_000.0 - 2.0)
        assert ring.covers(shapely.Point(lon, lat))
        lon, lat, _ = geod.fwd(east, (south + north) / 2, 90.0, 20_000.0 * 1.01)
        assert not ring.covers(shapely.Point(lon, lat))

    # Where PROJ gives no scale factor, the geometry is buffered the slow way, not dropped.
    real = geodesy._largest_scale

    def without_a_factor_for_the_first(*args):
        k = real(*args)
        k[0] = np.nan
        return k

    monkeypatch.setattr(geodesy, "_largest_scale", without_a_factor_for_the_first)
    fallback = geodesy.buffer_many_on_ground(squares[:2], metres[:2])
    assert fallback[0].equals(geodesy.buffer_on_ground(squares[0], 20_000.0))
    assert fallback[1].equals(grown[1])


@pytest.mark.parametrize("epsg", [32652, 32719, 32631])
def test_the_buffer_scale_factor_is_the_largest_over_the_grown_box(epsg):
    # Truth by brute force: the projection's factor on a dense grid over each box grown by
    # the buffer never exceeds the factor the buffer is drawn with (to 1e-9: the series'
    # higher terms can move the largest by ~1e-12 near the central meridian, 0.02 mm in 22 km).
    import numpy as np
    from pyproj import CRS, Proj

    from compliance.geo.geodesy import _largest_scale

    crs = CRS.from_epsg(epsg)
    centre = -183.0 + 6.0 * (epsg % 100)
    south = epsg // 100 == 327
    rng = np.random.default_rng(epsg)
    west = centre - 3.5 + rng.random(40) * 6.0
    lat0 = (-rng.random(40) * 70.0) if south else (rng.random(40) * 70.0 - 10.0)
    size = 0.01 + rng.random(40) * 1.5
    bounds = np.column_stack([west, lat0, west + size, lat0 + size])
    metres = rng.choice([500.0, 22_224.0], 40)
    k = _largest_scale(Proj(crs), bounds, west + size / 2, lat0 + size / 2, metres)
    proj = Proj(crs)
    u = np.linspace(0.0, 1.0, 21)
    for i in range(40):
        dlat = metres[i] / 110_574.0
        dlon = metres[i] / (
            111_319.0 * np.cos(np.radians(max(abs(lat0[i]), abs(lat0[i] + size[i])) + dlat))
        )
        xs = bounds[i, 0] - dlon + (size[i] + 2 * dlon) * u
        ys = bounds[i, 1] - dlat + (size[i] + 2 * dlat) * u
        gx, gy = np.meshgrid(xs, ys)
        dense = proj.get_factors(gx.ravel(), gy.ravel()).meridional_scale
        assert dense.max() <= k[i] * (1 + 1e-9), (i, dense.max(), k[i])


@pytest.mark.parametrize(
    ("metres", "tolerance"),
    [(0.5, 0.1), (200.0, 0.1), (500.5, 0.1), (5_000.0, 0.1), (22_224.0, 2.2)],
)
@pytest.mark.parametrize("corner", [(127.0, 37.5), (34.78, 32.08), (77.21, 28.61), (10.0, 59.9)])
def test_a_buffer_reaches_its_distance_and_at_most_its_tolerance_more(metres, tolerance, corner):
    # Straight edges used to move out by 0.48% (the arcs' correction on the whole distance):
    # 2.4 m on a 500 m zone. Truth: the geodesic distance due east of the east edge and
    # diagonally out of the north-east corner, found by bisection on the grown shape.
    import numpy as np
    import shapely
    from pyproj import Geod

    from compliance.geo import geodesy

    geod = Geod(ellps="WGS84")
    lon, lat = corner
    square = shapely.box(lon, lat, lon + 0.01, lat + 0.008)
    (grown,) = geodesy.buffer_many_on_ground(np.array([square]), np.array([metres]), tolerance)
    starts = [(lon + 0.01, lat + 0.004, 90.0), (lon + 0.01, lat + 0.008, 45.0)]
    for start_lon, start_lat, azimuth in starts:
        inside, outside = 0.0, metres + 10 * tolerance + 1.0
        for _ in range(40):
            middle = (inside + outside) / 2
            point = shapely.Point(geod.fwd(start_lon, start_lat, azimuth, middle)[:2])
            inside, outside = (middle, outside) if grown.covers(point) else (inside, middle)
        # Beyond the arcs' tolerance, only the UTM scale factor taken at its largest over
        # the grown box (so that no buffer falls short) adds a few 1e-4 of the distance.
        assert metres - 1e-3 <= inside <= metres + tolerance + 3e-4 * metres + 1e-3


@pytest.mark.parametrize(
    ("radius", "tolerance"), [(100.0, 0.1), (500.0, 0.1), (5_000.0, 0.1), (22_224.0, 2.0)]
)
def test_a_buffer_never_falls_short_where_geos_draws_one_chord_for_a_join(radius, tolerance):
    # GEOS rounds a join's turn to whole quanta, so one chord may span 1.5 of them: an
    # outline that turns by 1.45 quanta at every vertex is the worst case for the chords.
    from compliance.geo.geodesy import _circumscribed, quad_segs_for

    segs = int(quad_segs_for(radius, tolerance))
    turn = 1.45 * np.pi / 2 / segs
    n = int(2 * np.pi / turn)
    t = np.arange(n) * 2 * np.pi / n
    outline = shapely.Polygon(np.column_stack([3e4 * np.cos(t), 3e4 * np.sin(t)]))
    grown = shapely.buffer(outline, _circumscribed(radius, segs), quad_segs=segs)
    edge = shapely.points(
        shapely.get_coordinates(shapely.segmentize(grown.exterior, radius / 2000))
    )
    gap = shapely.distance(outline, edge) - radius
    assert gap.min() >= 0.0
    assert gap.max() <= tolerance * 1.01


@pytest.mark.parametrize(
    "geom",
    [
        # A field with a pond in Korea, the rings in GeoJSON's orientation.
        shapely.Polygon(
            [(127.0, 37.5), (127.01, 37.5), (127.01, 37.51), (127.0, 37.51)],
            [[(127.004, 37.504), (127.004, 37.506), (127.006, 37.506), (127.006, 37.504)]],
        ),
        # Rings drawn the other way round, hole and all, near the pole.
        shapely.Polygon(
            [(10.0, 78.0), (10.0, 79.0), (12.0, 79.0), (12.0, 78.0)],
            [[(10.5, 78.5), (11.0, 78.5), (11.0, 78.7), (10.5, 78.7)]],
        ),
        # Two islands across the equator, one with two lakes.
        shapely.MultiPolygon(
            [
                shapely.Polygon([(-50.0, -1.0), (-49.0, -1.0), (-49.0, 1.0), (-50.0, 1.0)]),
                shapely.Polygon(
                    [(30.0, 0.0), (31.0, 0.0), (31.0, 1.0), (30.0, 1.0)],
                    [
                        [(30.1, 0.1), (30.1, 0.2), (30.2, 0.2), (30.2, 0.1)],
                        [(30.5, 0.5), (30.5, 0.6), (30.6, 0.6), (30.6, 0.5)],
                    ],
                ),
            ]
        ),
        shapely.LineString([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]),  # the routine's own answer
    ],
)
def test_areas_sum_rings_as_pyproj_does(geom):
    # The rings are measured from coordinate arrays; the figure is pyproj's own, to the bit.
    from pyproj import Geod

    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    assert area_km2(geom) == abs(area) / 1e6


def test_the_wgs84_test_is_kept_per_crs_object_and_answers_for_each():
    from pyproj import CRS

    from compliance.geo.crs_identity import is_wgs84

    lonlat, korea = CRS.from_epsg(4326), CRS.from_epsg(5186)
    assert is_wgs84(lonlat) and not is_wgs84(korea)
    assert is_wgs84(CRS.from_user_input("EPSG:4326")) and not is_wgs84(CRS.from_epsg(4258))
    # Asked again, the same objects give the same answers, and a new object its own.
    assert is_wgs84(lonlat) and not is_wgs84(korea) and not is_wgs84(CRS.from_epsg(3857))


@pytest.mark.parametrize(
    ("metres", "poleward"),
    [
        (0.05, 80),
        (1.0, 80),
        (30.0, 60),
        (30.0, 80),
        (999.0, 45),
        (999.0, 80),
        (1001.0, 89.9),
        (50_000.0, 85),
        (5_000_000.0, 89),
    ],
)
def test_distances_are_the_geodesic_whatever_the_length_and_latitude(metres, poleward):
    """Short segments away from the poles are measured by the metric at their middle
    latitude; the rest are solved. Either way each is the geodesic pyproj solves, within
    4e-8 of it (40 um in a km), anywhere on the Earth and across the antimeridian."""
    geod = Geod(ellps="WGS84")
    rng = np.random.default_rng(int(metres + poleward))
    n = 20_000
    lat = rng.uniform(-poleward, poleward, n)
    lon = np.concatenate([rng.uniform(-180, 180, n - 100), np.full(100, 179.99999)])
    lon2, lat2, _ = geod.fwd(lon, lat, rng.uniform(0, 360, n), np.full(n, metres))
    lon2 = (np.asarray(lon2) + 180.0) % 360.0 - 180.0
    truth = np.abs(geod.inv(lon, lat, lon2, lat2)[2])
    found = distances_m(lon, lat, lon2, lat2)
    assert np.allclose(found, truth, rtol=4e-8, atol=1e-9)
    assert np.allclose(found, metres, rtol=1e-6)


@pytest.mark.parametrize("copies", [1, 30])  # 4 pairs are solved; 120 measured
def test_a_distance_to_a_missing_point_is_nan_and_the_others_stand(copies):
    lon = np.tile([126.9, np.nan, 126.9, 10.0], copies)
    lat = np.tile([37.5, 37.5, np.inf, 89.5], copies)
    found = distances_m(lon, lat, lon + 0.001, lat + 0.001)
    lost = np.isnan(lon) | np.isinf(lat)
    assert np.isnan(found[lost]).all()
    truth = np.abs(Geod(ellps="WGS84").inv(lon, lat, lon + 0.001, lat + 0.001)[2])
    assert np.allclose(found[~lost], truth[~lost], rtol=4e-8)
