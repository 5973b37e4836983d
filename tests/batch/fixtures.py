"""Archives of generated map files for the audit tests and the audit benchmark."""

from __future__ import annotations

import json
import os
import time
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
from affine import Affine
from shapely.geometry import box

from compliance.batch.local_pool import _LOCAL, _pool_task
from compliance.batch.results import AuditResult
from compliance.batch.tasks import Task, result_row

# Places inside the demo territories, and one far from every pack (the Atlantic).
SEOUL = (126.98, 37.56)
BUSAN = (129.07, 35.18)
DELHI = (77.21, 28.61)
ATLANTIC = (-30.0, 30.0)


def write_vector(path: Path, lon: float, lat: float, n: int = 5, driver: str | None = None) -> Path:
    """``n`` small squares around a point, in WGS84, written with pyogrio."""
    rng = np.random.default_rng(zlib.crc32(f"{path.name}:{n}".encode()))
    xs = lon + rng.uniform(-0.05, 0.05, n)
    ys = lat + rng.uniform(-0.05, 0.05, n)
    geoms = [box(x, y, x + 0.001, y + 0.001) for x, y in zip(xs, ys, strict=True)]
    frame = gpd.GeoDataFrame({"id": np.arange(n)}, geometry=geoms, crs="EPSG:4326")
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(frame, path, driver=driver)
    return path


def write_points(path: Path, lon: float, lat: float, n: int, driver: str | None = None) -> Path:
    """``n`` points scattered over ~0.2 degrees around a point (a large vector file)."""
    rng = np.random.default_rng(n)
    xs = lon + rng.uniform(-0.1, 0.1, n)
    ys = lat + rng.uniform(-0.1, 0.1, n)
    frame = gpd.GeoDataFrame({"id": np.arange(n)}, geometry=gpd.points_from_xy(xs, ys),
                             crs="EPSG:4326")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(frame, path, driver=driver)
    return path


