"""The map draws generated data where it lies: other CRSs, places, a zip, a sheared grid."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer

from tests.api.helpers import Server
from tests.web.fixtures import open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOLERANCE_DEG = 1e-5  # about a metre


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Made:
    upload: Path
    envelope: Box  # the data's own WGS84 envelope, vertex by vertex
    outline: Box  # what the footprint is: a raster's pixel outline, a vector layer's box


def _box_to_wgs84(crs: str, geoms: np.ndarray) -> Box:
    """A vector layer's footprint: its bounding box in its CRS, densified, in WGS84."""
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return to_wgs84.transform_bounds(*shapely.total_bounds(geoms), densify_pts=101)


def _to_wgs84(crs: str, geoms: np.ndarray) -> Box:
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    moved = shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))
    return tuple(shapely.total_bounds(moved))  # type: ignore[return-value]


def zipped_shapefile(root: Path) -> Made:
    """Parcels in Web Mercator around Sao Paulo, as a zip holding a shapefile."""
    x0, y0 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(
        -46.63, -23.55
    )
    boxes = np.array([shapely.box(x0 + i * 37.0, y0 + j * 23.0, x0 + i * 37.0 + 30, y0 + j * 23.0 + 20)
                      for i in range(12) for j in range(9)])  # fmt: skip
    shp = root / "parcels.shp"
    pyogrio.raw.write(str(shp), geometry=shapely.to_wkb(boxes), field_data=[np.arange(len(boxes))],
                      fields=["n"], crs="EPSG:3857", geometry_type="Polygon", driver="ESRI Shapefile")  # fmt: skip
    upload = root / "parcels.zip"
    with zipfile.ZipFile(upload, "w") as z:
        for part in root.glob("parcels.*"):
            if part != upload:
                z.write(part, part.name)
    return Made(upload, _to_wgs84("EPSG:3857", boxes), _box_to_wgs84("EPSG:3857", boxes))


def sheared_geotiff(root: Path) -> Made:
    """A rotated 10 m grid in UTM 33S off Namibia: its outline is not a north-up box."""
    size = 200
    transform = Affine.translation(500_000, 7_500_000) * Affine.rotation(25) * Affine.scale(10, -10)
    path = root / "rotated.tif"
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint8",
                       crs="EPSG:32733", transform=transform) as dst:  # fmt: skip
        dst.write(np.full((1, size, size), 7, dtype="uint8"))
    edge = np.linspace(0, size, 101)
    cols = np.concatenate([edge, np.full(101, size), edge[::-1], np.zeros(101)])
    rows = np.concatenate([np.zeros(101), edge, np.full(101, size), edge[::-1]])
    xs, ys = transform * (cols, rows)
    outline = np.array([shapely.Polygon(np.column_stack([xs, ys]))])
    envelope = _to_wgs84("EPSG:32733", outline)
    return Made(path, envelope, envelope)


def nztm_geopackage(root: Path) -> Made:
    """Roads in New Zealand Transverse Mercator (EPSG:2193) across Wellington."""
    lines = np.array([shapely.LineString([(1_748_000 + i * 90, 5_427_000), (1_749_500 + i * 60, 5_429_300 + i * 15)])
                      for i in range(40)])  # fmt: skip
    path = root / "roads.gpkg"
    pyogrio.raw.write(str(path), geometry=shapely.to_wkb(lines), field_data=[np.arange(len(lines))],
                      fields=["n"], crs="EPSG:2193", geometry_type="LineString", driver="GPKG")  # fmt: skip
    return Made(path, _to_wgs84("EPSG:2193", lines), _box_to_wgs84("EPSG:2193", lines))


@pytest.mark.parametrize("make", [zipped_shapefile, sheared_geotiff, nztm_geopackage])
def test_generated_data_is_drawn_where_it_lies(
    browser, keyed_server: Server, tmp_path: Path, make
) -> None:
    made = make(tmp_path)
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    word = web.upload(made.upload)
    assert word in {"allow", "allow_with_conditions", "review", "deny"}
    drawn = web.page.evaluate(
        """() => { const b = window.mapgateMap.overlay.getBounds();
                   return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"""
    )
    assert drawn == pytest.approx(list(made.outline), abs=TOLERANCE_DEG)
    # And it covers every vertex (the verdict rounds coordinates to 1e-7 degrees, 1 cm).
    west, south, east, north = made.envelope
    assert drawn[0] <= west + 1e-7 and drawn[1] <= south + 1e-7
    assert drawn[2] >= east - 1e-7 and drawn[3] >= north - 1e-7
    web.screenshot(f"place-{made.upload.stem}")
    assert web.outside == [] and web.errors == []
