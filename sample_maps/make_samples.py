"""Make the sample maps, one per verdict. Run: python sample_maps/make_samples.py

Every sample is synthetic and small; the zones they cross are the fictional demo zones
in rules/zones/demo_zones.geojson.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from shapely.geometry import LineString, Polygon

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(5000)


def _korea_5k_buildings(path: Path) -> None:
    """1:5,000-like building footprints (3-15 m edges) in Korea 2000 / Central Belt 2010,
    laid across the demo military zone DEMO-KR-MIL-01, plus a road-centreline layer."""
    to_tm = Transformer.from_crs(4326, 5186, always_xy=True)
    x0, y0 = to_tm.transform(127.015, 37.462)
    buildings = []
    for i in range(40):
        for j in range(6):
            x = x0 + i * 60.0 + RNG.uniform(0, 10)
            y = y0 + j * 45.0 + RNG.uniform(0, 10)
            w, h = RNG.uniform(6, 15), RNG.uniform(6, 12)
            # An entrance notch of 1.5-3 m: the kind of detail a 1:5,000 survey records.
            n = RNG.uniform(1.5, 3.0)
            buildings.append(
                Polygon(
                    [
                        (x, y),
                        (x + w, y),
                        (x + w, y + h - n),
                        (x + w - n, y + h - n),
                        (x + w - n, y + h),
                        (x, y + h),
                    ]
                )
            )
    frame = gpd.GeoDataFrame(
        {
            "bld_id": np.arange(len(buildings)),
            "use": RNG.choice(["house", "shop", "office"], len(buildings)),
        },
        geometry=buildings,
        crs=5186,
    )
    frame.to_file(path, layer="buildings", driver="GPKG")
    roads = [
        LineString([(x0 - 20 + k * 3.0, y0 - 15), (x0 - 20 + (k + 1) * 3.0, y0 - 15 + (k % 2) * 2)])
        for k in range(320)
    ]
    gpd.GeoDataFrame({"road_id": np.arange(len(roads))}, geometry=roads, crs=5186).to_file(
        path, layer="road_centrelines", driver="GPKG"
    )


def _korea_50k_roads(path: Path) -> None:
    """A generalised 1:50,000-like road map near Daejeon (segments of 100-400 m), scale declared."""
    lines = []
    for k in range(12):
        lon, lat = 127.30 + k * 0.02, 36.30
        pts = []
        for _ in range(15):
            pts.append((round(lon, 5), round(lat, 5)))
            lon += RNG.uniform(0.001, 0.004)
            lat += RNG.uniform(0.001, 0.004)
        lines.append(LineString(pts))
    frame = gpd.GeoDataFrame(
        {"name": [f"road {k}" for k in range(12)], "class": "national"}, geometry=lines, crs=4326
    )
    pyogrio.write_dataframe(
        frame,
        path,
        layer="roads",
        driver="GPKG",
        layer_metadata={"SCALE": "1:50,000", "SOURCE": "synthetic sample"},
    )


def _raster(
    path: Path,
    crs: int | None,
    transform,
    width: int,
    height: int,
    bands: int,
    overviews: bool = False,
    tags: dict[str, str] | None = None,
) -> None:
    yy, xx = np.mgrid[0:height, 0:width]
    data = np.stack([((xx * (b + 1) + yy) % 256).astype("uint8") for b in range(bands)])
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": bands,
        "dtype": "uint8",
        "transform": transform,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if crs is not None:
        profile["crs"] = f"EPSG:{crs}"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if tags:
            dst.update_tags(**tags)
        if overviews:
            dst.build_overviews([2, 4], Resampling.average)


def main() -> None:
    _korea_5k_buildings(HERE / "kr_5k_buildings.gpkg")
    _korea_50k_roads(HERE / "kr_50k_roads.gpkg")
    # 0.25 m orthophoto over Tel Aviv in the Israeli Transverse Mercator grid, with overviews.
    x, y = Transformer.from_crs(4326, 2039, always_xy=True).transform(34.78, 32.08)
    _raster(
        HERE / "ortho_025m_israel.tif",
        2039,
        from_origin(x, y, 0.25, 0.25),
        512,
        512,
        3,
        overviews=True,
    )
    # 10 m four-band satellite scene near Daejeon, UTM 52N.
    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(127.38, 36.35)
    _raster(HERE / "sat_10m_korea.tif", 32652, from_origin(x, y, 10.0, 10.0), 256, 256, 4)
    # A scanned sheet with grid numbers but no CRS: it cannot be placed on the Earth.
    _raster(HERE / "scan_no_crs.tif", None, from_origin(200000.0, 550000.0, 1.0, 1.0), 256, 256, 1)
    for p in sorted(HERE.iterdir()):
        if p.suffix in {".gpkg", ".tif"}:
            print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
