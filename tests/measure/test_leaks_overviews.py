"""Overview masks compared window by window with the level above them."""

from __future__ import annotations

import numpy as np
import rasterio
import rasterio.shutil

from compliance.measure.leaks.overviews import overview_leaks
from compliance.readers.dataset import open_dataset
from tests.measure.leak_files import masked_raster


def test_a_block_across_many_windows_is_counted_exactly(tmp_path):
    """2,600 pixels a side: the full resolution is read in windows of about 1,024."""
    path = masked_raster(
        tmp_path / "big.tif", "oslo_utm32", 2600, (700, 1900, 1000, 2300), "nodata", [2, 8]
    )
    # The block's cells at 1/2, but the rim whose span (one pixel around) reaches a
    # valid pixel; the 1/8 level is honest to the 1/2 one, which shows everything.
    truth = (1200 // 2 - 2) * (1300 // 2 - 2)
    leaks = overview_leaks(open_dataset(path))  # type: ignore[arg-type]
    assert [(leak.where, leak.pixels) for leak in leaks] == [("big.tif, overview 1", truth)]


def test_an_image_without_a_mask_has_nothing_to_leak(tmp_path):
    path = tmp_path / "plain.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=1,
        dtype="uint8",
        crs="EPSG:25832",
        transform=rasterio.transform.from_origin(597000, 6644000, 1, 1),
    ) as dst:
        dst.write(np.full((1, 64, 64), 7, dtype="uint8"))
        dst.build_overviews([2, 4])
    source = open_dataset(path)
    assert source.mask_flags == ["all_valid"]  # type: ignore[union-attr]
    assert overview_leaks(source) == []  # type: ignore[arg-type]


def test_a_geopackage_tile_pyramid_is_compared_too(tmp_path):
    """A GeoPackage raster's zoom levels are its overviews."""
    src = masked_raster(tmp_path / "src.tif", "oslo_utm32", 512, (128, 384, 128, 384), "alpha", [2])
    gpkg = tmp_path / "tiles.gpkg"
    rasterio.shutil.copy(src, gpkg, driver="GPKG", RASTER_TABLE="ortho")
    with rasterio.Env(), rasterio.open(gpkg, "r+") as dst:
        dst.build_overviews([2], rasterio.enums.Resampling.nearest)
    source = open_dataset(gpkg)
    assert source.driver == "GPKG"  # type: ignore[union-attr]
    # Built from the masked tiles, the pyramid shows nothing the full level hides.
    assert overview_leaks(source) == []  # type: ignore[arg-type]
