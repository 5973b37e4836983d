"""RPCs beside a decoy geotransform: a second placement the file carries.

The move: a 0.2 m image over a sensitive zone keeps RPCs that place it there (``gdalwarp
-rpc`` and rasterio's ``reproject(rpcs=...)`` orthorectify by them on request), and gets
a geotransform of 31 m pixels that places it 100 km or more away, clear of every zone.
With the RPCs alone it cannot be placed (review); with its true geotransform it is
denied. Claim under test: RPCs that place an image elsewhere than its geotransform, or
space its pixels closer, or cannot be evaluated, are listed as a position the file
carries elsewhere, and hold the verdict for review; RPCs fitted to the geotransform
(within what terrain and datum can explain) change nothing.

Truth: the RPCs are fitted in the test (RPC00B cubic terms, least squares over a grid of
positions) to a placement computed with pyproj; where they put the image is asked of
rasterio's RPCTransformer, and distances and pixel steps are measured with pyproj.Geod.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.rpc import RPC
from rasterio.transform import Affine, RPCTransformer

from compliance import Checker, Effect

GEOD = Geod(ellps="WGS84")
SIZE = 1000  # pixels per side
# The demo zones the true images lie on (lon/lat boxes, as rules/zones draws them).
ZONES = {
    "gov_seoul": (126.970, 37.582, 126.980, 37.590),
    "mil_seoul": (127.020, 37.460, 127.040, 37.475),
    "nrg_ulsan": (129.280, 35.310, 129.310, 35.330),
}
# RPC00B terms without height, by their index: 1, L, P, LP, L^2, P^2, L^3, LP^2, L^2P, P^3.
_TERMS = (0, 1, 2, 4, 7, 8, 11, 12, 14, 15)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _terms(lon_n: np.ndarray, lat_n: np.ndarray) -> np.ndarray:
    one = np.ones_like(lon_n)
    l, p = lon_n, lat_n  # noqa: E741
    return np.column_stack([one, l, p, l * p, l * l, p * p, l**3, l * p * p, l * l * p, p**3])


def fit_rpcs(crs: str, transform: Affine, shift_m: float = 0.0) -> RPC:
    """RPCs that place the image where ``transform`` in ``crs`` does (moved ``shift_m``
    metres east), fitted over a 21 x 21 grid of pixel positions."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    t = np.linspace(0, SIZE, 21)
    cols, rows = (m.ravel() for m in np.meshgrid(t, t))
    lon, lat = to_lonlat.transform(*(transform * (cols, rows)))
    lon, lat, _ = GEOD.fwd(lon, lat, np.full(lon.shape, 90.0), np.full(lon.shape, shift_m))
    lon_off, lat_off = float(np.mean(lon)), float(np.mean(lat))
    lon_scale = float(np.max(np.abs(lon - lon_off))) * 1.1
    lat_scale = float(np.max(np.abs(lat - lat_off))) * 1.1
    design = _terms((lon - lon_off) / lon_scale, (lat - lat_off) / lat_scale)
    half = SIZE / 2
    # GDAL's RPC line and sample count from the centre of the first pixel.
    coefficients = []
    for target in ((rows - 0.5 - half) / half, (cols - 0.5 - half) / half):
        fitted = np.linalg.lstsq(design, target, rcond=None)[0]
        full = [0.0] * 20
        for index, value in zip(_TERMS, fitted, strict=True):
            full[index] = float(value)
        coefficients.append(full)
    den = [1.0] + [0.0] * 19
    return RPC(
        height_off=0.0, height_scale=500.0, lat_off=lat_off, lat_scale=lat_scale,
        long_off=lon_off, long_scale=lon_scale, line_off=half, line_scale=half,
        samp_off=half, samp_scale=half, line_num_coeff=coefficients[0], line_den_coeff=den,
        samp_num_coeff=coefficients[1], samp_den_coeff=den,
    )  # fmt: skip


def _true_grid(zone: str, step: float = 0.2) -> Affine:
    """A north-up UTM 52N grid of ``step`` m pixels centred on the zone."""
    lon0, lat0, lon1, lat1 = ZONES[zone]
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32652", always_xy=True).transform(
        (lon0 + lon1) / 2, (lat0 + lat1) / 2
    )
    return Affine(step, 0, x - SIZE / 2 * step, 0, -step, y + SIZE / 2 * step)


