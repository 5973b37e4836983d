"""The far edge of a raster (its last row and column, its far corner) is measured.

The move: make the pixels finest along an edge that a sample of pixel corners starting
at row 0 never reaches. In degrees or Web Mercator, ground spacing along a parallel
shrinks towards the pole; a raster stored bottom-up (rows running north) has its
poleward edge last. A single pixel 5 degrees tall is 2.5 to 5% narrower along its far
edge than along its first.

Truth is the geodesic (pyproj.Geod) between the two corners of the far edge, placed
through the affine and pyproj. The checker measures the same geodesic, so the tolerance
is 1e-6 (floating point only).
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod, Transformer
from rasterio.transform import Affine

from compliance import Checker
from tests.builders import write_raster

GEOD = Geod(ellps="WGS84")


def _edge_m(crs: str, a: Affine, row: float, width: int) -> float:
    """Ground length of one pixel along the pixel row line ``row``, at the far column."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_lonlat.transform(*(a * (width - 1, row)))
    lon1, lat1 = to_lonlat.transform(*(a * (width, row)))
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2])


def _degrees_wide(lon: float, lat: float, metres: float) -> float:
    """Degrees of longitude that span ``metres`` along the parallel ``lat``."""
    return metres / (GEOD.line_length([lon, lon + 1e-3], [lat, lat]) / 1e-3)


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)


def _delhi_three_rows_bottom_up() -> tuple[str, Affine, int, int, float]:
    # Rows run north from 28 N, 5/3 degrees each; only the last row's far edge, at 33 N,
    # is under 1 m (its near edge, at 31.33 N, is 1.009 m).
    wide = _degrees_wide(77.2, 28.0, 1.043)
    return "EPSG:4326", Affine(wide, 0.0, 77.2, 0.0, 5.0 / 3, 28.0), 1, 3, 1.0


def _tel_aviv_one_mercator_pixel_bottom_up() -> tuple[str, Affine, int, int, float]:
    # One Web Mercator pixel from 30 N to 33.3 N; 0.41 ground m wide along its first edge.
    x, y0 = _mercator(34.78, 30.0)
    _, y1 = _mercator(34.78, 33.3)
    lon1, lat1 = Transformer.from_crs(3857, 4326, always_xy=True).transform(x + 1.0, y0)
    per_unit = GEOD.inv(34.78, 30.0, lon1, lat1)[2]  # ground metres per grid metre at 30 N
    return "EPSG:3857", Affine(0.41 / per_unit, 0.0, x, 0.0, y1 - y0, y0), 1, 1, 0.4


def _seoul_one_pixel_turned_half_round() -> tuple[str, Affine, int, int, float]:
    # Columns run west, rows north: the origin is the south-east corner, at 36 N.
    wide = _degrees_wide(127.0, 36.0, 0.256)
    return "EPSG:4326", Affine(-wide, 0.0, 127.0, 0.0, 3.0, 36.0), 1, 1, 0.25


CASES = {
    "delhi_three_rows_bottom_up": _delhi_three_rows_bottom_up,
    "tel_aviv_one_mercator_pixel_bottom_up": _tel_aviv_one_mercator_pixel_bottom_up,
    "seoul_one_pixel_turned_half_round": _seoul_one_pixel_turned_half_round,
}


@pytest.mark.parametrize("case", CASES)
def test_the_far_edge_of_the_last_row_is_measured(tmp_path, checker: Checker, case):
    crs, a, width, height, limit = CASES[case]()
    far = _edge_m(crs, a, height, width)
    others = [_edge_m(crs, a, row, width) for row in range(height)]
    assert far < limit < min(others)  # the trick: only the far edge is finer than the limit
    v = checker.check(write_raster(tmp_path / f"{case}.tif", crs, a, width, height))
    assert v.profile.resolution_m == pytest.approx(far, rel=1e-6)
    assert v.verdict != "allow"

    # Control: the same pixels stored top-down (the fine edge first) read the same.
    flipped = a * Affine.translation(0, height) * Affine.scale(1, -1)
    assert np.isclose(_edge_m(crs, flipped, 0, width), far, rtol=1e-9)
    control = checker.check(write_raster(tmp_path / "control.tif", crs, flipped, width, height))
    assert control.profile.resolution_m == pytest.approx(far, rel=1e-6)
    assert control.verdict == v.verdict
