"""Zone buffers on the ground: a 500 m buffer counts features within 500 m + 0.5 m.

Buffers used to push straight edges out by 0.48% (the arcs' correction applied to the
whole distance): features 502.5 m from a 500 m zone were counted. Truth is geodesic,
computed here with pyproj.Geod: points at known distances due out of each edge's middle
and diagonally out of each corner, written in the data's CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point, box
from shapely.ops import transform

from compliance import Checker, Effect

GEOD = Geod(ellps="WGS84")
PLACES = {
    "seoul": (127.03, 37.50),
    "busan": (129.05, 35.15),
    "tel_aviv": (34.78, 32.08),
    "delhi": (77.21, 28.61),
}
BUFFER_M = 500.0
COUNTED = (499.9, 500.4)  # within the buffer and its 0.5 m tolerance
NOT_COUNTED = (501.0, 502.5)  # beyond both


def _pack(tmp_path) -> object:
    """A pack without territory that denies any zone hit, so the zone decides alone."""
    path = tmp_path / "zone-deny.yaml"
    path.write_text(
        'pack: zone-deny\nversion: "1"\ntitle: t\njurisdiction: XX\nrules:\n'
        "  - id: ZD-1\n    title: data on a zone\n    when: zones.count > 0\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return path


def _zone_corners(place: str, zone_crs: int) -> tuple[np.ndarray, np.ndarray]:
    """A square of about 1 km drawn in ``zone_crs`` (straight edges there): its corners
    (SW, SE, NE, NW) in lon/lat and in ``zone_crs``."""
    lon, lat = PLACES[place]
    to = Transformer.from_crs(4326, zone_crs, always_xy=True)
    back = Transformer.from_crs(zone_crs, 4326, always_xy=True)
    if zone_crs == 4326:
        xs, ys = [lon, lon + 0.011, lon + 0.011, lon], [lat, lat, lat + 0.009, lat + 0.009]
    else:
        x, y = to.transform(lon, lat)
        xs, ys = [x, x + 1000, x + 1000, x], [y, y, y + 1000, y + 1000]
    return np.column_stack(back.transform(xs, ys)), np.column_stack([xs, ys])


def _points_at(corners: np.ndarray, distances: tuple[float, ...]) -> list[Point]:
    """Per distance, a point out of each edge's middle (along the geodesic normal) and out
    of each corner (along the bisector of its two normals)."""
    points = []
    n = len(corners)
    for d in distances:
        for i in range(n):
            (lon1, lat1), (lon2, lat2) = corners[i], corners[(i + 1) % n]
            # The geodesic's middle and its direction there; outward is to the right,
            # since the corners run anticlockwise.
            az12, _, length = GEOD.inv(lon1, lat1, lon2, lat2)
            mlon, mlat, az_mid = GEOD.fwd(lon1, lat1, az12, length / 2)
            plon, plat, _ = GEOD.fwd(mlon, mlat, az_mid - 90.0, d)
            points.append(Point(plon, plat))
        for i in range(n):
            # Out of a corner, half-way between the directions away from its two edges.
            clon, clat = corners[i]
            az_next, _, _ = GEOD.inv(clon, clat, *corners[(i + 1) % n])
            az_prev, _, _ = GEOD.inv(clon, clat, *corners[i - 1])
            a, b = np.radians(az_next), np.radians(az_prev)
            bisector = np.degrees(np.arctan2(-np.sin(a) - np.sin(b), -np.cos(a) - np.cos(b)))
            plon, plat, _ = GEOD.fwd(clon, clat, bisector, d)
            points.append(Point(plon, plat))
    return points


def _setup(tmp_path, place: str, zone_crs: int) -> tuple[Checker, np.ndarray]:
    corners_ll, corners_native = _zone_corners(place, zone_crs)
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-1"], "zone_class": ["military"], "buffer_m": [BUFFER_M]},
        geometry=[box(*corners_native.min(axis=0), *corners_native.max(axis=0))],
        crs=zone_crs,
    ).to_file(path)
    return Checker(packs=[_pack(tmp_path)], zones=path), corners_ll


def _write_points(tmp_path, name: str, points: list[Point], data_crs: int) -> object:
    t = Transformer.from_crs(4326, data_crs, always_xy=True)
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame(geometry=[transform(t.transform, p) for p in points], crs=data_crs).to_file(
        path
    )
    return path


CASES = [
    ("seoul", 4326, 5186),
    ("seoul", 5186, 3857),
    ("busan", 5187, 32652),
    ("busan", 32652, 4326),
    ("tel_aviv", 2039, 2039),
    ("tel_aviv", 4326, 32636),
    ("delhi", 4326, 7755),
    ("delhi", 24378, 32643),
]


@pytest.mark.parametrize(("place", "zone_crs", "data_crs"), CASES)
def test_points_within_the_buffer_and_its_tolerance_are_counted(
    tmp_path, place, zone_crs, data_crs
):
    checker, corners = _setup(tmp_path, place, zone_crs)
    points = _points_at(corners, COUNTED)
    verdict = checker.check(_write_points(tmp_path, "near", points, data_crs))
    assert verdict.zones.count == 1
    assert verdict.zones.by_class["military"].features == len(points) == 16
    assert verdict.verdict == Effect.deny


@pytest.mark.parametrize(("place", "zone_crs", "data_crs"), CASES)
def test_points_past_the_tolerance_are_not_counted(tmp_path, place, zone_crs, data_crs):
    checker, corners = _setup(tmp_path, place, zone_crs)
    points = _points_at(corners, NOT_COUNTED)
    verdict = checker.check(_write_points(tmp_path, "far", points, data_crs))
    assert verdict.zones.count == 0
    assert verdict.zones.by_class["military"].features == 0
    # Nothing else holds these points: the zone alone decided.
    assert verdict.verdict == Effect.allow


@pytest.mark.parametrize("distance", [1.0, 1.5, 2.0, 2.5])
def test_each_point_past_the_tolerance_is_clear_one_at_a_time(tmp_path, distance):
    # Every edge middle and corner alone, so that one wrongly counted point shows.
    checker, corners = _setup(tmp_path, "seoul", 4326)
    points = _points_at(corners, (BUFFER_M + distance,))
    for i, point in enumerate(points):
        verdict = checker.check(_write_points(tmp_path, f"p{i}", [point], 5186))
        assert verdict.zones.count == 0, f"point {i} at {BUFFER_M + distance} m was counted"
