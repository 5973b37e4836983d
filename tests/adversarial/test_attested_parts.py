"""A signed verdict vouches only for the files its check read.

The move: sign the check of a coarse ``roads.shp`` with a fine ``roads.tif`` (or
``roads.csv``, ``roads.json``) beside it. The statement listed every file of the
shapefile's stem as a subject, so ``verify`` passed for the payload the check never
opened, and a receiver took it for checked.

Truth, computed here: the files the shapefile is made of are the ones GDAL wrote for it
(listed before the payload was added), and the payload is data GDAL reads on its own.
Controls: each of those files verifies, and the same payload under a name no dataset has
fails as the look-alike does.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from compliance import Checker
from compliance.attestation import WrongFile, attest, generate_key, load_public_key, verify
from tests.adversarial.look_alikes import at, road_lines, write_lines, write_payload


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory):
    return generate_key(tmp_path_factory.mktemp("key"))


def _tif_payload(path: Path, lon: float, lat: float) -> None:
    """A 0.1 m GeoTIFF in UTM 52N: the payload as an image."""
    x, y = at("EPSG:32652", lon, lat)
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=1, dtype="uint8",
                       crs="EPSG:32652", transform=from_origin(x, y, 0.1, 0.1)) as dst:  # fmt: skip
        dst.write(np.random.default_rng(1).integers(1, 255, (1, 256, 256), dtype=np.uint8))
    with rasterio.open(path) as ds:
        assert ds.res == (0.1, 0.1)


def _add_payload(path: Path, kind: str, lon: float, lat: float) -> None:
    if kind == "tif":
        _tif_payload(path, lon, lat)
    else:
        write_payload(path, kind, lon, lat)


def _subjects(envelope) -> dict[str, str]:
    return {s["name"]: s["digest"]["sha256"] for s in json.loads(envelope.payload)["subject"]}


def _verifies(envelope, key, file: Path) -> bool:
    try:
        verify(envelope, [load_public_key(key.public_path)], file)
    except WrongFile:
        return False
    return True


# name: (lon, lat, CRS of the shapefile, payload format, look-alike name, neutral name)
LOCAL_CASES = {
    "daejeon_utm_tif": (127.38, 36.35, "EPSG:32652", "tif", "roads.tif", "ortho.tif"),
    "gwangju_tm_csv": (126.85, 35.16, "EPSG:5186", "csv", "roads.csv", "survey.csv"),
    "gangneung_lonlat_json": (128.88, 37.75, "EPSG:4326", "geojson", "roads.json", "survey.json"),
}


@pytest.mark.parametrize("name", LOCAL_CASES)
def test_a_shapefiles_statement_names_its_parts_alone(tmp_path, checker: Checker, key, name):
    lon, lat, crs, kind, trick, neutral = LOCAL_CASES[name]
    step = 40.0 if crs != "EPSG:4326" else 0.0004
    shp = write_lines(
        tmp_path / "roads.shp", road_lines(crs, lon, lat, step), crs, "ESRI Shapefile"
    )
    parts = sorted(p.name for p in tmp_path.iterdir())
    assert {Path(p).suffix for p in parts} == {".shp", ".shx", ".dbf", ".prj", ".cpg"}
    for payload in (trick, neutral):
        _add_payload(tmp_path / payload, kind, lon, lat)
    verdict = checker.check(shp)
    assert verdict.verdict == "allow" and verdict.profile.feature_count == 30
    envelope = attest(verdict, key.private_path, shp)
    assert sorted(_subjects(envelope)) == parts
    for part in parts:
        assert _verifies(envelope, key, tmp_path / part), part
    for payload in (trick, neutral):
        assert not _verifies(envelope, key, tmp_path / payload), payload


def _zip(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return dest


@pytest.mark.parametrize("how", ["zip", "folder"])
def test_an_archives_statement_leaves_the_look_alike_out(tmp_path, checker: Checker, key, how):
    folder = tmp_path / "data"
    folder.mkdir()
    crs, lon, lat = ("EPSG:5179", 127.49, 36.64) if how == "zip" else ("EPSG:32652", 127.38, 36.35)
    write_lines(folder / "roads.shp", road_lines(crs, lon, lat, 40.0), crs, "ESRI Shapefile")
    parts = sorted(p.name for p in folder.iterdir())
    payload = "roads.csv" if how == "zip" else "roads.tif"
    _add_payload(folder / payload, "csv" if how == "zip" else "tif", lon, lat)
    source = _zip(folder, tmp_path / "delivery.zip") if how == "zip" else folder
    verdict = checker.check(source)
    assert verdict.verdict == "review"
    envelope = attest(verdict, key.private_path, source)
    subjects = _subjects(envelope)
    assert sorted(set(subjects) - {"delivery.zip"}) == parts
    for part in parts:
        assert _verifies(envelope, key, folder / part), part
    assert not _verifies(envelope, key, folder / payload)
    if how == "zip":
        assert _verifies(envelope, key, source)
