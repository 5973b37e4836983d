"""Move: put the data on an island or rock the territory outline left out.

Claim: a pack applies to data anywhere in its country, islands and claimed rocks included.
Before the territories were rebuilt from 1:10m outlines plus a list of named islands,
Dokdo lay 88 km from Korea's outline (beyond its 22 km buffer) and a 0.1 m image of it
was allowed. Each named island gets a fine image and a fine vector layer, in two CRSs, and
its pack must apply; truth (the island is inside the territory file) is read with json and
shapely alone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import shapely.affinity
from pyproj import CRS, Transformer
from rasterio.transform import from_origin
from shapely.geometry import shape

from compliance import Checker
from compliance.verdict import Effect

RULES = Path(__file__).resolve().parents[2] / "rules"
PACK_OF = {"kr": "kr", "in": "in", "il": "us-kba"}


def _islands() -> list[dict[str, str]]:
    with open(RULES / "territories" / "islands.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


ISLANDS = _islands()


def _territory(code: str) -> shapely.Geometry:
    doc = json.loads((RULES / "territories" / f"{code}.geojson").read_text())
    return shapely.union_all([shape(f["geometry"]) for f in doc["features"]])


def _utm(lon: float, lat: float) -> CRS:
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _image(path: Path, lon: float, lat: float, pixel_m: float = 0.1) -> Path:
    """A 64 x 64 image of ``pixel_m`` pixels centred on the place, in its UTM zone."""
    crs = _utm(lon, lat)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    half = 32 * pixel_m
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=1,
        dtype="uint8",
        crs=crs,
        transform=from_origin(x - half, y + half, pixel_m, pixel_m),
    ) as dst:
        dst.write(np.full((1, 64, 64), 7, dtype="uint8"))
    return path


def _buildings(path: Path, lon: float, lat: float) -> Path:
    """Ten building outlines drawn to about 1:1,000 (1 m notches), in lon/lat."""
    m_lat = 1.0 / 111_320.0  # degrees of latitude per metre, near enough for a drawing
    m_lon = m_lat / np.cos(np.radians(lat))
    notched = shapely.Polygon([(0, 0), (12, 0), (12, 6), (11, 6), (11, 7), (0, 7)])
    geoms = [
        shapely.affinity.translate(
            shapely.affinity.scale(notched, m_lon, m_lat, origin=(0, 0)), lon + i * 20 * m_lon, lat
        )
        for i in range(10)
    ]
    gpd.GeoDataFrame({"n": range(10)}, geometry=geoms, crs=4326).to_file(path)
    return path


@pytest.mark.parametrize("row", ISLANDS, ids=[r["name"] for r in ISLANDS])
def test_each_named_island_lies_in_its_territory(row):
    point = shapely.Point(float(row["lon"]), float(row["lat"]))
    assert _territory(row["territory"]).contains(point)


@pytest.mark.parametrize("row", ISLANDS, ids=[r["name"] for r in ISLANDS])
@pytest.mark.parametrize("kind", ["image_utm", "buildings_lonlat"])
def test_fine_data_of_an_island_is_never_allowed(row, kind, checker: Checker, tmp_path):
    lon, lat = float(row["lon"]), float(row["lat"])
    if kind == "image_utm":
        path = _image(tmp_path / "island.tif", lon, lat)
    else:
        path = _buildings(tmp_path / "island.gpkg", lon, lat)
    verdict = checker.check(path)
    pack = PACK_OF[row["territory"]]
    applied = {p.name: p.applies for p in verdict.packs}
    assert applied[pack], f"{pack} does not apply to {row['name']}"
    # The Kyl-Bingaman limit is on imagery alone: vector data of Israel may be allowed.
    if kind == "image_utm" or pack != "us-kba":
        assert verdict.verdict != Effect.allow


def test_the_islands_the_issue_names_are_listed():
    names = {r["name"].split(" (")[0] for r in ISLANDS if r["territory"] == "kr"}
    assert {"Dokdo", "Ulleungdo", "Jeju", "Marado"} <= names


def test_control_the_same_image_in_open_sea_meets_no_pack(checker: Checker, tmp_path):
    # 300 km south-east of Dokdo, in the Sea of Japan's open water: no built-in territory.
    verdict = checker.check(_image(tmp_path / "sea.tif", 134.5, 36.0))
    assert not any(p.applies for p in verdict.packs)
