"""Real files of the formats discovery and materialize used to disagree on (GPX, MBTiles,
a File Geodatabase folder, GeoJSON named .json, a BMP placed by its .bpw world file, KMZ):
each is found in a folder, picked out of a zip and checked, its own files not unchecked."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from shapely.geometry import Point, box

from compliance import Checker
from compliance.readers.discover import discover
from compliance.readers.inputs import materialize
from tests.readers.format_helpers import GEOJSON, SEOUL, found, picked, zip_folder


def _points(path: Path, driver: str, **options: str) -> Path:
    frame = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[Point(*SEOUL), Point(127.0, 37.5)])
    pyogrio.write_dataframe(frame.set_crs(4326), path, driver=driver, **options)
    return path


def _bmp_with_world_file(folder: Path) -> Path:
    image = folder / "ortho.bmp"
    with rasterio.open(
        image, "w", driver="BMP", width=40, height=30, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, 30, 40), dtype=np.uint8))
    # 0.0001 deg pixels, the first pixel's centre at 126.98 E, 37.56 N.
    (folder / "ortho.bpw").write_text("0.0001\n0\n0\n-0.0001\n126.98\n37.56\n")
    (folder / "ortho.prj").write_text(
        'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
    )
    for extra in folder.glob("ortho.bmp.aux.xml"):
        extra.unlink()
    return image


def _make(kind: str, folder: Path) -> tuple[Path, str]:
    """A real file of ``kind`` in ``folder``: the dataset path and the driver that reads it."""
    if kind == "gpx":
        return _points(folder / "walk.gpx", "GPX"), "GPX"
    if kind == "mbtiles":
        return _points(folder / "tiles.mbtiles", "MBTiles", MAXZOOM="10"), "MBTiles"
    if kind == "gdb":
        return _points(folder / "survey.gdb", "OpenFileGDB"), "OpenFileGDB"
    if kind == "json":
        (folder / "meta.json").write_text(json.dumps({"source": "survey"}))
        path = folder / "layer.json"
        path.write_text(GEOJSON)
        return path, "GeoJSON"
    return _bmp_with_world_file(folder), "BMP"


@pytest.mark.parametrize("kind", ["gpx", "mbtiles", "gdb", "json", "bpw"])
def test_each_format_is_found_and_checked_from_an_archive(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    dataset, driver = _make(kind, folder)
    assert found(folder) == {dataset.name}
    ignored = {p.name for p in discover([folder]).ignored}
    archive = zip_folder(tmp_path / "set.zip", folder)
    assert picked(archive) == dataset.name
    inspection, _ = Checker(packs=[]).inspect(archive)
    assert inspection.profile.format == driver
    assert inspection.located
    lon_min, lat_min, lon_max, lat_max = inspection.profile.bounds_wgs84
    # Vector tiles keep positions to their tile grid (about 10 m at zoom 10).
    assert lon_min - 1e-3 <= SEOUL[0] <= lon_max + 1e-3
    assert lat_min - 1e-3 <= SEOUL[1] <= lat_max + 1e-3
    # What discovery sets aside as the dataset's own, the check does not call unchecked.
    own = {name for name in ignored if name.startswith(dataset.stem + ".")}
    assert not own & set(inspection.unchecked_files)
    if kind == "json":
        assert inspection.unchecked_files == ["meta.json"]
    if kind == "bpw":
        assert own == {"ortho.bpw", "ortho.prj"} and inspection.unchecked_files == []
        assert inspection.profile.resolution_m == pytest.approx(8.83, rel=0.01)


def test_a_kmz_is_found_and_read_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    kmz = _points(folder / "pins.kmz", "LIBKML")
    assert found(folder) == {"pins.kmz"}
    with materialize(kmz) as local:
        assert local.path == kmz and local.archive_root is None
    inspection, _ = Checker(packs=[]).inspect(kmz)
    assert inspection.profile.format == "LIBKML" and inspection.profile.feature_count == 2


def test_a_zip_is_found_and_unpacked(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    write = gpd.GeoDataFrame(geometry=[box(126.9, 37.5, 127.0, 37.6)], crs=4326)
    write.to_file(inner / "area.gpkg")
    folder = tmp_path / "set"
    folder.mkdir()
    zip_folder(folder / "area.zip", inner)
    assert found(folder) == {"area.zip"}
    assert picked(folder / "area.zip") == "area.gpkg"
