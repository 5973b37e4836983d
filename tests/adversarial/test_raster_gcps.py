"""A raster placed by GCPs alone is measured through the GCPs, never one best-fit affine.

The move: warp the grid. Columns are 0.3 m apart on one half of the image and 0.6 m on
the other; one affine fitted to the GCPs averages that to 0.45 m, and its outline stops
341 m short of the GCPs along one edge (and overshoots the other), so a zone inside the
real extent, by that edge, is never met.

Truth: the local spacing is measured with rasterio's own GCP transformer (GDAL's
thin-plate spline, which the GCPs define) at every 100th pixel position, each step's
ground length taken with pyproj.Geod; the spline bends a little past the fold, so the
finest spacing (about 0.28 m) lies just beside it. The checker samples other positions:
within 2%. The zones are written by the test, in the raster's CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.control import GroundControlPoint
from rasterio.transform import GCPTransformer, from_gcps, from_origin

from compliance import Checker

GEOD = Geod(ellps="WGS84")
SIZE = 10_000  # pixels per side; never written (a sparse GeoTIFF)
STEP = 1_000  # pixels between GCPs


def _fold(pixels: np.ndarray, fine_first: bool) -> np.ndarray:
    """Ground metres along a warped axis: 0.3 m pixels on one half, 0.6 m on the other."""
    half = SIZE / 2
    a, b = (0.3, 0.6) if fine_first else (0.6, 0.3)
    return np.where(pixels <= half, a * pixels, a * half + b * (pixels - half))


def _local_metres(cols: np.ndarray, rows: np.ndarray, warp: str) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) metres from the origin; ``warp`` names the axis and its fine half."""
    if warp == "columns_fine_left":
        return _fold(cols, True), -0.45 * rows
    if warp == "columns_fine_right":
        return _fold(cols, False), -0.45 * rows
    return 0.45 * cols, -_fold(rows, True)  # rows_fine_top


def _to_crs(east: np.ndarray, north: np.ndarray, crs: str, lon: float, lat: float):  # type: ignore[no-untyped-def]
    """Local metres at (lon, lat) as coordinates in ``crs``: grid metres from the place's
    position in a projected CRS; in degrees, walked out on the ellipsoid."""
    if crs == "EPSG:4326":
        east, north = np.broadcast_arrays(np.asarray(east, float), np.asarray(north, float))
        lon1, lat1, _ = GEOD.fwd(
            np.full_like(east, lon), np.full_like(east, lat), np.full_like(east, 90.0), east
        )
        lon2, lat2, _ = GEOD.fwd(lon1, lat1, np.where(north >= 0, 0.0, 180.0), np.abs(north))
        return np.asarray(lon2), np.asarray(lat2)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return x + east, y + north


VARIANTS = {
    # name: (crs, lon, lat, warp, the pixel along the warped axis where the zone lies: by
    # the edge whose GCPs the fitted affine stops short of)
    "seoul_utm": ("EPSG:32652", 127.0, 37.5, "columns_fine_left", SIZE - 300.0),
    "tel_aviv_itm": ("EPSG:2039", 34.76, 32.06, "columns_fine_right", 300.0),
    "delhi_degrees": ("EPSG:4326", 77.19, 28.63, "rows_fine_top", SIZE - 300.0),
}


def _gcps(crs: str, lon: float, lat: float, warp: str) -> list[GroundControlPoint]:
    at = np.arange(0, SIZE + 1, STEP, dtype=float)
    cc, rr = (m.ravel() for m in np.meshgrid(at, at))
    xs, ys = _to_crs(*_local_metres(cc, rr, warp), crs, lon, lat)
    return [
        GroundControlPoint(row=r, col=c, x=x, y=y)
        for c, r, x, y in zip(cc, rr, xs, ys, strict=True)
    ]


def _write(path, gcps, crs: str):  # type: ignore[no-untyped-def]
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint8",
        tiled=True, sparse_ok=True,
    ) as dst:  # fmt: skip
        dst.gcps = (gcps, rasterio.crs.CRS.from_string(crs))
    return path


