"""Each line's shortest segment on the ground, against geodesics computed here with pyproj:
a small batch measured exactly, a larger one through the ground map."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer

from compliance.geo.segment_metres import GroundMaps
from compliance.measure.line_detail import shortest_segments

GEOD = Geod(ellps="WGS84")


def _lines(crs: str, lon: float, lat: float, vertices: int, per_line: int = 8):
    """Lines of ``per_line`` vertices a few metres apart, in ``crs``; with the coordinates'
    owners and each line's shortest segment measured as a geodesic on the ellipsoid."""
    rng = np.random.default_rng(vertices)
    lons = lon + np.cumsum(rng.uniform(1e-5, 1e-4, vertices))
    lats = lat + np.cumsum(rng.uniform(-5e-5, 5e-5, vertices))
    owner = np.arange(vertices) // per_line
    _, _, dist = GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    dist = np.where(owner[1:] == owner[:-1], dist, np.inf)
    least = [
        dist[owner[:-1] == line].min() for line in np.unique(owner) if (owner == line).sum() > 1
    ]
    xy = np.column_stack(Transformer.from_crs(4326, crs, always_xy=True).transform(lons, lats))
    return xy, owner, np.array(least)


@pytest.mark.parametrize(
    ("crs", "lon", "lat"),
    [("EPSG:5186", 126.98, 37.56), ("EPSG:4326", 77.2, 28.6), ("EPSG:3857", 35.2, 31.8)],
)
def test_a_small_batch_is_measured_as_geodesics(crs, lon, lat):
    xy, owner, truth = _lines(crs, lon, lat, 40)
    found = shortest_segments(xy, owner, GroundMaps(CRS.from_user_input(crs)))
    np.testing.assert_allclose(found.metres, truth, rtol=1e-7)


@pytest.mark.parametrize("vertices", [64, 65, 400])
def test_batches_on_both_sides_of_the_exact_limit_agree_with_geodesics(vertices):
    xy, owner, truth = _lines("EPSG:3857", 10.0, 59.9, vertices)
    found = shortest_segments(xy, owner, GroundMaps(CRS.from_epsg(3857)))
    # As geodesics up to the limit (the projection round trip aside); within the map's
    # part in ten thousand past it.
    np.testing.assert_allclose(found.metres, truth, rtol=1e-7 if vertices <= 64 else 1e-4)


def test_a_small_batch_measures_no_segment_that_touches_a_missing_vertex():
    xy, owner, _ = _lines("EPSG:5186", 126.98, 37.56, 16)
    xy[3] = np.nan  # the first line: segments 2-3 and 3-4 have no length
    found = shortest_segments(xy, owner, GroundMaps(CRS.from_epsg(5186)))
    lon, lat = Transformer.from_crs(5186, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    _, _, dist = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    first = np.nanmin(np.r_[dist[:2], dist[4:7]])
    second = dist[8:15].min()
    np.testing.assert_allclose(found.metres, [first, second], rtol=1e-7)
