"""An "overview" finer than the image: GDAL serves a reduced-resolution level of any size.

The move: ship a coarse image (31 m pixels, under every limit) whose overview level, a
TIFF page marked reduced-resolution or an external ``.ovr``, is larger than the image:
0.2 m pixels over the same ground. GDAL lists it as overview level 0 (rasterio's
``overview_level=0``, ``gdal_translate -ovr 0``), so whoever receives the file reads the
fine image; rasterio's overview factors round it to 0 or 1. A level may also be finer
along one axis only (20 x 3100 px over 20 x 20, or 10 x 3100, whose factor of 2 looks
like an ordinary level), or smaller on both axes of a sheared grid yet with rows closer
together than the image's. Claim under test: every level that may be finer is measured
as the image is, and the finest counts.

Truth: each level opened with rasterio at its ``overview_level`` (GDAL's own transform
for it) and its pixel steps measured with pyproj (Transformer and Geod) at its centre;
for a sheared grid, a brute-force search over pixel steps of up to eight columns and
rows. The rasters are under 5 km across, where a projection's scale varies by under
1e-4, so the checker (which samples the whole extent) must agree to 1e-3.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from pyproj import Geod, Transformer
from rasterio.control import GroundControlPoint
from rasterio.enums import Resampling
from rasterio.transform import Affine, GCPTransformer

from compliance import Checker, Effect

GEOD = Geod(ellps="WGS84")
# Places clear of every demo zone (lon, lat).
PLACES = {
    "seoul_mapo": (126.900, 37.550),
    "busan": (129.075, 35.180),
    "daejeon": (127.385, 36.350),
    "gwangju": (126.850, 35.160),
}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _origin(crs: str, place: str) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*PLACES[place])


def _grid(crs: str, place: str, step: float, size: tuple[int, int]) -> Affine:
    """A north-up grid of ``step`` metres centred on the place (in degrees: that many
    metres east and north at the place)."""
    x, y = _origin(crs, place)
    sx = sy = step
    if crs == "EPSG:4326":
        lon, lat = PLACES[place]
        sx = step / (GEOD.line_length([lon, lon + 1e-3], [lat, lat]) / 1e-3)
        sy = step / (GEOD.line_length([lon, lon], [lat, lat + 1e-3]) / 1e-3)
    return Affine(sx, 0, x - size[0] / 2 * sx, 0, -sy, y + size[1] / 2 * sy)


def _pixels(width: int, height: int, count: int = 1) -> np.ndarray:
    """A pattern that deflates well (the content never matters, only the grid)."""
    rows, cols = np.indices((height, width))
    return np.broadcast_to(
        ((rows * 7 + cols * 3) % 250 + 1).astype("uint8"), (count, height, width)
    )


def _write(path: Path, size: tuple[int, int], crs: str | None, transform: Affine | None, count=1):  # type: ignore[no-untyped-def]
    profile = {"driver": "GTiff", "width": size[0], "height": size[1], "count": count}
    profile |= {"dtype": "uint8", "compress": "deflate"}
    if crs is not None:
        profile |= {"crs": crs, "transform": transform}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(_pixels(*size, count))
    return path


def _vrt(path: Path, base: Path, size: tuple[int, int], overviews: list[Path | None]) -> Path:
    """A VRT of ``base`` whose band i has the image ``overviews[i]`` (if any) as its one
    overview, whatever its size: GDAL takes it as given."""
    with rasterio.open(base) as src:
        srs, gt = src.crs.to_wkt(), ", ".join(repr(v) for v in src.transform.to_gdal())
    bands = []
    for i, overview in enumerate(overviews, start=1):
        level = (
            f"<Overview><SourceFilename>{overview}</SourceFilename><SourceBand>1</SourceBand>"
            "</Overview>"
            if overview is not None
            else ""
        )
        bands.append(
            f'<VRTRasterBand dataType="Byte" band="{i}"><SimpleSource><SourceFilename>{base}'
            f"</SourceFilename><SourceBand>{i}</SourceBand></SimpleSource>{level}</VRTRasterBand>"
        )
    path.write_text(
        f'<VRTDataset rasterXSize="{size[0]}" rasterYSize="{size[1]}"><SRS>{srs}</SRS>'
        f"<GeoTransform>{gt}</GeoTransform>{''.join(bands)}</VRTDataset>"
    )
    return path


def with_level(
    path: Path,
    crs: str,
    transform: Affine,
    size: tuple[int, int],
    level: tuple[int, int],
    ovr: bool,
) -> Path:
    """A GeoTIFF of ``size`` px whose one overview is ``level`` px: a reduced-resolution
    page of its own (GDAL's GTiff copy of a VRT's overviews) or an external ``.ovr``."""
    work = path.parent / f"{path.stem}_parts"
    work.mkdir()
    if ovr:
        _write(path, size, crs, transform)
        _write(path.with_name(path.name + ".ovr"), level, None, None)
        return path
    base = _write(work / "base.tif", size, crs, transform)
    fine = _write(work / "level.tif", level, None, None)
    vrt = _vrt(work / "both.vrt", base, size, [fine])
    rasterio.shutil.copy(vrt, path, driver="GTiff", COPY_SRC_OVERVIEWS="YES", COMPRESS="DEFLATE")
    return path


def _steps(crs, transform: Affine, width: int, height: int, steps) -> float:  # type: ignore[no-untyped-def]
    """The shortest ground length of the pixel steps (columns, rows) at the grid's centre."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    c, r = width / 2, height / 2
    lon0, lat0 = to_lonlat.transform(*(transform * (c, r)))
    best = math.inf
    for m, n in steps:
        lon1, lat1 = to_lonlat.transform(*(transform * (c + m, r + n)))
        best = min(best, GEOD.inv(lon0, lat0, lon1, lat1)[2])
    return best


