"""Sheared and rotated pixel grids are measured by the spacing of neighbouring pixel
centres, not by a pixel's sides.

The move: shear the grid so that both pixel sides stay above a limit while neighbouring
centres (one row down, a few columns back) are closer than it. Pixel vectors (0.5, 0) m
and (0.45, -0.3) m have sides of 0.50 and 0.54 m, but centres 0.30 m apart.

Truth is a brute-force search over every pixel step of up to six columns and six rows,
each measured with pyproj.Geod between centres placed through the affine and pyproj; no
lattice reduction, and nothing from the checker. Each raster is under 30 m across, where
the projections' scale varies by under 1e-6, so the checker (which samples other
positions) must agree to 1e-4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod, Transformer
from rasterio.transform import Affine

from compliance import Checker
from tests.builders import write_raster

GEOD = Geod(ellps="WGS84")
SIZE = 48  # pixels per side
PLACES = {"tel_aviv": (34.78, 32.08), "delhi": (77.21, 28.61), "seoul": (126.98, 37.57)}


def _turn(vector: tuple[float, float], degrees: float) -> tuple[float, float]:
    t = math.radians(degrees)
    x, y = vector
    return x * math.cos(t) - y * math.sin(t), x * math.sin(t) + y * math.cos(t)


def _grid_affine(crs: str, place: str, col: tuple, row: tuple) -> Affine:
    """Column and row steps in the CRS's own units, from the place's position in it."""
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*PLACES[place])
    return Affine(col[0], row[0], x, col[1], row[1], y)


def _degree_affine(place: str, col_m: tuple, row_m: tuple) -> Affine:
    """Steps given as (east, north) ground metres, turned into degrees at the place."""
    lon, lat = PLACES[place]
    east = GEOD.line_length([lon, lon + 1e-3], [lat, lat]) / 1e-3  # metres per degree
    north = GEOD.line_length([lon, lon], [lat, lat + 1e-3]) / 1e-3
    return Affine(col_m[0] / east, row_m[0] / east, lon, col_m[1] / north, row_m[1] / north, lat)


def true_spacing(crs: str, a: Affine) -> float:
    """Shortest geodesic between pixel centres over steps of up to six columns and rows,
    at nine centres spread over the raster (its corners, edges and middle)."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    at = np.array([0.5, SIZE / 2, SIZE - 0.5])
    cc, rr = (m.ravel() for m in np.meshgrid(at, at))
    best = math.inf
    for m in range(-6, 7):
        for n in range(0, 7):
            if n == 0 and m <= 0:
                continue
            x0, y0 = a * (cc, rr)
            x1, y1 = a * (cc + m, rr + n)
            lon0, lat0 = to_lonlat.transform(x0, y0)
            lon1, lat1 = to_lonlat.transform(x1, y1)
            best = min(best, float(np.min(GEOD.inv(lon0, lat0, lon1, lat1)[2])))
    return best


def _sides(crs: str, a: Affine) -> float:
    """The shortest pixel side on the ground: what a side-length measure reports."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_lonlat.transform(*(a * (0, 0)))
    sides = []
    for step in ((1, 0), (0, 1)):
        lon1, lat1 = to_lonlat.transform(*(a * step))
        sides.append(GEOD.inv(lon0, lat0, lon1, lat1)[2])
    return min(sides)


# (name, place, crs, affine, the limit the spacing must trip and the sides must not)
SHEARED = [
    # Israel (us-kba, 0.4 m): sides 0.50 and 0.54 m, centres 0.30 m apart.
    ("tel_aviv_itm_shear", "tel_aviv", "EPSG:2039", _grid_affine("EPSG:2039", "tel_aviv", (0.5, 0.0), (0.45, -0.3)), 0.4),
    # Israel in degrees, both sides 0.56 m, centres 0.35 m apart.
    ("tel_aviv_degrees", "tel_aviv", "EPSG:4326", _degree_affine("tel_aviv", (0.55, 0.1), (0.5, -0.25)), 0.4),
    # India (1 m): Web Mercator metres are 0.88 ground m at Delhi; sides 1.14 m, centres 0.53 m.
    ("delhi_web_mercator", "delhi", "EPSG:3857", _grid_affine("EPSG:3857", "delhi", (1.3, 0.0), (1.2, -0.6)), 1.0),
    # Korea (0.25 m): a 0.3 m grid turned 30 degrees and sheared, centres 0.18 m apart.
    (
        "seoul_turned_and_sheared",
        "seoul",
        "EPSG:5186",
        _grid_affine("EPSG:5186", "seoul", _turn((0.3, 0.0), 30), _turn((0.28, -0.18), 30)),
        0.25,
    ),
    # Korea: a strong shear whose nearest centres are four columns back and one row down.
    ("seoul_utm_strong_shear", "seoul", "EPSG:32652", _grid_affine("EPSG:32652", "seoul", (0.3, 0.0), (1.25, -0.2)), 0.25),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "place", "crs", "affine", "limit"), SHEARED, ids=[s[0] for s in SHEARED]
)
def test_sheared_grid_is_measured_by_its_nearest_pixel_centres(
    tmp_path, checker: Checker, name, place, crs, affine, limit
):
    truth = true_spacing(crs, affine)
    assert truth < limit <= _sides(crs, affine)  # the trick: sides pass, spacing does not
    v = checker.check(write_raster(tmp_path / f"{name}.tif", crs, affine, SIZE, SIZE))
    assert v.profile.resolution_m == pytest.approx(truth, rel=1e-4)
    assert v.profile.imagery_resolution_m == pytest.approx(truth, rel=1e-4)
    assert v.verdict != "allow"

    # Control: a square grid of the same spacing, at the same place, gets the same verdict.
    square = _degree_affine(place, (truth, 0.0), (0.0, -truth))
    control = checker.check(write_raster(tmp_path / "control.tif", "EPSG:4326", square, SIZE, SIZE))
    assert control.profile.resolution_m == pytest.approx(truth, rel=1e-3)
    assert control.verdict == v.verdict
