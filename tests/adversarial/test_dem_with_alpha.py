"""An elevation model with an alpha band beside it.

The move: a raster is taken for elevation (``dataset.has_z``, and the 3-D rules: India
denies heights finer than 3 m) when it is one grey band of a height's number type. A DEM
warped with ``gdalwarp -dstalpha`` carries a second band, its alpha: two bands, so on
the previous head it was taken for an image, and a 2 m DEM of Delhi came out ``allow``.

Claim under test: an alpha band beside one grey band does not hide the elevation, in
two CRSs and number types (``IN-VERTICAL-3M`` fires as for the DEM alone); an RGB image
with alpha, and a DEM with a second band of data, are not taken for elevation by this.

Truth: the rasters are written with rasterio, ``ALPHA=YES`` making the second band
GDAL's alpha, read back with rasterio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer

from compliance import Checker

DELHI = (77.209, 28.614)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["in"])


def _raster(path: Path, epsg: int, bands: list[np.ndarray], dtype: str, alpha: bool) -> Path:
    """Bands of 256 x 256 pixels, 2 m on the ground, at Delhi."""
    if epsg == 4326:
        x, y = DELHI
        step = 2 / 111_320
        transform = Affine(step / np.cos(np.radians(y)), 0, x, 0, -step, y)
    else:
        x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(*DELHI)
        transform = Affine(2, 0, x, 0, -2, y)
    options = {"alpha": "YES"} if alpha else {}
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=len(bands),
                       dtype=dtype, crs=f"EPSG:{epsg}", transform=transform, **options) as out:  # fmt: skip
        out.write(np.stack(bands).astype(dtype))
    with rasterio.open(path) as back:
        roles = [c.name for c in back.colorinterp]
    assert (roles[-1] == "alpha") == alpha
    return path


def _dem() -> np.ndarray:
    yy, xx = np.mgrid[0:256, 0:256]
    return 210 + 5 * np.sin(xx / 40) + 3 * np.cos(yy / 30)


@pytest.mark.parametrize("epsg", [32643, 4326])
@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_an_alpha_band_does_not_hide_a_dem(tmp_path, checker, epsg, dtype):
    alone = checker.check(_raster(tmp_path / "dem.tif", epsg, [_dem()], dtype, False))
    dem = _raster(tmp_path / "dem_alpha.tif", epsg, [_dem(), np.full((256, 256), 255)], dtype,
                  True)  # fmt: skip
    verdict = checker.check(dem)
    assert alone.profile.has_z and verdict.profile.has_z
    assert "IN-VERTICAL-3M" in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == alone.verdict


def test_an_rgb_image_with_alpha_is_no_dem(tmp_path, checker):
    rgb = [np.full((256, 256), v) for v in (10, 20, 30, 255)]
    verdict = checker.check(_raster(tmp_path / "rgba.tif", 32643, rgb, "uint8", True))
    assert not verdict.profile.has_z


def test_two_bands_of_data_are_not_taken_for_a_dem_by_this(tmp_path, checker):
    bands = [_dem(), _dem() * 2]
    verdict = checker.check(_raster(tmp_path / "two.tif", 32643, bands, "float32", False))
    assert not verdict.profile.has_z
