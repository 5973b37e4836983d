"""A file that shares a dataset's name is not one of its parts.

The move: beside a coarse dataset the gate allows, ship the fine data under the dataset's
own name with another suffix: ``roads.csv``, ``roads.json`` or ``roads.dat`` beside
``roads.shp``; ``ortho.ovr``, ``ortho.msk``, ``ortho.hdr`` or ``ortho.xml`` beside
``ortho.tif``. The checker took every file of a shapefile's stem, and every file of an
image's stem with a sidecar's suffix, for a part read with the dataset: the archive was
allowed while the payload was neither read nor named.

Truth, computed here: the payload is data GDAL reads on its own (pyogrio, rasterio),
finer on the ground (pyproj.Geod) than the dataset checked; the files GDAL reads for the
image are the ones rasterio lists (``ortho.ovr`` is not among them: GDAL reads
``ortho.tif.ovr``). Controls: the same archive without the payload (allowed), and the
same payload under a name no dataset has (``survey.csv``, ``secret.tif.bin``), which must
get the same strict verdict as the trick.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import CRS, Transformer
from rasterio.transform import from_origin

from compliance import Checker
from compliance.readers.discover import discover
from compliance.verdict import Verdict
from tests.adversarial.look_alikes import (
    GEOD,
    at,
    ground_step,
    road_lines,
    write_lines,
    write_payload,
)

UNCHECKED = "MAPGATE-UNCHECKED-FILES"


def _unchecked(verdict: Verdict) -> list[str]:
    return next((list(f.facts["unchecked_files"]) for f in verdict.findings
                 if f.rule_id == UNCHECKED), [])  # fmt: skip


def _zip(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f"data/{f.name}")
    return dest


# name: (how the delivery is checked, lon, lat, CRS of the shapefile, payload format,
# the payload's name sharing the shapefile's, the same payload's neutral name)
VECTOR_CASES = {
    "daejeon_utm_zip_csv": ("zip", 127.38, 36.35, "EPSG:32652", "csv", "roads.csv", "survey.csv"),
    "gwangju_tm_folder_geojson": (
        "folder", 126.85, 35.16, "EPSG:5186", "geojson", "roads.json", "survey.json",
    ),
    "gangneung_lonlat_upload_gpkg": (
        "upload", 128.88, 37.75, "EPSG:4326", "gpkg", "roads.dat", "survey.dat",
    ),
}  # fmt: skip


def _delivery(tmp_path: Path, how: str, payload: str | None, case: tuple) -> tuple[object, float]:
    """The coarse shapefile with ``payload`` (a name, or None) beside it, as ``how`` checks it."""
    _, lon, lat, crs, kind, _, _ = case
    folder = tmp_path / (payload or "alone").replace(".", "_") / "data"
    folder.mkdir(parents=True)
    write_lines(folder / "roads.shp", road_lines(crs, lon, lat, 40.0 if crs != "EPSG:4326" else 0.0004),
                 crs, "ESRI Shapefile")  # fmt: skip
    fine = write_payload(folder / payload, kind, lon, lat) if payload else 0.0
    if how == "folder":
        return folder, fine
    archive = _zip(folder, folder.parent / "delivery.zip")
    return (archive.read_bytes() if how == "upload" else archive), fine


def _check(checker: Checker, source: object) -> Verdict:
    return checker.check(source, name="delivery.zip" if isinstance(source, bytes) else None)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", VECTOR_CASES)
def test_a_file_named_like_a_shapefile_is_not_its_part(tmp_path, checker: Checker, name):
    case = VECTOR_CASES[name]
    how, lon, lat, crs, _, trick, neutral = case
    prefix = "" if how == "folder" else "data/"
    alone, _ = _delivery(tmp_path, how, None, case)
    control = _check(checker, alone)
    coarse = ground_step(road_lines(crs, lon, lat, 40.0 if crs != "EPSG:4326" else 0.0004), crs)
    assert control.verdict == "allow" and _unchecked(control) == []
    assert control.profile.feature_count == 30
    assert control.profile.resolution_m == pytest.approx(coarse, rel=1e-3)
    for payload in (trick, neutral):
        source, fine = _delivery(tmp_path, how, payload, case)
        assert fine < coarse / 10
        verdict = _check(checker, source)
        # Held for review and named, whatever its name; the shapefile read as before.
        assert verdict.verdict == "review", payload
        assert _unchecked(verdict) == [prefix + payload]
        assert verdict.profile.feature_count == 30
        assert verdict.profile.resolution_m == pytest.approx(coarse, rel=1e-3)


def _tif(path: Path, crs: str, lon: float, lat: float, pixel: float, side: int) -> Path:
    x, y = at(crs, lon, lat)
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1,
                       dtype="uint8", crs=crs, transform=from_origin(x, y, pixel, pixel)) as dst:  # fmt: skip
        dst.write(np.random.default_rng(0).integers(1, 255, (1, side, side), dtype=np.uint8))
    return path


def _ground_pixel(path: Path) -> float:
    with rasterio.open(path) as ds:
        to_lonlat = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True)
        t = ds.transform
        (x0, y0), (x1, y1) = t * (0.5, 0.5), t * (1.5, 0.5)
    lon0, lat0 = to_lonlat.transform(x0, y0)
    lon1, lat1 = to_lonlat.transform(x1, y1)
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2])


# name: (lon, lat, CRS, coarse pixel and fine pixel in CRS units, the payload's name)
RASTER_CASES = {
    "daejeon_utm_ovr": (127.38, 36.35, "EPSG:32652", 40.0, 0.1, "ortho.ovr"),
    "gwangju_tm_msk": (126.85, 35.16, "EPSG:5186", 40.0, 0.1, "ortho.msk"),
    "cheongju_utmk_hdr": (127.49, 36.64, "EPSG:5179", 40.0, 0.1, "ortho.hdr"),
    "gangneung_lonlat_xml": (128.88, 37.75, "EPSG:4326", 0.0004, 0.000001, "ortho.xml"),
}


@pytest.mark.parametrize("name", RASTER_CASES)
def test_a_file_named_like_a_rasters_sidecar_is_not_its_part(tmp_path, checker: Checker, name):
    lon, lat, crs, coarse_px, fine_px, trick = RASTER_CASES[name]
    verdicts = {}
    for payload in (None, trick, "secret.tif.bin"):
        folder = tmp_path / str(payload)
        folder.mkdir()
        ortho = _tif(folder / "ortho.tif", crs, lon, lat, coarse_px, 64)
        if payload:
            _tif(folder / payload, crs, lon, lat, fine_px, 256)
            assert _ground_pixel(folder / payload) < 0.2  # GDAL reads it: a 0.1 m image
            with rasterio.open(ortho) as ds:  # and reads nothing of it with ortho.tif
                assert [Path(f).name for f in ds.files] == ["ortho.tif"]
                assert ds.overviews(1) == [] and ds.res == (coarse_px, coarse_px)
        verdicts[payload] = checker.check(_zip(folder, tmp_path / f"{payload}.zip"))
    coarse = _ground_pixel(tmp_path / "None" / "ortho.tif")
    assert verdicts[None].verdict == "allow" and _unchecked(verdicts[None]) == []
    for payload in (trick, "secret.tif.bin"):
        assert verdicts[payload].verdict == "review", payload
        assert _unchecked(verdicts[payload]) == [f"data/{payload}"]
    for verdict in verdicts.values():
        assert verdict.profile.resolution_m == pytest.approx(coarse, rel=1e-3)


def test_a_rasters_own_parts_stay_its_own(tmp_path, checker: Checker):
    # The files GDAL and mapgate read with the image: the world file (the first of its
    # names that GDAL tries), the .prj, the .aux.xml and overviews GDAL built beside it.
    folder = tmp_path / "set"
    folder.mkdir()
    ortho = _tif(folder / "ortho.tif", "EPSG:32652", 127.38, 36.35, 40.0, 64)
    with rasterio.Env(TIFF_USE_OVR=True), rasterio.open(ortho, "r+") as dst:
        dst.build_overviews([2, 4])
    with rasterio.open(ortho) as ds:
        t = ds.transform
        prj = ds.crs.to_wkt()
    (folder / "ortho.tfw").write_text(f"{t.a}\n0\n0\n{t.e}\n{t.c + t.a / 2}\n{t.f + t.e / 2}\n")
    (folder / "ortho.prj").write_text(prj)
    (folder / "ortho.tif.aux.xml").write_text("<PAMDataset/>")
    with rasterio.open(ortho) as ds:
        listed = sorted(Path(f).name for f in ds.files)
    assert listed == ["ortho.tif", "ortho.tif.aux.xml", "ortho.tif.ovr"]
    verdict = checker.check(_zip(folder, tmp_path / "own.zip"))
    assert verdict.verdict == "allow" and _unchecked(verdict) == []
    # A second world file is one more file: GDAL and mapgate read the .tfw alone.
    (folder / "ortho.wld").write_text((folder / "ortho.tfw").read_text())
    verdict = checker.check(_zip(folder, tmp_path / "two.zip"))
    assert verdict.verdict == "review" and _unchecked(verdict) == ["data/ortho.wld"]
    # An .ovr GDAL cannot open holds nothing it reads: it leaves unread.
    (folder / "ortho.wld").unlink()
    (folder / "ortho.tif.ovr").write_bytes(b"not an image")
    verdict = checker.check(_zip(folder, tmp_path / "junk.zip"))
    assert _unchecked(verdict) == ["data/ortho.tif.ovr"]


def test_a_picture_placed_by_its_world_file_keeps_it(tmp_path, checker: Checker):
    folder = tmp_path / "set"
    folder.mkdir()
    x, y = at("EPSG:5186", 126.85, 35.16)
    with rasterio.open(folder / "scan.png", "w", driver="PNG", width=32, height=32, count=1,
                       dtype="uint8") as dst:  # fmt: skip
        dst.write(np.full((1, 32, 32), 7, dtype=np.uint8))
    for extra in folder.glob("*.aux.xml"):
        extra.unlink()
    (folder / "scan.pgw").write_text(f"40\n0\n0\n-40\n{x + 20}\n{y - 20}\n")
    (folder / "scan.prj").write_text(CRS.from_epsg(5186).to_wkt("WKT1_ESRI"))
    verdict = checker.check(_zip(folder, tmp_path / "scan.zip"))
    assert _unchecked(verdict) == []
    to_lonlat = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True)
    (lon0, lon1), (lat0, lat1) = to_lonlat.transform([x + 20, x + 60], [y - 20, y - 20])
    assert verdict.profile.resolution_m == pytest.approx(
        GEOD.inv(lon0, lat0, lon1, lat1)[2], rel=1e-3
    )


def test_discovery_judges_a_look_alike_on_its_own(tmp_path):
    # Batch discovery counts parts as the checker does: a GeoTIFF named ortho.ovr is a
    # dataset of its own (sniffed by its bytes), not a sidecar set aside unchecked, and a
    # shapefile's dataset holds its parts alone.
    root = tmp_path / "delivery"
    root.mkdir()
    ortho = _tif(root / "ortho.tif", "EPSG:32652", 127.38, 36.35, 40.0, 64)
    for name in ("ortho.ovr", "ortho.msk", "secret.tif.bin"):
        _tif(root / name, "EPSG:32652", 127.38, 36.35, 0.1, 64)
    write_lines(root / "roads.shp", road_lines("EPSG:5186", 126.85, 35.16, 40.0), "EPSG:5186",
                 "ESRI Shapefile")  # fmt: skip
    written = sorted(p.name for p in root.glob("roads.*"))
    write_payload(root / "roads.csv", "csv", 126.85, 35.16)
    (root / "roads.shp.xml").write_text("<metadata/>")
    for found in (
        discover([root]),
        discover([root], untrusted=True),
        discover([ortho, root / "roads.shp"]),
    ):
        by_path = {d.path.name: sorted(m.name for m in d.members) for d in found.datasets}
        # ArcGIS's metadata document is read with the shapefile; the CSV is not.
        assert by_path["roads.shp"] == sorted([*written, "roads.shp.xml"])
        assert "roads.csv" not in by_path["roads.shp"]
    found = discover([root])
    names = {d.path.name for d in found.datasets}
    assert names == {"ortho.tif", "ortho.ovr", "ortho.msk", "secret.tif.bin", "roads.shp"}
    assert sorted(p.name for p in found.ignored) == ["roads.csv"]


def test_an_upload_of_a_zip_names_the_look_alike_too(checker: Checker, tmp_path):
    # The same archive as bytes (an upload): its raster is read only by the upload drivers,
    # and so is the list of the files GDAL opened for it.
    folder = tmp_path / "set"
    folder.mkdir()
    _tif(folder / "ortho.tif", "EPSG:32652", 127.38, 36.35, 40.0, 64)
    _tif(folder / "ortho.ovr", "EPSG:32652", 127.38, 36.35, 0.1, 64)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    verdict = checker.check(buffer.getvalue(), name="ortho.zip")
    assert verdict.verdict == "review" and _unchecked(verdict) == ["ortho.ovr"]


def test_a_shapefile_index_gdal_does_not_read_is_not_its_part(tmp_path, checker: Checker):
    # GDAL reads a .sbn/.sbx only when it is a valid index: a GeoTIFF so named is not one.
    folder = tmp_path / "set"
    folder.mkdir()
    write_lines(folder / "roads.shp", road_lines("EPSG:32652", 127.38, 36.35, 40.0),
                "EPSG:32652", "ESRI Shapefile")  # fmt: skip
    verdict = checker.check(_zip(folder, tmp_path / "plain.zip"))
    assert verdict.verdict == "allow" and _unchecked(verdict) == []
    for name in ("roads.sbn", "roads.sbx"):
        _tif(folder / name, "EPSG:32652", 127.38, 36.35, 0.1, 64)
    verdict = checker.check(_zip(folder, tmp_path / "indexed.zip"))
    assert verdict.verdict == "review"
    assert _unchecked(verdict) == ["data/roads.sbn", "data/roads.sbx"]