def finest_level(path: Path, steps=((1, 0), (0, 1))) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The image's own spacing and its finest overview level's, each from the transform
    GDAL gives that level, measured with pyproj."""
    with rasterio.open(path) as src:
        base = _steps(src.crs, src.transform, src.width, src.height, steps)
        levels = len(src.overviews(1))
    finest = math.inf
    for level in range(levels):
        with rasterio.open(path, overview_level=level) as ov:
            finest = min(finest, _steps(ov.crs, ov.transform, ov.width, ov.height, steps))
    return base, finest


def _assert_level_counts(verdict, truth: float, level: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert verdict.profile.resolution_m == pytest.approx(truth, rel=1e-3)
    assert "overview level" in verdict.profile.methods["resolution_m"]
    assert any(f"overview level of {level[0]} x {level[1]} px" in n for n in verdict.profile.notes)


# name: (CRS, place, image px, image pixel metres, overview level px, external .ovr)
VARIANTS = {
    "utm52_seoul_page": ("EPSG:32652", "seoul_mapo", (20, 20), 31.0, (3100, 3100), False),
    "korea_tm_busan_ovr": ("EPSG:5186", "busan", (16, 24), 40.0, (3200, 4800), True),
    "degrees_daejeon_page": ("EPSG:4326", "daejeon", (25, 25), 31.0, (4000, 4000), False),
    "utm52_gwangju_ovr_oblong": ("EPSG:32652", "gwangju", (30, 12), 35.0, (5250, 2100), True),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_a_level_larger_than_the_image_counts(tmp_path, checker, name):
    crs, place, size, step, level, ovr = VARIANTS[name]
    path = with_level(
        tmp_path / f"{name}.tif", crs, _grid(crs, place, step, size), size, level, ovr
    )
    base, finest = finest_level(path)
    assert base >= 30 and finest < 0.25  # the trick: a coarse image, a fine level
    verdict = checker.check(path)
    _assert_level_counts(verdict, finest, level)
    assert verdict.verdict == Effect.deny
    assert "KR-IMAGERY-025M" in [f.rule_id for f in verdict.findings]


# name: (CRS, place, overview level px over an image of 20 x 20 px at 31 m, external .ovr)
ONE_AXIS = {
    "rows_factor_1_page": ("EPSG:32652", "seoul_mapo", (20, 3100), False),
    "rows_factor_2_ovr": ("EPSG:5186", "daejeon", (10, 3100), True),  # factor 2: "coarser"
    "columns_degrees_page": ("EPSG:4326", "busan", (3100, 12), False),
}


@pytest.mark.parametrize("name", ONE_AXIS)
def test_a_level_finer_along_one_axis_counts(tmp_path, checker, name):
    crs, place, level, ovr = ONE_AXIS[name]
    size = (20, 20)
    path = with_level(
        tmp_path / f"{name}.tif", crs, _grid(crs, place, 31.0, size), size, level, ovr
    )
    base, finest = finest_level(path)
    assert base >= 30 and finest < 0.25
    verdict = checker.check(path)
    _assert_level_counts(verdict, finest, level)
    assert verdict.verdict == Effect.deny


# Column step (60, 0) m and row step (37.08, -3) m: rows lean so far that the lattice's
# shortest vector is 12.6 m. A level half as wide and 21/34 as high is smaller on both
# axes, yet its rows come 9.7 m apart.
SHEAR = (60.0, 37.08, -3.0)
SHEARED = {"utm52": ("EPSG:32652", "seoul_mapo"), "korea_tm": ("EPSG:5186", "busan"),
           "korea_unified": ("EPSG:5179", "gwangju")}  # fmt: skip
SHORT_STEPS = [(m, n) for m in range(-8, 9) for n in range(0, 9) if n > 0 or m > 0]


@pytest.mark.parametrize("name", SHEARED)
def test_a_smaller_level_of_a_sheared_grid_can_be_finer(tmp_path, checker, name):
    crs, place = SHEARED[name]
    x, y = _origin(crs, place)
    a, b, e = SHEAR
    transform = Affine(a, b, x, 0.0, e, y)
    size, level = (40, 34), (20, 21)
    path = with_level(tmp_path / f"{name}.tif", crs, transform, size, level, ovr=False)
    base, finest = finest_level(path, SHORT_STEPS)
    assert finest < 0.8 * base and base > 12.5 > finest
    verdict = checker.check(path)
    _assert_level_counts(verdict, finest, level)
    # 1:19,400 rather than 1:25,100: an export permit is needed.
    assert verdict.verdict == Effect.review
    assert "KR-SCALE-25K" in [f.rule_id for f in verdict.findings]


@pytest.mark.parametrize("band", [2, 3])
def test_a_level_of_another_band_counts(tmp_path, checker, band):
    """Each band may have overviews of its own (a VRT's, an .img's): band 1 has none."""
    crs, place, size = "EPSG:32652", "daejeon", (20, 20)
    base = _write(tmp_path / "base.tif", size, crs, _grid(crs, place, 31.0, size), count=3)
    fine = _write(tmp_path / "fine.tif", (3100, 3100), None, None)
    path = _vrt(
        tmp_path / "bands.vrt", base, size, [fine if i == band else None for i in (1, 2, 3)]
    )
    with rasterio.open(path) as src:
        assert src.overviews(1) == [] and src.overviews(band) == [0]
        transform = src.transform
    truth = _steps(crs, transform * Affine.scale(20 / 3100), 3100, 3100, [(1, 0), (0, 1)])
    verdict = checker.check(path)
    _assert_level_counts(verdict, truth, (3100, 3100))
    assert verdict.verdict == Effect.deny


@pytest.mark.parametrize(
    "crs, place", [("EPSG:32652", "seoul_mapo"), ("EPSG:5186", "busan"), ("EPSG:4326", "gwangju")]
)
def test_a_level_of_a_gcp_placed_image_counts(tmp_path, checker, crs, place):
    """The GCPs' pixel positions scale with the level, as GDAL's own do."""
    size, level = (20, 20), (3100, 3100)
    grid = _grid(crs, place, 31.0, size)
    path = tmp_path / "gcps.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=20, height=20, count=1, dtype="uint8"
    ) as dst:
        dst.write(_pixels(*size))
        ties = [(0, 0), (20, 0), (20, 20), (0, 20), (10, 10)]
        dst.gcps = (
            [
                GroundControlPoint(row=r, col=c, x=(grid * (c, r))[0], y=(grid * (c, r))[1])
                for c, r in ties
            ],
            rasterio.crs.CRS.from_string(crs),
        )
    _write(path.with_name("gcps.tif.ovr"), level, None, None)
    scale = size[0] / level[0]
    scaled = [
        GroundControlPoint(row=r / scale, col=c / scale, x=(grid * (c, r))[0], y=(grid * (c, r))[1])
        for c, r in ties
    ]
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    with GCPTransformer(scaled, tps=True) as spline:
        xs, ys = spline.xy([1550, 1550, 1551], [1550, 1551, 1550], offset="ul")
    lon, lat = to_lonlat.transform(xs, ys)
    truth = min(GEOD.inv(lon[0], lat[0], lon[i], lat[i])[2] for i in (1, 2))
    verdict = checker.check(path)
    _assert_level_counts(verdict, truth, level)
    assert verdict.verdict == Effect.deny


@pytest.mark.parametrize("name", ["utm52_seoul_page", "korea_tm_busan_ovr", "degrees_daejeon_page"])
def test_the_same_fine_pixels_as_the_image_are_denied(tmp_path, checker, name):
    """Control: the level's pixels as the image itself give the same verdict and spacing."""
    crs, place, size, step, level, _ = VARIANTS[name]
    grid = _grid(crs, place, step, size)
    fine = grid * Affine.scale(size[0] / level[0], size[1] / level[1])
    path = _write(tmp_path / "fine.tif", level, crs, fine)
    truth = _steps(crs, fine, *level, [(1, 0), (0, 1)])
    verdict = checker.check(path)
    assert verdict.profile.resolution_m == pytest.approx(truth, rel=1e-3)
    assert verdict.verdict == Effect.deny
    trick = with_level(tmp_path / "trick.tif", crs, grid, size, level, ovr=name.endswith("ovr"))
    assert checker.check(trick).profile.resolution_m == pytest.approx(truth, rel=1e-3)


