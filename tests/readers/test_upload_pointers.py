"""An upload must not make the checker open files elsewhere on this machine.

Formats whose text names other files to read (VRT, KML super-overlays) are refused when
uploaded. Before, a KML that GDAL's KML reader refused (here: it declares an entity) fell
through to the KML super-overlay raster driver, which opened the image its GroundOverlay
named by any relative path, ``../`` included, and reported that image's size.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.transform

from compliance import Checker
from compliance.errors import UnsupportedFormat
from tests.api.fixtures import *  # noqa: F403 - fixtures
from tests.api.helpers import TestClient, auth
from tests.builders import GMT_POINT, Listener, ers_header


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


# Formats whose header names another file, by any path: GDAL opens it as the upload is
# opened. Before, an uploaded PDS label or ERS header made the service open the file it
# named, and whether that file existed showed in the answer (a verdict, or an error that
# quoted the path).


def _pds_label(target: str) -> bytes:
    return f"""PDS_VERSION_ID = PDS3
RECORD_TYPE = FIXED_LENGTH
RECORD_BYTES = 200
FILE_RECORDS = 200
^IMAGE = "{target}"
OBJECT = IMAGE
  LINES = 200
  LINE_SAMPLES = 200
  SAMPLE_TYPE = UNSIGNED_INTEGER
  SAMPLE_BITS = 8
  BANDS = 1
END_OBJECT = IMAGE
END
""".encode()


@pytest.mark.parametrize(("header", "name"), [(_pds_label, "scene.lbl"), (ers_header, "scene.ers")])
def test_an_uploaded_label_cannot_open_the_file_it_names(tmp_path, checker: Checker, header, name):
    present = tmp_path / "server-side.raw"
    present.write_bytes(bytes(40_000))
    climb = "../" * 40
    # From the caller's own folder the label is read, and the file it names with it.
    label = tmp_path / name
    label.write_bytes(header(present.name))
    assert checker.check(label).profile.width == 200
    answers = []
    for target in (present, tmp_path / "missing.raw"):
        with pytest.raises(UnsupportedFormat) as refused:
            checker.check(header(climb + str(target).lstrip("/")), name=name)
        answers.append(str(refused.value))
    # Refused the same way whether the named file exists or not: nothing about it shows.
    assert answers[0] == answers[1]
    assert "accepted as an upload" in answers[0] and "raw" not in answers[0]


def _secret_table(folder: Path) -> Path:
    path = folder / "server-side.csv"
    path.write_text('code,WKT\n7,"POINT (127.02 37.46)"\n')
    return path


def test_an_uploaded_gdalg_pipeline_is_refused(tmp_path, checker: Checker):
    table = _secret_table(tmp_path)
    body = (
        '{"type": "gdal_streamed_alg", "command_line": '
        f'"gdal vector pipeline ! read {table} ! reproject --src-crs EPSG:4326 --dst-crs EPSG:4326"}}'
    ).encode()
    for name in ("pipeline.gdalg.json", "pipeline.json"):
        with pytest.raises(UnsupportedFormat, match="GDALG") as refused:
            checker.check(body, name=name)
        assert "server-side" not in str(refused.value)


def test_an_uploaded_vrt_behind_a_comment_is_refused(tmp_path, checker: Checker):
    # GDAL finds the VRT tag anywhere in the first bytes; the screen used to look only at
    # the start, so a leading comment let the upload read the table it named.
    table = _secret_table(tmp_path)
    body = (
        "<!-- a map -->\n<OGRVRTDataSource><OGRVRTLayer name='t'>"
        f"<SrcDataSource>{table}</SrcDataSource><SrcLayer>server-side</SrcLayer>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()
    with pytest.raises(UnsupportedFormat, match="refused as an upload"):
        checker.check(body, name="layers.xml")
    path = tmp_path / "layers.vrt"
    path.write_bytes(body)
    assert checker.check(path).profile.fields == ["WKT", "code"]  # a path of the caller's


def test_an_uploaded_wfs_description_calls_no_server(checker: Checker, listener: Listener):
    # Before, the check called the address and waited for its answer (here: never).
    body = f"<OGRWFSDataSource><URL>{listener.url('/wfs?')}</URL></OGRWFSDataSource>"
    for text in (body, "<!-- a service -->\n" + body):
        with pytest.raises(UnsupportedFormat, match="WFS"):
            checker.check(text.encode(), name="service.xml")
    assert listener.calls == []


def test_a_gml_s_schema_address_is_not_fetched(tmp_path, checker: Checker, listener: Listener):
    # GDAL's GML reader fetched the schema a GML names as a WFS DescribeFeatureType
    # address, at every open (four per check), from any server the file named.
    describe = listener.url("/wfs") + (
        "?SERVICE=WFS&amp;VERSION=1.1.0&amp;REQUEST=DescribeFeatureType&amp;TYPENAME=ns:site"
    )
    body = f"""<?xml version='1.0'?><wfs:FeatureCollection xmlns:wfs='http://www.opengis.net/wfs'
 xmlns:ns='http://example.com/ns' xmlns:gml='http://www.opengis.net/gml'
 xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'
 xsi:schemaLocation='http://example.com/ns {describe}'><gml:featureMember><ns:site><ns:geom>
