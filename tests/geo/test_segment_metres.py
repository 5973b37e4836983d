"""Ground lengths of short segments: one map for a small extent, a map per node for a large
one, and maps reused batch after batch, each against geodesics computed here with pyproj."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer

from compliance.geo.segment_metres import GroundMap, GroundMaps

GEOD = Geod(ellps="WGS84")


def _segments(crs: str, lon: float, lat: float, span_deg: float, n: int = 2000):
    """Segments of 0.5 to 50 m in every direction, starting anywhere in a square of
    ``span_deg`` degrees: their starts and steps in ``crs`` and their geodesic lengths."""
    rng = np.random.default_rng(abs(int(lon * 10 + lat)))
    lons = lon + rng.uniform(0, span_deg, n)
    lats = lat + rng.uniform(0, span_deg, n)
    az, dist = rng.uniform(0, 360, n), rng.uniform(0.5, 50, n)
    lon2, lat2, _ = GEOD.fwd(lons, lats, az, dist)
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    starts = np.column_stack(to_crs.transform(lons, lats))
    ends = np.column_stack(to_crs.transform(lon2, lat2))
    return starts, ends - starts, dist


def _bounds(xy: np.ndarray) -> tuple[float, float, float, float]:
    return (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())


@pytest.mark.parametrize(
    ("crs", "lon", "lat", "span", "one_map"),
    [
        ("EPSG:5186", 126.9, 37.5, 0.05, True),  # a town near its projection's meridian
        ("EPSG:32652", 128.5, 35.1, 0.05, True),  # a town in its UTM zone
        ("EPSG:2039", 34.8, 32.0, 0.05, True),  # Israeli TM grid
        ("EPSG:32643", 72.8, 19.0, 2.0, False),  # 200 km of India: the scale changes
        ("EPSG:4326", 127.0, 37.5, 0.05, False),  # degrees: east-west shrinks with latitude
        ("EPSG:3857", 10.0, 59.9, 0.05, False),  # Web Mercator at 60 N
    ],
)
def test_ground_lengths_within_a_part_in_ten_thousand(crs, lon, lat, span, one_map):
    starts, steps, truth = _segments(crs, lon, lat, span)
    ground = GroundMap(CRS.from_user_input(crs), _bounds(starts))
    # The one-map shortcut is taken exactly where the map barely changes over the extent.
    assert (ground.one_map is not None) == one_map
    np.testing.assert_allclose(ground.lengths_m(starts, steps), truth, rtol=1e-4)


def test_one_map_refused_where_it_would_be_wrong():
    # Over 11 km of EPSG:3857 at 45 S the scale changes by about 0.2 per cent: one map
    # for all of it would be off by far more than a part in ten thousand somewhere.
    starts, steps, truth = _segments("EPSG:3857", -70.0, -45.1, 0.1)
    ground = GroundMap(CRS.from_epsg(3857), _bounds(starts))
    assert ground.one_map is None
    a, b, c = (float(np.median(v)) for v in (ground.a, ground.b, ground.c))
    dx, dy = steps[:, 0], steps[:, 1]
    one = np.sqrt(a * dx * dx + 2 * b * dx * dy + c * dy * dy)
    assert np.abs(one / truth - 1).max() > 5e-4  # what the shortcut would have given
    np.testing.assert_allclose(ground.lengths_m(starts, steps), truth, rtol=1e-4)


def test_one_map_serves_the_batches_inside_its_margin_and_no_others():
    maps = GroundMaps(CRS.from_epsg(5186))
    starts, steps, truth = _segments("EPSG:5186", 127.0, 37.5, 0.05)
    bx = _bounds(starts)
    first = maps.over(bx)
    assert first.one_map is not None and first.bounds == bx  # the first: its own extent
    inner = starts[starts[:, 0] > starts[:, 0].mean()]
    assert maps.over(_bounds(inner)) is first
    # The next batch, a little past the first's extent, is drawn with a margin...
    span = bx[2] - bx[0]
    second = maps.over((bx[0], bx[1], bx[2] + 0.01 * span, bx[3]))
    assert second is not first and second.one_map is not None and second.holds(bx)
    # ...which serves the batches after it within that margin, and no others.
    assert maps.over((bx[0] - 0.02 * span, bx[1], bx[2], bx[3])) is second
    far_starts, far_steps, far_truth = _segments("EPSG:5186", 127.5, 37.5, 0.05)
    far = maps.over(_bounds(far_starts))
    assert far is not second
    np.testing.assert_allclose(far.lengths_m(far_starts, far_steps), far_truth, rtol=1e-4)
    np.testing.assert_allclose(second.lengths_m(starts, steps), truth, rtol=1e-4)


def test_maps_of_a_node_each_keep_to_their_batch():
    # Lon/lat: the map changes over the extent, so each batch gets a map over its own
    # extent, exactly as the first batch does (no margin, no reuse beyond it).
    maps = GroundMaps(CRS.from_epsg(4326))
    boxes = [(126.0, 37.0, 127.0, 38.0), (126.0, 37.0, 127.01, 38.0), (126.1, 37.1, 126.9, 37.9)]
    first, second, inner = (maps.over(b) for b in boxes)
    assert first.one_map is None and first.bounds == boxes[0]
    assert second is not first and second.bounds == boxes[1]
    assert inner is second


def test_a_map_near_a_pole_keeps_to_its_batch():
    # Lon/lat data up to 89.99 N: no margin that could reach past the pole.
    crs = CRS.from_epsg(4326)
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(10, 11, 500), rng.uniform(89.9, 89.99, 500)
    az, dist = rng.uniform(0, 360, 500), rng.uniform(0.5, 20, 500)
    lon2, lat2, _ = GEOD.fwd(lons, lats, az, dist)
    starts = np.column_stack([lons, lats])
    maps = GroundMaps(crs)
    for _ in range(2):
        ground = maps.over(_bounds(starts))
        assert ground.everywhere and ground.bounds == _bounds(starts)
    # So close to the pole a node's map is coarse: lengths here are ranked, and the few a
    # rule reads are measured again exactly.
    error = np.abs(ground.lengths_m(starts, np.column_stack([lon2, lat2]) - starts) / dist - 1)
    assert np.median(error) < 0.01