@pytest.mark.parametrize("name", ["utm52_seoul_page", "korea_tm_busan_ovr", "degrees_daejeon_page"])
def test_the_coarse_image_alone_is_allowed(tmp_path, checker, name):
    """Control: without its level the image is what it says: 31-40 m, allowed."""
    crs, place, size, step, _, _ = VARIANTS[name]
    grid = _grid(crs, place, step, size)
    path = _write(tmp_path / "coarse.tif", size, crs, grid)
    verdict = checker.check(path)
    assert verdict.profile.resolution_m == pytest.approx(
        _steps(crs, grid, *size, [(1, 0), (0, 1)]), rel=1e-3
    )
    assert verdict.verdict == Effect.allow


# name: (CRS, place, image px, pixel metres, overview factors, external .ovr)
PYRAMIDS = {
    "utm52_internal": ("EPSG:32652", "seoul_mapo", (1000, 700), 0.5, [2, 4, 8, 16], False),
    "korea_tm_ovr": ("EPSG:5186", "busan", (999, 1001), 0.3, [2, 3, 9], True),
    "degrees_internal": ("EPSG:4326", "daejeon", (777, 513), 1.0, [2, 4, 8], False),
}


@pytest.mark.parametrize("name", PYRAMIDS)
def test_ordinary_overviews_measure_as_before(tmp_path, checker, name):
    """Control: a pyramid of coarser levels changes nothing: the same spacing, to the last
    digit, as the same image without overviews, and no level named."""
    crs, place, size, step, factors, ovr = PYRAMIDS[name]
    grid = _grid(crs, place, step, size)
    plain = _write(tmp_path / "plain.tif", size, crs, grid)
    pyramid = _write(tmp_path / "pyramid.tif", size, crs, grid)
    with rasterio.Env(TIFF_USE_OVR=ovr), rasterio.open(pyramid, "r+") as dst:
        dst.build_overviews(factors, Resampling.average)
    assert pyramid.with_name("pyramid.tif.ovr").exists() == ovr
    with rasterio.open(pyramid) as src:
        assert src.overviews(1) == factors
    before, after = checker.check(plain), checker.check(pyramid)
    assert after.profile.resolution_m == before.profile.resolution_m
    assert after.profile.resolution_m == pytest.approx(
        _steps(crs, grid, *size, [(1, 0), (0, 1)]), rel=1e-3
    )
    assert after.profile.methods == before.profile.methods
    assert not any("overview level" in n for n in after.profile.notes)
    assert after.verdict == before.verdict


def test_each_level_opened_where_gdal_cannot_be_asked_directly(tmp_path, checker, monkeypatch):
    """Where rasterio's GDAL library cannot be called, each level is opened instead."""
    import compliance.readers.rasters as rasters

    monkeypatch.setattr(rasters, "rasterio_gdal", lambda: None)
    for name in ("utm52_seoul_page", "korea_tm_busan_ovr"):
        crs, place, size, step, level, ovr = VARIANTS[name]
        path = with_level(
            tmp_path / f"{name}.tif", crs, _grid(crs, place, step, size), size, level, ovr
        )
        _assert_level_counts(checker.check(path), finest_level(path)[1], level)