<gml:Point srsName='urn:ogc:def:crs:EPSG::4326'><gml:pos>37.465 127.025</gml:pos></gml:Point></ns:geom>
</ns:site></gml:featureMember></wfs:FeatureCollection>""".encode()
    path = tmp_path / "sites.gml"
    path.write_bytes(body)
    for source in (body, path):
        v = checker.check(source, name="sites.gml")
        assert v.profile.format == "GML" and v.zones.count == 1
    assert listener.calls == []


def _sqlite_with_virtual_table(path: Path, table: Path) -> Path:
    """An SQLite file one of whose tables is GDAL's VirtualOGR over ``table``, written into
    the schema directly, as a hostile file would be."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE points (id INTEGER PRIMARY KEY, GEOMETRY BLOB)")
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES "
            "('table', 'v', 'v', 0, ?)",
            (f"CREATE VIRTUAL TABLE v USING VirtualOGR('{table}')",),
        )
        db.commit()
    return path


def test_an_uploaded_sqlite_virtual_table_cannot_read_server_files(tmp_path, checker: Checker):
    path = _sqlite_with_virtual_table(tmp_path / "db.sqlite", _secret_table(tmp_path))
    # Read from the caller's own folder, the virtual table reads the other file.
    assert "WKT" in checker.check(path).profile.fields
    with pytest.raises(UnsupportedFormat, match="virtual table") as refused:
        checker.check(path.read_bytes(), name="db.sqlite")
    assert "WKT" not in str(refused.value)


def test_an_uploaded_geopackage_keeps_its_spatial_index(checker: Checker):
    # A GeoPackage's R-tree indexes are virtual tables too: they are what may stay.
    path = Path(__file__).parents[2] / "sample_maps" / "kr_5k_buildings.gpkg"
    body = path.read_bytes()
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        virtual = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND rootpage = 0"
        ).fetchall()
    assert virtual and all("rtree" in sql.lower() for (sql,) in virtual)
    assert checker.check(body, name="buildings.gpkg").verdict == "deny"


def test_an_upload_only_another_driver_reads_is_refused_unopened(checker: Checker, tmp_path):
    # GMT text is harmless, but not on the list: no driver that may open an upload reads
    # it, and the one that would is never asked (so never named). This process keeps that
    # driver: the same file given as one's own path is read.
    with pytest.raises(UnsupportedFormat, match="accepted as an upload") as refused:
        checker.check(GMT_POINT, name="pins.gmt")
    assert "OGR_GMT" not in str(refused.value)
    own = tmp_path / "pins.gmt"
    own.write_bytes(GMT_POINT)
    assert checker.check(own).profile.format == "OGR_GMT"


def test_where_pyogrio_opens_an_upload_its_driver_is_refused_by_name(checker, monkeypatch):
    # Without pyogrio's GDAL library at hand, pyogrio opens the file with whatever driver
    # reads it (it takes no list): the driver is then refused by its name.
    import compliance.readers.gdal_dataset as gdal_dataset

    monkeypatch.setattr(gdal_dataset, "gdal_library", lambda: None)
    with pytest.raises(UnsupportedFormat, match="OGR_GMT is not among the formats"):
        checker.check(GMT_POINT, name="pins.gmt")


