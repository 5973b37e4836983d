"""A netCDF whose coordinate variables are even at the three places GDAL looks.

The move: GDAL's netCDF driver checks a coordinate variable's first, middle and last
steps, and when those agree turns the axis into a geotransform that spreads every pixel
evenly between the first and the last coordinate. So an axis 40 m apart everywhere but
across a run of columns (or rows) 0.2 m apart reads as 40 m data. Claim under test: the
coordinate variables are read in full and the finest step counts, in degrees and in a
projected CRS, for the file's first image and for its other variables; an axis that is
no grid (a repeated coordinate) leaves the spacing unmeasured; an even axis changes
nothing; and remediation does not treat the uneven grid as an affine one.

Truth: the coordinate arrays written here, carried to lon/lat with pyproj and measured
with pyproj's Geod between neighbouring centres over every row and column.
"""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import rasterio
from pyproj import CRS, Geod, Transformer

from compliance import Checker, Effect
from compliance.readers.dataset import open_dataset
from compliance.readers.sources import RasterSource

GEOD = Geod(ellps="WGS84")
UTM52 = CRS.from_epsg(32652)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _axis(start: float, step: float, n: int, fine: float, at: slice) -> np.ndarray:
    steps = np.full(n - 1, step)
    steps[at] = fine
    return start + np.concatenate([[0.0], np.cumsum(steps)])


def _write(
    path: Path, x: np.ndarray, y: np.ndarray, projected: bool = False, extra: bool = False
) -> Path:
    """A CF netCDF of one variable over (y, x) with these coordinate variables; with
    ``extra``, a second, even and coarse variable on other dimensions first."""
    with netCDF4.Dataset(path, "w") as nc:
        nc.Conventions = "CF-1.6"
        names = ("x", "y") if projected else ("lon", "lat")
        crs = nc.createVariable("crs", "i4")
        if projected:
            crs.setncatts(UTM52.to_cf())
        else:
            crs.setncatts(CRS.from_epsg(4326).to_cf())
        if extra:
            nc.createDimension("x0", 4)
            nc.createDimension("y0", 3)
            for dim, values in (
                ("x0", x[0] + np.arange(4) * 0.01),
                ("y0", y[0] + np.arange(3) * 0.01),
            ):
                var = nc.createVariable(dim, "f8", (dim,))
                var[:] = values
                _describe_axis(var, dim[0], projected)
            coarse = nc.createVariable("a_coarse", "f4", ("y0", "x0"))
            coarse.grid_mapping = "crs"
            coarse[:] = np.ones((3, 4))
        for name, values in zip(names, (x, y), strict=True):
            nc.createDimension(name, values.size)
            var = nc.createVariable(name, "f8", (name,))
            var[:] = values
            _describe_axis(var, "x" if name in ("x", "lon") else "y", projected)
        band = nc.createVariable("b_band", "f4", (names[1], names[0]))
        band.grid_mapping = "crs"
        band[:] = np.random.default_rng(1).random((y.size, x.size), dtype=np.float32)
    return path


def _describe_axis(var: netCDF4.Variable, axis: str, projected: bool) -> None:
    if projected:
        var.standard_name = "projection_x_coordinate" if axis == "x" else "projection_y_coordinate"
        var.units = "m"
    else:
        var.standard_name = "longitude" if axis == "x" else "latitude"
        var.units = "degrees_east" if axis == "x" else "degrees_north"


def _truth(x: np.ndarray, y: np.ndarray, crs: CRS) -> float:
    """The shortest ground distance between neighbouring centres, over the whole grid."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xx, yy = np.meshgrid(x, y)
    lon, lat = to_lonlat.transform(xx, yy)
    _, _, along = GEOD.inv(lon[:, :-1], lat[:, :-1], lon[:, 1:], lat[:, 1:])
    _, _, across = GEOD.inv(lon[:-1, :], lat[:-1, :], lon[1:, :], lat[1:, :])
    return float(min(np.min(along), np.min(across)))


def _gdal_even_step(path: Path) -> float:
    """What GDAL's geotransform says, to show the file slips past it."""
    with rasterio.open(path) as ds:
        return abs(ds.transform.a)


