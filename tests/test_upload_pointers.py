"""An upload must not make the checker open files elsewhere on this machine.

Formats whose text names other files to read (VRT, KML super-overlays) are refused when
uploaded. Before, a KML that GDAL's KML reader refused (here: it declares an entity) fell
through to the KML super-overlay raster driver, which opened the image its GroundOverlay
named by any relative path, ``../`` included, and reported that image's size.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

from compliance import Checker
from compliance.errors import UnsupportedFormat
from tests.api_fixtures import *  # noqa: F403 - fixtures
from tests.api_helpers import TestClient, auth


def _outside_image(folder: Path) -> Path:
    """A picture standing for a file on the server, outside every upload's folder."""
    path = folder / "server-side.png"
    with rasterio.open(
        path, "w", driver="PNG", width=640, height=480, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, 480, 640), dtype=np.uint8))
    return path


def _kml_climbing_out(image: Path) -> bytes:
    climb = "../" * 40 + str(image).lstrip("/")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kml [<!ENTITY n "overlay">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <GroundOverlay><name>&n;</name><Icon><href>{climb}</href></Icon>
    <LatLonBox><north>37.47</north><south>37.46</south><east>127.03</east>
    <west>127.02</west></LatLonBox></GroundOverlay>
</Document></kml>
""".encode()


def _vrt_naming(image: Path) -> bytes:
    return f"""<VRTDataset rasterXSize="640" rasterYSize="480">
  <SRS>EPSG:4326</SRS><GeoTransform>127.0, 0.00001, 0, 37.5, 0, -0.00001</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1"><SimpleSource>
    <SourceFilename relativeToVRT="0">{image}</SourceFilename><SourceBand>1</SourceBand>
  </SimpleSource></VRTRasterBand></VRTDataset>
""".encode()


def test_an_uploaded_kml_cannot_open_an_image_out_of_its_folder(tmp_path, checker: Checker):
    body = _kml_climbing_out(_outside_image(tmp_path))
    with pytest.raises(UnsupportedFormat, match="not read as a raster"):
        checker.check(body, name="overlay.kml")


def test_an_uploaded_kml_in_utf16_is_refused_the_same_way(tmp_path, checker: Checker):
    body = _kml_climbing_out(_outside_image(tmp_path)).decode()
    with pytest.raises(UnsupportedFormat, match="not read as a raster"):
        checker.check(body.replace('"UTF-8"', '"UTF-16"').encode("utf-16"), name="overlay.kml")


def test_a_zipped_kml_cannot_open_an_image_out_of_the_archive(tmp_path, checker: Checker):
    bundle = tmp_path / "overlay.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("overlay/doc.kml", _kml_climbing_out(_outside_image(tmp_path)))
    with pytest.raises(UnsupportedFormat, match="not read as a raster"):
        checker.check(bundle.read_bytes(), name="overlay.zip")


def test_an_uploaded_vrt_is_refused(tmp_path, checker: Checker):
    body = _vrt_naming(_outside_image(tmp_path))
    with pytest.raises(UnsupportedFormat, match="VRT"):
        checker.check(body, name="tiles.vrt")


def test_the_same_vrt_on_this_machine_is_read(tmp_path, checker: Checker):
    # A path the caller chose is theirs to point anywhere: the command line reads it.
    path = tmp_path / "tiles.vrt"
    path.write_bytes(_vrt_naming(_outside_image(tmp_path)))
    v = checker.check(path)
    assert v.profile.format == "VRT" and v.profile.width == 640


def test_an_uploaded_kml_gdal_reads_is_still_checked(checker: Checker):
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>p</name>
<Point><coordinates>127.025,37.465</coordinates></Point></Placemark></Document></kml>"""
    v = checker.check(body, name="pin.kml")
    assert v.profile.kind == "vector" and v.zones.count == 1


def test_the_service_answers_such_an_upload_with_a_problem(
    tmp_path, api_client: TestClient, uploads: Path
) -> None:
    r = api_client.post(
        "/v1/checks",
        files={"file": ("overlay.kml", _kml_climbing_out(_outside_image(tmp_path)))},
        headers=auth("alice"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:mapgate:problem:unsupported-format"
    assert "server-side" not in r.text and "640" not in r.text
    assert list(uploads.iterdir()) == []


def test_the_service_refuses_an_uploaded_vrt(tmp_path, api_client: TestClient, uploads: Path):
    # The service spools an upload to a file and checks that path: the path is still an
    # upload. Before, the VRT was read and the verdict gave the server-side image's size.
    r = api_client.post(
        "/v1/checks",
        files={"file": ("tiles.vrt", _vrt_naming(_outside_image(tmp_path)))},
        headers=auth("alice"),
    )
    assert r.status_code == 422, r.text
    assert "VRT" in r.json()["detail"] and '"width":640' not in r.text
    assert list(uploads.iterdir()) == []
