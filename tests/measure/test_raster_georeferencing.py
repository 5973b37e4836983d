"""How a raster's pixels are tied to the ground, when the ties are few, contradictory or
unreadable: never a traceback, never an unmeasured ``allow``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.control import GroundControlPoint

from compliance import Checker

# Israeli TM grid (EPSG:2039) numbers at Tel Aviv: a 0.5 m image there is allowed.
TEL_AVIV = Transformer.from_crs(4326, 2039, always_xy=True).transform(34.78, 32.08)


def _gcp_raster(path: Path, ties: list[tuple[float, float, float, float]]) -> Path:
    """A 100 x 100 GeoTIFF placed by GCPs (column, row, east m, south m) from Tel Aviv."""
    x0, y0 = TEL_AVIV
    gcps = [GroundControlPoint(row=r, col=c, x=x0 + e, y=y0 - s) for c, r, e, s in ties]
    with rasterio.open(
        path, "w", driver="GTiff", width=100, height=100, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, 100, 100), dtype="uint8"))
        dst.gcps = (gcps, rasterio.crs.CRS.from_epsg(2039))
    return path


def _corners(pixel_m: float) -> list[tuple[float, float, float, float]]:
    return [(c, r, c * pixel_m, r * pixel_m) for c in (0, 100) for r in (0, 100)]


@pytest.mark.parametrize(
    ("case", "ties"),
    [
        # One pixel tied to two places 0.3 m apart: no spline passes through both, and a
        # least-squares fit would average them away.
        ("one_pixel_two_places", _corners(0.5) + [(0, 0, 0.3, 0.0)]),
        ("all_on_one_line", [(i * 10.0, i * 10.0, i * 5.0, i * 5.0) for i in range(6)]),
        ("a_tie_at_nan", _corners(0.5)[:3] + [(100, 100, float("nan"), 50.0)]),
    ],
)
def test_gcps_no_spline_passes_through_leave_the_raster_unplaced(
    tmp_path, checker: Checker, case, ties
):
    v = checker.check(_gcp_raster(tmp_path / f"{case}.tif", ties))
    assert v.profile.resolution_m is None
    assert not v.profile.georeferenced
    assert "its pixels cannot be mapped to its CRS" in " ".join(v.profile.notes)
    assert v.verdict == "review"

    # Control: the four corner ties of a plain 0.5 m grid, allowed over Israel.
    plain = checker.check(_gcp_raster(tmp_path / "plain.tif", _corners(0.5)))
    assert plain.profile.resolution_m == pytest.approx(0.5, rel=1e-3)
    assert plain.verdict == "allow"


def test_more_gcps_than_can_be_solved_leave_the_raster_unplaced(tmp_path, checker: Checker):
    at = np.linspace(0, 100, 25)
    ties = [(c, r, c * 0.5, r * 0.5) for c in at for r in at]  # 625 ties of a 0.5 m grid
    v = checker.check(_gcp_raster(tmp_path / "many.tif", ties))
    assert v.profile.resolution_m is None
    assert "more than 600" in " ".join(v.profile.notes)
    assert v.verdict == "review"


@pytest.mark.parametrize("name", ["gdal_autotest2/byte_rpc.tif", "rasterio/RGB.byte.rpc.vrt"])
def test_rpc_only_rasters_are_held_for_review(real_data, checker: Checker, name):
    v = checker.check(real_data / "rasters" / name)
    assert v.profile.resolution_m is None
    assert "(RPCs only)" in " ".join(v.profile.notes)
    assert v.verdict == "review"


def test_unreadable_sidecars_place_nothing(tmp_path, checker: Checker):
    from tests.adversarial.test_raster_world_files import _plain_image

    image = _plain_image(tmp_path / "plain.tif", "GTiff")
    image.with_suffix(".tfw").write_text("0.5\n0\n0\n-0.5\n180000.25\n665000.25\n")
    image.with_suffix(".prj").write_text('PROJCS["nothing PROJ can read"')
    v = checker.check(image)
    assert v.profile.crs is None
    assert not v.profile.georeferenced
    assert v.verdict == "review"


def test_a_singular_geotransform_is_not_measured(tmp_path, checker: Checker):
    # Columns and rows both step (0.5, 0.5) m: every pixel centre lies on one line, and
    # centres coincide; the sides' 0.71 m describe no grid.
    from rasterio.transform import Affine

    from tests.builders import write_raster

    x0, y0 = TEL_AVIV
    flat = Affine(0.5, 0.5, x0, 0.5, 0.5, y0)
    v = checker.check(write_raster(tmp_path / "flat.tif", "EPSG:2039", flat, 10, 10))
    assert v.profile.resolution_m is None
    assert v.verdict == "review"
