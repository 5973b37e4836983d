"""Builders for the look-alike tests: coarse lines, fine payloads, ground truth by pyproj."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import Geod, Transformer

GEOD = Geod(ellps="WGS84")


def at(crs: str, lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)


def road_lines(crs: str, lon: float, lat: float, step: float) -> list[shapely.LineString]:
    """30 lines of 40 vertices ``step`` CRS units apart along x (half that along y)."""
    x0, y0 = at(crs, lon, lat)
    along = np.arange(40) * step
    return [
        shapely.LineString(
            np.column_stack([x0 + i * step * 8 + along, y0 + i * step * 3 + along / 2])
        )
        for i in range(30)
    ]


def write_lines(path: Path, lines: list, crs: str, driver: str) -> Path:
    table = pa.table(
        {
            "name": [f"r{i}" for i in range(len(lines))],
            "geometry": pa.array(list(shapely.to_wkb(np.array(lines))), type=pa.binary()),
        }
    )
    pyogrio.write_arrow(table, path, layer=path.stem, driver=driver, geometry_name="geometry",
                        geometry_type="LineString", crs=crs)  # fmt: skip
    return path


def ground_step(lines: list, crs: str) -> float:
    """The shortest vertex spacing on the ground, by the geodesic between vertices."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    steps = []
    for line in lines:
        lon, lat = to_lonlat.transform(*np.asarray(line.coords).T)
        steps.append(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2].min())
    return float(min(steps))


def write_payload(path: Path, kind: str, lon: float, lat: float) -> float:
    """Fine data GDAL reads on its own at ``path``: the finest spacing between its
    positions on the ground, in metres (0 for points)."""
    if kind == "csv":  # 500 surveyed points, lon/lat to 1e-9 degree
        rng = np.random.default_rng(0)
        xs, ys = lon + rng.uniform(0, 0.02, 500), lat + rng.uniform(0, 0.02, 500)
        rows = "".join(
            f"{i},{x:.9f},{y:.9f}\n" for i, (x, y) in enumerate(zip(xs, ys, strict=True))
        )
        path.write_text("id,lon,lat\n" + rows)
        assert pyogrio.read_info(path)["features"] == 500  # GDAL reads it as a table
        return 0.0
    fine = road_lines("EPSG:4326", lon, lat, 0.000005)  # about half a metre
    driver, suffix = {"geojson": ("GeoJSON", ".geojson"), "gpkg": ("GPKG", ".gpkg")}[kind]
    write_lines(path.with_name("payload" + suffix), fine, "EPSG:4326", driver).rename(path)
    assert pyogrio.read_info(path, layer=0)["features"] == 30
    return ground_step(fine, "EPSG:4326")
