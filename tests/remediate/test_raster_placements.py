"""Raster remediation acts on every placement the check measured, not the header's alone.

The check places an image by its header and by each sidecar that places it otherwise (a
world file), and holds it by the strictest. mask_zones drew its mask on the header's
placement only, so an image whose world file put it over a zone (its header 60 km away)
came out unmasked and re-checked clean; coarsen_resolution sized its resampling by the
header's pixel, so a world file's 0.03 m pixels came out 0.04 m. Truth here comes from
rasterio, pyproj and shapely alone: which derivative pixels lie in the zone under the
world file's placement, and their ground size there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.transform import from_origin

from compliance import Checker
from tests.builders import REPO

GEOD = Geod(ellps="WGS84")
N = 100  # pixels a side


def _zone(zone_id: str) -> shapely.Geometry:
    zones = json.loads((REPO / "rules" / "zones" / "demo_zones.geojson").read_text())
    (feature,) = [f for f in zones["features"] if f["properties"]["zone_id"] == zone_id]
    return shapely.geometry.shape(feature["geometry"])


def _image(path: Path, crs: str, corner: tuple[float, float], pixel: float, n: int = N) -> None:
    data = np.random.default_rng(2).integers(1, 255, (3, n, n), dtype="uint8")
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=3, dtype="uint8",
                       crs=crs, transform=from_origin(*corner, pixel, pixel)) as ds:  # fmt: skip
        ds.write(data)


def _world_file(path: Path, corner: tuple[float, float], pixel: float) -> None:
    """A .tfw placing the image's first pixel centre half a pixel in from ``corner``."""
    x, y = corner
    path.with_suffix(".tfw").write_text(
        f"{pixel}\n0\n0\n{-pixel}\n{x + pixel / 2}\n{y - pixel / 2}\n"
    )


@pytest.mark.parametrize("crs", ["EPSG:32652", "EPSG:5186", "EPSG:5179"])
def test_mask_zones_masks_where_a_world_file_places_the_image(tmp_path, crs):
    zone = _zone("DEMO-KR-MIL-01")
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    zx, zy = to_crs.transform(*zone.centroid.coords[0])
    far = to_crs.transform(127.6, 36.9)  # 60 km away: no zone near the header's placement
    pixel = 20.0
    over = (zx - N * pixel / 2, zy + N * pixel / 2)
    path = tmp_path / "ortho.tif"
    _image(path, crs, (far[0] - N * pixel / 2, far[1] + N * pixel / 2), pixel)
    _world_file(path, over, pixel)
    # Truth: the pixels whose centres the world file puts inside the zone.
    cols, rows = np.meshgrid(np.arange(N) + 0.5, np.arange(N) + 0.5)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(
        over[0] + cols * pixel, over[1] - rows * pixel
    )
    inside = shapely.contains_xy(zone, lon, lat)
    assert inside.sum() > 1000
    report = Checker().remediate(path, tmp_path / "out.tif")
    assert report.original.zones.count == 1
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.status == "applied"
    with rasterio.open(tmp_path / "out.tif") as out:
        valid = out.dataset_mask() > 0
    assert not (valid & inside).any(), "pixels in the zone under the world file survived"


@pytest.mark.parametrize(("header", "world"), [(0.3, 0.03), (0.6, 0.05), (0.25, 0.1)])
def test_coarsen_reaches_the_limit_under_every_placement(tmp_path, header, world):
    # Israel: the US licence limit of 0.4 m; the header's pixel is coarser than the world
    # file's, and the check holds the image by the world file's.
    crs, corner, n = "EPSG:32636", (668_000.0, 3_548_000.0), 256
    path = tmp_path / "ortho.tif"
    _image(path, crs, corner, header, n)
    _world_file(path, corner, world)
    report = Checker().remediate(path, tmp_path / "out.tif")
    (coarsen,) = [a for a in report.actions if a.condition == "coarsen_resolution"]
    assert coarsen.status == "applied"
    with rasterio.open(tmp_path / "out.tif") as out:
        factor = out.transform.a / header  # source pixels per derivative pixel
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    lon0, lat0 = to_lonlat.transform(*corner)
    lon1, lat1 = to_lonlat.transform(corner[0] + world * factor, corner[1])
    assert GEOD.inv(lon0, lat0, lon1, lat1)[2] >= 0.4 * (1 - 1e-6)