def _true_finest(gcps, crs: str) -> float:  # type: ignore[no-untyped-def]
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    at = np.arange(0.0, SIZE, 100.0)
    cc, rr = (m.ravel() for m in np.meshgrid(at, at))
    with GCPTransformer(gcps, tps=True) as t:
        lon0, lat0 = to_lonlat.transform(*t.xy(rr, cc, offset="ul"))
        steps = []
        for dc, dr in ((1, 0), (0, 1)):
            lon1, lat1 = to_lonlat.transform(*t.xy(rr + dr, cc + dc, offset="ul"))
            steps.append(GEOD.inv(lon0, lat0, lon1, lat1)[2])
    return float(np.min(steps))


def _zone_beyond_the_fit(gcps, variant: str, path):  # type: ignore[no-untyped-def]
    """A 100 m zone inside the real extent (its centre 90-180 m in from an edge) where
    the affine fit does not reach."""
    crs, lon, lat, warp, at = VARIANTS[variant]
    if warp.startswith("columns"):
        corner = _local_metres(np.array([at]), np.array([SIZE / 2]), warp)
    else:
        corner = _local_metres(np.array([SIZE / 2]), np.array([at]), warp)
    x, y = _to_crs(*corner, crs, lon, lat)
    zone = shapely.box(x[0], y[0], x[0], y[0]).buffer(
        50.0 if crs != "EPSG:4326" else 0.0004, cap_style="square"
    )
    fitted = from_gcps(gcps)
    fitted_outline = shapely.Polygon(
        [fitted * p for p in ((0, 0), (SIZE, 0), (SIZE, SIZE), (0, SIZE))]
    )
    assert not zone.intersects(fitted_outline)  # the trick: one affine never reaches it
    gpd.GeoDataFrame(
        {"zone_id": ["Z1"], "zone_class": ["military"]}, geometry=[zone], crs=crs
    ).to_file(path)
    return path


@pytest.mark.parametrize("variant", VARIANTS)
def test_gcp_warp_is_measured_where_it_is_finest_and_placed_where_it_reaches(tmp_path, variant):
    crs, lon, lat, warp, _ = VARIANTS[variant]
    gcps = _gcps(crs, lon, lat, warp)
    raster = _write(tmp_path / f"{variant}.tif", gcps, crs)
    zones = _zone_beyond_the_fit(gcps, variant, tmp_path / "zones.gpkg")
    truth = _true_finest(gcps, crs)
    assert truth < 0.305

    v = Checker(zones=zones).check(raster)
    assert v.profile.georeferenced
    assert v.profile.resolution_m == pytest.approx(truth, rel=0.02)
    assert v.zones.count == 1
    footprint = shapely.geometry.shape(v.profile.footprint_wgs84)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    corners = [to_lonlat.transform(g.x, g.y) for g in gcps]
    assert footprint.buffer(1e-6).contains(shapely.MultiPoint(corners))  # reaches every GCP
    assert v.verdict != "allow"

    # Control: a plain geotransform with the fine half's 0.3 m pixels over the same place
    # and the zone: the same zone met, the same verdict.
    x0, y0 = _to_crs(np.array([0.0]), np.array([0.0]), crs, lon, lat)
    east, north = _local_metres(np.array([SIZE]), np.array([SIZE]), warp)
    cols = int(east[0] / 0.3) + 1
    rows = int(-north[0] / 0.3) + 1
    step = 0.3 if crs != "EPSG:4326" else 0.3 / GEOD.line_length([lon, lon + 1], [lat, lat])
    step_y = 0.3 if crs != "EPSG:4326" else 0.3 / GEOD.line_length([lon, lon], [lat, lat + 1])
    control_path = tmp_path / "control.tif"
    with rasterio.open(
        control_path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="uint8",
        crs=crs, transform=from_origin(x0[0], y0[0], step, step_y), tiled=True, sparse_ok=True,
    ):  # fmt: skip
        pass
    control = Checker(zones=zones).check(control_path)
    assert control.zones.count == 1
    assert control.profile.resolution_m == pytest.approx(0.3, rel=0.01)
    assert control.verdict == v.verdict


