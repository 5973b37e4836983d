"""Every image of a raster file is checked, not only the first GDAL opens.

Before, a GeoTIFF whose first page was a 100 m overview of Korea and whose second page was
a 0.1 m orthophoto was measured by its first page and allowed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from compliance import Checker

# EPSG:5186 (Korea Central Belt 2010): (250000, 450000) lies near 127.56 E, 36.65 N.
KOREA = "EPSG:5186"


def _pages(path: Path, *pages: dict) -> Path:
    """A multi-page GeoTIFF: each page a sparse (unwritten) image with its own georeferencing."""
    for i, page in enumerate(pages):
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            count=1,
            dtype="uint8",
            tiled=True,
            sparse_ok=True,
            APPEND_SUBDATASET="YES" if i else "NO",
            **page,
        ) as dst:
            if not i:
                dst.write(np.zeros((1, page["height"], page["width"]), dtype=np.uint8))
    return path


def _page(x: float, y: float, pixel_m: float, size: int, crs: str | None = KOREA) -> dict:
    page: dict = {"width": size, "height": size, "transform": from_origin(x, y, pixel_m, pixel_m)}
    if crs is not None:
        page["crs"] = crs
    return page


def test_a_fine_second_page_counts(tmp_path, checker: Checker):
    path = _pages(
        tmp_path / "pages.tif",
        _page(250_000, 450_000, 100.0, 112),
        _page(250_000, 450_000, 0.1, 20_000),
    )
    with rasterio.open(path) as ds:
        assert ds.res == (100.0, 100.0)  # what GDAL opens: the first page
    v = checker.check(path)
    assert abs(v.profile.resolution_m - 0.1) < 0.001
    assert "the file holds 2 images" in " ".join(v.profile.notes)
    assert v.verdict == "deny"  # 0.1 m imagery of Korea


def test_a_second_page_elsewhere_is_checked_where_it_lies(tmp_path):
    # A zone around the second page only; the first page lies 100 km away.
    import geopandas as gpd
    import shapely

    zones = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z"], "zone_class": ["military"]},
        geometry=[shapely.box(350_000, 449_000, 351_000, 450_000)],
        crs=KOREA,
    ).to_file(zones)
    path = _pages(
        tmp_path / "pages.tif",
        _page(250_000, 450_000, 100.0, 10),
        _page(350_000, 450_000, 100.0, 10),
    )
    v = Checker(zones=zones).check(path)
    assert v.zones.count == 1
    assert v.profile.bounds_wgs84[2] > 128.0  # the footprint takes in both pages


def test_a_second_page_that_cannot_be_placed_holds_the_verdict(tmp_path, checker: Checker):
    path = _pages(
        tmp_path / "pages.tif",
        _page(250_000, 450_000, 100.0, 10),
        _page(0, 0, 1.0, 10, crs=None),
    )
    v = checker.check(path)
    assert v.profile.georeferenced is False
    assert "image GTIFF_DIR:2:pages.tif: no CRS" in " ".join(v.profile.notes)
    assert v.verdict == "review"


def test_a_single_page_geotiff_has_one_image(tmp_path, checker: Checker):
    path = _pages(tmp_path / "one.tif", _page(250_000, 450_000, 100.0, 10))
    v = checker.check(path)
    assert not any("images" in n for n in v.profile.notes)
    assert abs(v.profile.resolution_m - 100.0) < 0.5


def test_the_real_two_image_tiff_gives_a_verdict(real_data: Path, checker: Checker):
    v = checker.check(real_data / "rasters/gdal_autotest2/twoimages.tif")
    assert "the file holds 2 images" in " ".join(v.profile.notes)
    assert v.verdict == "review"  # neither page is georeferenced


def test_a_geopackage_of_two_raster_tables_is_both(tmp_path, checker: Checker):
    # GDAL opens it as a container without bands of its own: before, it could not be placed.
    path = tmp_path / "tiles.gpkg"
    for i, (table, pixel_m, size) in enumerate([("coarse", 100.0, 100), ("fine", 0.5, 2000)]):
        with rasterio.open(
            path,
            "w",
            driver="GPKG",
            width=size,
            height=size,
            count=1,
            dtype="uint8",
            crs=KOREA,
            transform=from_origin(250_000, 450_000, pixel_m, pixel_m),
            RASTER_TABLE=table,
            APPEND_SUBDATASET="YES" if i else "NO",
        ) as dst:
            dst.write(np.zeros((1, size, size), dtype=np.uint8))
    v = checker.check(path)
    assert v.profile.georeferenced is True
    assert abs(v.profile.resolution_m - 0.5) < 0.01
    assert "GPKG:tiles.gpkg:coarse, GPKG:tiles.gpkg:fine" in " ".join(v.profile.notes)
    assert v.verdict in {"review", "deny"}