def _grid(crs: str, lon: float, lat: float, step_m: float) -> Affine:
    """A north-up grid of about ``step_m`` metre pixels centred on (lon, lat)."""
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    sx = sy = step_m
    if crs == "EPSG:4326":
        sx = step_m / (GEOD.line_length([lon, lon + 1e-3], [lat, lat]) / 1e-3)
        sy = step_m / (GEOD.line_length([lon, lon], [lat, lat + 1e-3]) / 1e-3)
    return Affine(sx, 0, x - SIZE / 2 * sx, 0, -sy, y + SIZE / 2 * sy)


def write(path, crs=None, transform=None, rpcs=None):  # type: ignore[no-untyped-def]
    profile = {"driver": "GTiff", "width": SIZE, "height": SIZE, "count": 1, "dtype": "uint8"}
    if transform is not None:
        profile |= {"crs": crs, "transform": transform}
    rows, cols = np.indices((SIZE, SIZE))
    with rasterio.open(path, "w", compress="deflate", **profile) as dst:
        dst.write(((rows * 7 + cols * 3) % 250 + 1).astype("uint8")[None])
        if rpcs is not None:
            dst.rpcs = rpcs
    return path


def rpc_places(rpcs: RPC, cols, rows):  # type: ignore[no-untyped-def]
    with RPCTransformer(rpcs) as tr:
        lon, lat = tr.xy(rows, cols, zs=np.zeros(len(cols)), offset="ul")
    return np.asarray(lon), np.asarray(lat)


def _centre_apart_km(rpcs: RPC, crs: str, transform: Affine) -> float:
    lon, lat = rpc_places(rpcs, [SIZE / 2], [SIZE / 2])
    glon, glat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        *(transform * (SIZE / 2, SIZE / 2))
    )
    return GEOD.inv(lon[0], lat[0], glon, glat)[2] / 1000


def _leak(verdict):  # type: ignore[no-untyped-def]
    return [f for f in verdict.findings if f.rule_id == "MAPGATE-LEAK-METADATA-COORDINATES"]


def _assert_held(verdict, trace: str) -> None:  # type: ignore[no-untyped-def]
    found = verdict.profile.leaks.metadata_coordinates
    assert any(trace in t for t in found), found
    assert verdict.verdict == Effect.review
    (finding,) = _leak(verdict)
    assert finding.effect == Effect.review
    assert finding.facts["dataset.metadata_coordinates"] == found


# name: (zone the true 0.2 m image lies on, decoy CRS, decoy centre lon/lat, decoy pixel m)
DECOYS = {
    "gov_seoul_utm_daejeon": ("gov_seoul", "EPSG:32652", (128.0, 36.5), 31.0),
    "mil_seoul_korea_tm_busan": ("mil_seoul", "EPSG:5186", (129.0, 35.2), 35.0),
    "nrg_ulsan_degrees_gangneung": ("nrg_ulsan", "EPSG:4326", (128.9, 37.75), 32.0),
}


@pytest.mark.parametrize("name", DECOYS)
def test_rpcs_beside_a_decoy_geotransform_hold_the_verdict(tmp_path, checker, name):
    zone, crs, (lon, lat), step = DECOYS[name]
    rpcs = fit_rpcs("EPSG:32652", _true_grid(zone))
    decoy = _grid(crs, lon, lat, step)
    path = write(tmp_path / f"{name}.tif", crs, decoy, rpcs)
    # Truth: the RPCs put the image on the zone, the geotransform far from it.
    edge = np.linspace(0, SIZE, 5)
    cols = np.concatenate([edge, np.full(5, SIZE), edge[::-1], np.zeros(5)])
    rows = np.concatenate([np.zeros(5), edge, np.full(5, SIZE), edge[::-1]])
    footprint = shapely.Polygon(np.column_stack(rpc_places(rpcs, cols, rows)))
    assert footprint.intersects(shapely.box(*ZONES[zone]))
    apart = _centre_apart_km(rpcs, crs, decoy)
    assert apart > 100
    verdict = checker.check(path)
    assert verdict.zones.count == 0  # the decoy meets no zone: only the RPCs say where it is
    _assert_held(verdict, "its RPCs place it about")
    trace = next(t for t in verdict.profile.leaks.metadata_coordinates if "RPCs place" in t)
    shown = float(re.search(r"about ([\d.]+) km", trace).group(1))  # type: ignore[union-attr]
    assert shown == pytest.approx(apart, rel=5e-3)


# name: (CRS, place, pixel metres, the RPCs moved east by this much, as terrain would)
CONSISTENT = {
    "utm_daejeon": ("EPSG:32652", (127.385, 36.350), 0.5, 0.0),
    "korea_tm_busan_terrain": ("EPSG:5186", (129.075, 35.180), 2.0, 400.0),
    "degrees_gwangju_terrain": ("EPSG:4326", (126.850, 35.160), 10.0, -700.0),
}