# name: (CRS, lon, lat, grid spacing in CRS units, the displaced GCP (column, row), its
# shift (east, north) in CRS units, the limit the dip must trip and the grid must not)
DIPS = {
    "tel_aviv_itm_east": ("EPSG:2039", 34.78, 32.08, 0.5, (1100.0, 700.0), (15.0, 0.0), 0.4),
    "delhi_mercator_north": ("EPSG:3857", 77.21, 28.61, 1.2, (700.0, 1300.0), (0.0, -40.0), 1.0),
    "seoul_central_belt_diagonal": (
        "EPSG:5186", 126.98, 37.57, 0.3, (1300.0, 1100.0), (-8.0, 8.0), 0.25
    ),
}  # fmt: skip
DIP_SIZE = 2000
DIP_STEP = 100  # pixels between GCPs: a 21 x 21 grid of GCPs


def _dip_gcps(name: str, displaced: bool) -> list[GroundControlPoint]:
    crs, lon, lat, pixel, at, (dx, dy), _ = DIPS[name]
    x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    gcps = []
    for c in range(0, DIP_SIZE + 1, DIP_STEP):
        for r in range(0, DIP_SIZE + 1, DIP_STEP):
            shift = (dx, dy) if displaced and (c, r) == at else (0.0, 0.0)
            x, y = x0 + pixel * c + shift[0], y0 - pixel * r + shift[1]
            gcps.append(GroundControlPoint(row=float(r), col=float(c), x=x, y=y))
    return gcps


def _finest_near(gcps, crs: str, at: tuple[float, float]) -> float:  # type: ignore[no-untyped-def]
    """The spline's finest step within two GCP spacings of ``at``, every 2 pixels."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    span = np.arange(-2 * DIP_STEP, 2 * DIP_STEP + 1, 2.0)
    cc, rr = (m.ravel() for m in np.meshgrid(at[0] + span, at[1] + span))
    with GCPTransformer(gcps, tps=True) as t:
        lon0, lat0 = to_lonlat.transform(*t.xy(rr, cc, offset="ul"))
        steps = []
        for dc, dr in ((1, 0), (0, 1)):
            lon1, lat1 = to_lonlat.transform(*t.xy(rr + dr, cc + dc, offset="ul"))
            steps.append(GEOD.inv(lon0, lat0, lon1, lat1)[2])
    return float(np.min(steps))


@pytest.mark.parametrize("name", DIPS)
def test_a_dip_around_one_gcp_between_sample_nodes_is_found(tmp_path, checker: Checker, name):
    # The move: one GCP of 441, off any regular sampling grid, pulled a few metres, so the
    # pixels beside it are finer than the limit while the rest of the grid is not.
    crs, _, _, _, at, _, limit = DIPS[name]
    gcps = _dip_gcps(name, displaced=True)
    truth = _finest_near(gcps, crs, at)
    assert truth < limit
    path = tmp_path / f"{name}.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=DIP_SIZE, height=DIP_SIZE, count=1, dtype="uint8",
        tiled=True, sparse_ok=True,
    ) as dst:  # fmt: skip
        dst.gcps = (gcps, rasterio.crs.CRS.from_string(crs))
    v = checker.check(path)
    # Within 1%: the checker refines around its finest samples to about 8 pixels; the
    # truth is sampled every 2 pixels.
    assert v.profile.resolution_m == pytest.approx(truth, rel=0.01)
    assert v.verdict != "allow"

    # Control: the same grid without the pulled GCP is as coarse as its pixels.
    plain = _dip_gcps(name, displaced=False)
    with rasterio.open(path, "r+") as dst:
        dst.gcps = (plain, rasterio.crs.CRS.from_string(crs))
    control = checker.check(path)
    assert control.profile.resolution_m > limit