def test_a_run_of_fine_longitudes_is_measured(tmp_path: Path, checker: Checker) -> None:
    # 400 columns ~35 m apart in Seoul, 12 of them 0.2 m apart, away from the middle.
    x = _axis(126.90, 0.0004, 400, 0.0000022, slice(60, 72))
    y = _axis(37.50, 0.0003, 150, 0.0003, slice(0, 0))
    path = _write(tmp_path / "lon_run.nc", x, y)
    assert _gdal_even_step(path) > 0.0003  # GDAL spreads the columns evenly
    verdict = checker.check(path)
    truth = _truth(x, y, CRS.from_epsg(4326))
    assert truth < 0.25
    assert verdict.profile.resolution_m == pytest.approx(truth, rel=1e-3)
    assert "uneven coordinate arrays" in verdict.profile.methods["resolution_m"]
    assert verdict.verdict == Effect.deny
    assert "KR-IMAGERY-025M" in [f.rule_id for f in verdict.findings]


def test_a_run_of_fine_rows_in_utm_is_measured(tmp_path: Path, checker: Checker) -> None:
    # Busan in UTM 52N: rows 30 m apart, 5 of them 0.15 m apart, near the last row.
    east, north = Transformer.from_crs("EPSG:4326", UTM52, always_xy=True).transform(129.07, 35.17)
    x = _axis(east, 30.0, 120, 30.0, slice(0, 0))
    y = _axis(north + 9000.0, -30.0, 300, -0.15, slice(280, 285))
    path = _write(tmp_path / "utm_rows.nc", x, y, projected=True)
    verdict = checker.check(path)
    truth = _truth(x, y, UTM52)
    assert truth < 0.2
    assert verdict.profile.resolution_m == pytest.approx(truth, rel=1e-3)
    assert verdict.verdict == Effect.deny


def test_an_uneven_second_variable_is_measured(tmp_path: Path, checker: Checker) -> None:
    x = _axis(127.38, 0.0004, 300, 0.000002, slice(200, 203))
    y = _axis(36.35, 0.0004, 80, 0.0004, slice(0, 0))
    path = _write(tmp_path / "two_vars.nc", x, y, extra=True)
    raster = open_dataset(path)
    assert isinstance(raster, RasterSource) and raster.other_images
    verdict = checker.check(path)
    assert verdict.profile.resolution_m == pytest.approx(
        _truth(x, y, CRS.from_epsg(4326)), rel=1e-3
    )
    assert verdict.verdict == Effect.deny


def test_a_repeated_coordinate_leaves_the_spacing_unmeasured(
    tmp_path: Path, checker: Checker
) -> None:
    x = _axis(126.90, 0.0004, 200, 0.0, slice(120, 121))  # two columns at one longitude
    y = _axis(37.50, 0.0004, 100, 0.0004, slice(0, 0))
    path = _write(tmp_path / "repeated.nc", x, y)
    verdict = checker.check(path)
    assert verdict.profile.resolution_m is None
    assert "coordinate arrays are no grid" in verdict.profile.methods["resolution_m"]
    assert verdict.verdict != Effect.allow
    assert verdict.verdict != Effect.allow_with_conditions


def test_even_axes_measure_as_the_geotransform(tmp_path: Path, checker: Checker) -> None:
    x = _axis(126.90, 0.0004, 200, 0.0004, slice(0, 0))
    y = _axis(37.50, 0.0004, 100, 0.0004, slice(0, 0))
    path = _write(tmp_path / "even.nc", x, y)
    raster = open_dataset(path)
    assert isinstance(raster, RasterSource) and raster.axis_centres is None
    verdict = checker.check(path)
    assert verdict.profile.resolution_m == pytest.approx(
        _truth(x, y, CRS.from_epsg(4326)), rel=1e-3
    )


def test_remediation_does_not_coarsen_an_uneven_grid_as_an_even_one(
    tmp_path: Path, checker: Checker
) -> None:
    x = _axis(126.90, 0.0004, 200, 0.0000022, slice(60, 72))
    y = _axis(37.50, 0.0003, 100, 0.0003, slice(0, 0))
    path = _write(tmp_path / "remedy.nc", x, y)
    report = checker.remediate(path, tmp_path / "out.tif")
    coarsen = [a for a in report.actions if a.condition == "coarsen_resolution"]
    assert coarsen and coarsen[0].status == "cannot_apply"
    assert "evenly spaced" in coarsen[0].reason
    assert report.verdict.verdict != Effect.allow