def write_raster(path: Path, lon: float, lat: float, size: int = 32, res_deg: float = 0.0001,
                 bands: int = 1, driver: str = "GTiff") -> Path:  # fmt: skip
    """A georeferenced raster of ``size`` x ``size`` pixels with its corner at lon/lat."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (np.arange(size * size, dtype=np.uint16).reshape(size, size) % 251).astype(np.uint8)
    profile = {
        "driver": driver, "width": size, "height": size, "count": bands, "dtype": "uint8",
        "crs": "EPSG:4326", "transform": Affine(res_deg, 0.0, lon, 0.0, -res_deg, lat),
    }  # fmt: skip
    if driver == "GTiff":
        profile.update(tiled=size >= 256, compress="deflate")
    with warnings.catch_warnings():
        # rasterio 1.4 multiplies affine transforms with `*`, which affine 3.x flags.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        with rasterio.open(path, "w", **profile) as dst:
            for band in range(1, bands + 1):
                dst.write(data, band)
    return path


def write_shapefile(folder: Path, stem: str, lon: float, lat: float) -> list[Path]:
    """A shapefile set; returns every file written (.shp, .shx, .dbf, .prj, .cpg)."""
    write_vector(folder / f"{stem}.shp", lon, lat, n=3)
    return sorted(folder.glob(f"{stem}.*"))


@dataclass
class Archive:
    """What ``make_archive`` wrote, and what the audit should make of it."""

    root: Path
    datasets: list[Path] = field(default_factory=list)  # every path that must get a row
    broken: list[Path] = field(default_factory=list)  # those whose row must be an error
    ignored: list[Path] = field(default_factory=list)  # files that must get no row
    sidecars: list[Path] = field(default_factory=list)  # absorbed into another dataset's row


EXPECTED = {  # verdicts the built-in packs give the good files of ``make_archive``
    "kr/seoul.geojson": "allow",
    "kr/busan/parcels.gpkg": "allow",
    "kr/busan/deep/ortho.tif": "deny",  # ~0.1 m pixels in Korea
    "kr/busan/deep/aerial.tif": "review",  # ~1 m pixels: larger than 1:25,000
    "in/delhi.tif": "allow",
    "sea/buoys.gpkg": "allow",
    "kr/roads/roads.shp": "allow_with_conditions",
    "in/tile_0001": "allow",
    "kr/layer.json": "allow",
    "kr/bundle.zip": "allow",
}


def make_archive(root: Path) -> Archive:
    """A small, nested archive: good files of each format, broken files, sidecars, junk."""
    a = Archive(root)
    a.datasets += [
        write_vector(root / "kr" / "seoul.geojson", *SEOUL),
        write_vector(root / "kr" / "busan" / "parcels.gpkg", *BUSAN),
        write_raster(root / "kr" / "busan" / "deep" / "ortho.tif", *BUSAN, res_deg=0.000001),
        write_raster(root / "kr" / "busan" / "deep" / "aerial.tif", *BUSAN, res_deg=0.00001),
        write_raster(root / "in" / "delhi.tif", *DELHI, res_deg=0.01),
        write_vector(root / "sea" / "buoys.gpkg", *ATLANTIC),
    ]
    shp = write_shapefile(root / "kr" / "roads", "roads", *SEOUL)
    a.datasets.append(root / "kr" / "roads" / "roads.shp")
    a.sidecars += [p for p in shp if p.suffix != ".shp"]
    # Geodata recognised by content: no extension, and GeoJSON named .json.
    sniffed = write_raster(root / "in" / "tile_0001.tif", *DELHI)
    a.datasets.append(sniffed.rename(root / "in" / "tile_0001"))
    a.datasets.append(write_vector(root / "kr" / "layer.json", *SEOUL, driver="GeoJSON"))
    zipped = root / "kr" / "bundle.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(a.datasets[0], "seoul.geojson")
    a.datasets.append(zipped)
    # Broken: junk with geodata names, a truncated GeoPackage, shapefile parts without .shp.
    (root / "broken").mkdir()
    junk_tif = root / "broken" / "junk.tif"
    junk_tif.write_bytes(b"this is not a tiff at all\n" * 10)
    truncated = root / "broken" / "cut.gpkg"
    truncated.write_bytes(a.datasets[1].read_bytes()[:3000])
    orphan = root / "broken" / "lost.dbf"
    orphan.write_bytes(b"\x03" + b"\x00" * 40)
    (root / "broken" / "lost.shx").write_bytes(b"\x00" * 100)
    a.sidecars.append(root / "broken" / "lost.shx")  # part of the orphan's error row
    a.broken += [junk_tif, truncated, orphan]
    a.datasets += [junk_tif, truncated, orphan]
    # Not geodata: no row, no error.
    for name, text in {"README.txt": "archive notes\n", "config.json": json.dumps({"a": 1}),
                       "sheet.csv": "name,value\nx,1\n"}.items():  # fmt: skip
        (root / name).write_text(text)
        a.ignored.append(root / name)
    return a


def make_many(root: Path, n: int) -> list[Path]:
    """``n`` small files, a third each GeoJSON, GeoPackage and GeoTIFF, in folders of 100."""
    places = [SEOUL, BUSAN, DELHI, ATLANTIC]
    out: list[Path] = []
    for i in range(n):
        lon, lat = places[i % len(places)]
        lon, lat = lon + (i % 7) * 0.01, lat + (i % 11) * 0.01
        folder = root / f"batch_{i // 100:04d}"
        kind = i % 3
        if kind == 0:
            out.append(write_vector(folder / f"f{i:05d}.geojson", lon, lat, n=4))
        elif kind == 1:
            out.append(write_vector(folder / f"f{i:05d}.gpkg", lon, lat, n=4))
        else:
            out.append(write_raster(folder / f"f{i:05d}.tif", lon, lat, size=16))
    return out


__all__ = [
    "ATLANTIC", "EXPECTED", "Archive", "BUSAN", "DELHI", "SEOUL", "crash_on_marker", "hang_on_marker", "make_archive",
    "make_many", "write_points", "write_raster", "write_shapefile", "write_vector",
]  # fmt: skip


def crash_on_marker(task: Task) -> AuditResult:
    """Pool task for tests: the worker process dies outright on a file named ``*crash*``."""
    if "crash" in Path(task.path).name:
        os._exit(3)
    return _pool_task(task)


def hang_on_marker(task: Task) -> AuditResult:
    """Pool task for tests: the check never returns on a file named ``*hang*``; the worker
    leaves its pid beside the file, so a test can see that the process was stopped."""
    if "hang" in Path(task.path).name:
        Path(task.path).with_suffix(f".{os.getpid()}.pid").touch()
        time.sleep(3600)
    return _pool_task(task)


def report_helper_threads(task: Task) -> AuditResult:
    """Pool task for tests: report whether the worker's Checker may use helper threads."""
    import pyogrio

    checker = _LOCAL["checker"]
    gdal = pyogrio.get_gdal_config_option("OGR_GPKG_NUM_THREADS")
    return result_row(task, _LOCAL["fingerprint"], status="error",
                      error=f"helper_threads={checker.helper_threads} gpkg_threads={gdal}")  # fmt: skip


@contextmanager
def local_dask_client() -> Iterator[Any]:
    """A real local Dask cluster of two single-threaded worker processes, and its client."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        as cluster,
        Client(cluster) as c,
    ):  # fmt: skip
        yield c