def test_a_process_of_uploads_keeps_only_the_upload_drivers(tmp_path):
    # In a child: the drivers of the process that runs it are changed for good.
    table = _secret_table(tmp_path)
    pipeline = tmp_path / "p.gdalg.json"
    pipeline.write_text(
        '{"type": "gdal_streamed_alg", "command_line": '
        f'"gdal vector pipeline ! read {table} ! reproject --src-crs EPSG:4326 --dst-crs EPSG:4326"}}'
    )
    script = f"""
import pyogrio
from compliance.readers.formats import UPLOAD_VECTOR_DRIVERS
from compliance.readers.upload_guard import restrict_process_to_upload_drivers
before = set(pyogrio.list_drivers())
assert {{"GDALG", "WFS", "OGR_VRT"}} <= before, before
pyogrio.read_info({str(pipeline)!r})  # the pipeline runs
restrict_process_to_upload_drivers()
after = set(pyogrio.list_drivers())
assert after <= UPLOAD_VECTOR_DRIVERS and "GPKG" in after, after
try:
    pyogrio.read_info({str(pipeline)!r})
except pyogrio.errors.DataSourceError:
    print("refused")
# What a listed format can still ask for goes nowhere: a GeoJSON's linked CRS.
from tests.builders import Listener, ers_header
listener = Listener()
linked = {str(tmp_path / "linked.geojson")!r}
with open(linked, "w") as f:
    f.write('{{"type": "FeatureCollection", "crs": {{"type": "link", "properties": '
            '{{"href": "' + listener.url("/crs") + '", "type": "proj4"}}}}, "features": []}}')
pyogrio.read_info(linked)
assert listener.calls == [], listener.calls
"""
    # A NO_PROXY naming the address would let the request through: it is cleared.
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"


def _erdas_image_spilling_to(folder: Path, target: Path, spill_there: bool) -> bytes:
    """An Erdas Imagine file whose header names its spill file ``target`` (put there when
    ``spill_there``), reached from anywhere by climbing up: the name may be any path."""
    long_name = "m" * 250  # room to write the other name over the one GDAL wrote
    image = folder / f"{long_name}.img"
    with rasterio.open(
        image, "w", driver="HFA", width=64, height=64, count=1, dtype="uint8",
        crs="EPSG:4326", transform=rasterio.transform.from_origin(127.0, 37.5, 1e-4, 1e-4),
        USE_SPILL="YES",
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 64, 64), 9, dtype=np.uint8))
    spill = folder / f"{long_name}.ige"
    if spill_there:
        spill.replace(target)
    else:
        spill.unlink()
    body = image.read_bytes()
    image.unlink()
    written = spill.name.encode()
    named = ("../" * 40 + str(target).lstrip("/")).encode()
    padding = len(written) - len(named)
    named = b"./" * (padding // 2) + b"/" * (padding % 2) + named
    assert body.count(written) == 1 and len(named) == len(written)
    return body.replace(written, named)


def test_an_uploaded_erdas_image_cannot_read_a_spill_file_elsewhere(tmp_path, checker: Checker):
    outside = tmp_path / "server"
    outside.mkdir()
    answers = []
    for target, there in ((outside / "pixels.ige", True), (outside / "missing.ige", False)):
        body = _erdas_image_spilling_to(tmp_path, target, there)
        with pytest.raises(UnsupportedFormat, match="outside the upload") as refused:
            checker.check(body, name="map.img")
        answers.append(str(refused.value))
    assert answers[0] == answers[1]  # whether the named file exists does not show
    assert (outside / "pixels.ige").exists()
    # An Erdas image whose spill file lies beside it is read.
    folder = tmp_path / "mine"
    folder.mkdir()
    with rasterio.open(
        folder / "map.img", "w", driver="HFA", width=64, height=64, count=1, dtype="uint8",
        crs="EPSG:4326", transform=rasterio.transform.from_origin(127.0, 37.5, 1e-4, 1e-4),
        USE_SPILL="YES",
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 64, 64), 9, dtype=np.uint8))
    assert (folder / "map.ige").exists()
    bundle = tmp_path / "map.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    assert checker.check(bundle.read_bytes(), name="map.zip").profile.format == "HFA"