@pytest.mark.parametrize("name", CONSISTENT)
def test_rpcs_fitted_to_the_geotransform_change_nothing(tmp_path, checker, name):
    """Control: RPCs that agree with the geotransform, to the few hundred metres height
    above sea level and a datum shift move an image, are no second placement."""
    crs, (lon, lat), step, shift = CONSISTENT[name]
    grid = _grid(crs, lon, lat, step)
    rpcs = fit_rpcs(crs, grid, shift)
    assert abs(_centre_apart_km(rpcs, crs, grid) * 1000 - abs(shift)) < 1.0  # the fit holds
    with_rpcs = checker.check(write(tmp_path / "rpc.tif", crs, grid, rpcs))
    without = checker.check(write(tmp_path / "plain.tif", crs, grid))
    assert with_rpcs.profile.leaks.metadata_coordinates == []
    assert not _leak(with_rpcs)
    assert with_rpcs.verdict == without.verdict
    assert with_rpcs.profile.resolution_m == without.profile.resolution_m


@pytest.mark.parametrize("zone", ZONES)
def test_the_same_image_by_rpcs_alone_or_its_true_grid(tmp_path, checker, zone):
    """Controls: by its RPCs alone it cannot be placed (review, as before); by its true
    geotransform it lies on the zone and is denied."""
    rpcs = fit_rpcs("EPSG:32652", _true_grid(zone))
    alone = checker.check(write(tmp_path / "rpc_only.tif", rpcs=rpcs))
    _assert_held(alone, "RPC metadata centred at latitude")
    true = checker.check(write(tmp_path / "true.tif", "EPSG:32652", _true_grid(zone)))
    assert true.verdict == Effect.deny and true.zones.count >= 1
    assert true.profile.leaks.metadata_coordinates == []


# name: (CRS, place, pixel metres the geotransform gives; the RPCs give 0.2 m, same centre)
SHRUNK = {
    "utm_daejeon": ("EPSG:32652", (127.385, 36.350), 0.3),
    "korea_tm_busan": ("EPSG:5186", (129.075, 35.180), 1.5),
    "degrees_gwangju": ("EPSG:4326", (126.850, 35.160), 0.6),
}


@pytest.mark.parametrize("name", SHRUNK)
def test_rpcs_that_space_the_pixels_closer_hold_the_verdict(tmp_path, checker, name):
    """Within a kilometre of the geotransform, RPCs may still shrink a small image: 0.2 m
    pixels where the geotransform claims 0.3-1.5 m."""
    crs, (lon, lat), step = SHRUNK[name]
    grid = _grid(crs, lon, lat, step)
    rpcs = fit_rpcs(crs, _grid(crs, lon, lat, 0.2))
    lons, lats = rpc_places(rpcs, [500, 501, 500], [500, 500, 501])
    fine = min(GEOD.inv(lons[0], lats[0], lons[i], lats[i])[2] for i in (1, 2))
    assert fine == pytest.approx(0.2, rel=1e-2) and _centre_apart_km(rpcs, crs, grid) < 0.01
    verdict = checker.check(write(tmp_path / "shrunk.tif", crs, grid, rpcs))
    assert verdict.profile.resolution_m == pytest.approx(step, rel=1e-2)
    _assert_held(verdict, "its RPCs space its pixels")
    assert not any("RPCs place it" in t for t in verdict.profile.leaks.metadata_coordinates)


@pytest.mark.parametrize(
    "crs, place",
    [
        ("EPSG:32652", (127.385, 36.35)),
        ("EPSG:4326", (128.9, 37.75)),
        ("EPSG:5186", (129.075, 35.18)),
    ],
)
def test_rpcs_that_cannot_be_evaluated_hold_the_verdict(tmp_path, checker, crs, place):
    """Fail closed: RPCs whose denominators are all zero place the image nowhere known."""
    grid = _grid(crs, *place, 31.0)
    broken = fit_rpcs(crs, grid).to_dict()
    broken["line_den_coeff"] = [0.0] * 20
    broken["samp_den_coeff"] = [0.0] * 20
    with pytest.warns(rasterio.errors.TransformWarning):  # the truth: rasterio gets nothing
        lon, _ = rpc_places(RPC(**broken), [500], [500])
    assert not np.isfinite(lon).all()
    verdict = checker.check(write(tmp_path / "broken.tif", crs, grid, RPC(**broken)))
    _assert_held(verdict, "RPCs beside its geotransform that cannot be evaluated")
