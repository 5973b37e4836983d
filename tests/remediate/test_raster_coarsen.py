"""coarsen_resolution on rasters: the derivative's pixels are the resolution apart on the
ground (measured here with pyproj.Geod between neighbouring pixel centres, over the whole
grid), averaged from the full image only (a stale overview does not leak in), masks
honoured; its re-check no longer asks for coarsening.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Geod, Transformer

from compliance import Checker
from tests.remediate.conftest import write_pack
from tests.remediate.raster_builders import write_raster

GEOD = Geod(ellps="WGS84")


def coarsen_pack(resolution_m: float) -> str:
    return f"""\
pack: coarsen-test
version: "1"
title: Imagery finer than {resolution_m} m must be coarsened
jurisdiction: XX
rules:
  - id: T-COARSEN
    title: Fine imagery
    when: dataset.has_imagery && dataset.imagery_resolution_m < {resolution_m}
    effect: allow_with_conditions
    conditions: [coarsen_resolution: {{resolution_m: {resolution_m}}}]
    reference: test fixture
"""


def finest_spacing_m(path: Path) -> tuple[float, float]:
    """Finest and coarsest ground distance between neighbouring pixel centres (one column
    or one row apart), on a 9 x 9 grid of places over the image, far edges included."""
    with rasterio.open(path) as ds:
        a, w, h, crs = ds.transform, ds.width, ds.height, ds.crs
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    cols, rows = np.meshgrid(np.linspace(0.5, w - 1.5, 9), np.linspace(0.5, h - 1.5, 9))
    cols, rows = cols.ravel(), rows.ravel()
    lon, lat = to_lonlat.transform(*(a * (cols, rows)))
    lengths = []
    for dc, dr in ((1, 0), (0, 1)):
        lon2, lat2 = to_lonlat.transform(*(a * (cols + dc, rows + dr)))
        lengths.append(GEOD.inv(lon, lat, lon2, lat2)[2])
    spacing = np.concatenate(lengths)
    return float(spacing.min()), float(spacing.max())


# (validity, CRS, input pixel m, required m, input overviews)
CASES = [
    ("nodata", 5186, 0.1, 0.25, "internal"),
    ("alpha", 32652, 0.2, 0.5, "ovr"),
    ("mask", 4326, 0.3, 1.0, "internal"),
    ("none", 3857, 0.15, 0.4, "internal"),
    ("nodata", 4326, 0.5, 3.0, None),
]


@pytest.mark.parametrize(("kind", "epsg", "side_m", "wanted_m", "overviews"), CASES)
def test_coarsened_to_the_ground_resolution(
    tmp_path: Path,
    zones_file: Path,
    kind: str,
    epsg: int,
    side_m: float,
    wanted_m: float,
    overviews: str | None,
) -> None:
    source = write_raster(tmp_path / "in.tif", epsg, kind, side_m, 800, overviews)
    before, _ = finest_spacing_m(source)
    assert before < wanted_m
    # Every valid pixel 100, then the overviews left stale: were they read, 100 would not
    # come out.
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(source, "r+") as ds:
        valid = ds.dataset_mask() != 0
        data = np.where(valid, 100, 0).astype("uint8")
        for band in range(1, ds.count + 1):
            if kind != "alpha" or band != 4:
                ds.write(data, band)
    checker = Checker(packs=[write_pack(tmp_path, coarsen_pack(wanted_m))], zones=zones_file)
    out = tmp_path / "coarse.tif"
    report = checker.remediate(source, out)

    assert report.original.conditions == ["coarsen_resolution"]
    action = report.actions[0]
    assert action.status == "applied"
    finest, coarsest = finest_spacing_m(out)
    assert wanted_m <= finest <= wanted_m * 1.002
    assert action.changes.resolution_before_m == pytest.approx(before, rel=1e-3)
    assert action.changes.resolution_after_m == pytest.approx(finest, rel=1e-3)
    with rasterio.open(out) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.crs == rasterio.crs.CRS.from_epsg(epsg)
        out_valid = ds.dataset_mask() != 0
        bands = [b for b in range(1, ds.count + 1) if not (kind == "alpha" and b == 4)]
        pixels = ds.read(bands)
    # The corner without data (40 x 40 input pixels) stays without data.
    assert out_valid[0, 0] == (kind == "none")
    assert out_valid.mean() > 0.9
    assert (pixels[:, out_valid] == 100).all(), "averages mixed in invalid or overview pixels"
    assert report.verdict.conditions == []
    assert report.verdict.profile.resolution_m == pytest.approx(finest, rel=1e-3)


def test_already_coarse_enough_is_not_needed(tmp_path: Path, zones_file: Path) -> None:
    source = write_raster(tmp_path / "in.tif", 5186, "nodata", 2.0, 200, None)
    checker = Checker(packs=[write_pack(tmp_path, coarsen_pack(1.0))], zones=zones_file)
    report = checker.remediate(source, tmp_path / "out.tif")
    assert report.original.conditions == [] and report.actions == []
    with rasterio.open(tmp_path / "out.tif") as ds, rasterio.open(source) as original:
        assert ds.transform == original.transform
        np.testing.assert_array_equal(ds.read(), original.read())


@pytest.mark.parametrize("epsg", [5186, 4326, 3857])
def test_paletted_classes_are_picked_not_averaged(
    tmp_path: Path, zones_file: Path, epsg: int
) -> None:
    source = write_raster(tmp_path / "classes.tif", epsg, "nodata", 0.2, 600, None)
    colours = {3: (255, 0, 0, 255), 7: (0, 0, 255, 255)}
    with rasterio.open(source, "r+") as ds:
        rows, cols = np.mgrid[0:600, 0:600]
        ds.write(np.where((rows // 3 + cols // 5) % 2 == 0, 3, 7).astype("uint8"), 1)
        ds.write_colormap(1, colours)
    checker = Checker(packs=[write_pack(tmp_path, coarsen_pack(0.5))], zones=zones_file)
    report = checker.remediate(source, tmp_path / "coarse.tif")
    assert report.actions[0].status == "applied"
    with rasterio.open(tmp_path / "coarse.tif") as ds:
        # 0 is nodata: the last row and column of the coarser grid reach past the image.
        assert set(np.unique(ds.read(1))) <= {0, 3, 7}
        assert set(np.unique(ds.read(1, masked=True).compressed())) == {3, 7}
        assert {k: ds.colormap(1)[k] for k in colours} == colours
        for level in range(len(ds.overviews(1))):
            with rasterio.open(tmp_path / "coarse.tif", overview_level=level) as ov:
                assert set(np.unique(ov.read(1))) <= {0, 3, 7}
    assert report.verdict.conditions == []
