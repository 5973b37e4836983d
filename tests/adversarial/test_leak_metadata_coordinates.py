"""Stripped, yet still saying where: coordinates kept by imagery that cannot be placed.

The move: remove an image's CRS and geotransform (it can then not be met with the zones)
and ship it with its position elsewhere: EXIF GPS tags in a JPEG or PNG, GDAL metadata
items with coordinates, an XMP packet, a world file or ``.aux.xml`` beside it, a
geotransform without a CRS. Claim under test: each trace is listed, and holds the
verdict for review with a finding of its own; the same image without the trace has none.

Truth: the EXIF bytes are built in the test (CIPA DC-008 layout), the position computed
from the degrees, minutes and seconds written; the other traces are the values written.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from compliance import Checker, Effect
from tests.measure.leak_files import dms, exif_gps_block, plain_image, with_exif

# Places the images were taken (lon, lat): Seoul, Tel Aviv, Delhi, Sydney.
PLACES = {
    "seoul": (126.9780, 37.5665),
    "tel_aviv": (34.7818, 32.0853),
    "delhi": (77.2090, 28.6139),
    "sydney": (151.2093, -33.8688),
}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _exif_text(lon: float, lat: float) -> str:
    d, m, s = dms(abs(lat))
    lat_v = d + m / 60 + s / 3600
    d, m, s = dms(abs(lon))
    lon_v = d + m / 60 + s / 3600
    return (
        f"EXIF GPS position {lat_v:.6f}{'N' if lat >= 0 else 'S'} "
        f"{lon_v:.6f}{'E' if lon >= 0 else 'W'}"
    )


def _leak(verdict):  # type: ignore[no-untyped-def]
    return [f for f in verdict.findings if f.rule_id == "MAPGATE-LEAK-METADATA-COORDINATES"]


def _assert_held(verdict, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    found = verdict.profile.leaks.metadata_coordinates
    for item in expected:
        assert item in found, (item, found)
    assert verdict.verdict == Effect.review
    (finding,) = _leak(verdict)
    assert finding.effect == Effect.review
    assert finding.facts["dataset.metadata_coordinates"] == found


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("driver, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_exif_gps_in_a_stripped_image(tmp_path, checker, place, driver, suffix):
    lon, lat = PLACES[place]
    image = with_exif(plain_image(tmp_path / f"photo{suffix}", driver), exif_gps_block(lat, lon))
    _assert_held(checker.check(image), [_exif_text(lon, lat)])


@pytest.mark.parametrize("place", ["seoul", "delhi", "sydney"])
def test_gdal_metadata_with_coordinates(tmp_path, checker, place):
    lon, lat = PLACES[place]
    tags = {"CENTER_LAT": f"{lat}", "CENTER_LON": f"{lon}", "FOOTPRINT": f"POINT ({lon} {lat})"}
    image = plain_image(tmp_path / "scan.tif", "GTiff", **tags)
    expected = [f"metadata {k}={v}" for k, v in tags.items()]
    _assert_held(checker.check(image), expected)


@pytest.mark.parametrize("place", ["seoul", "tel_aviv", "delhi"])
def test_xmp_with_gps(tmp_path, checker, place):
    lon, lat = PLACES[place]
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        f'exif:GPSLatitude="{lat:.5f}" exif:GPSLongitude="{lon:.5f}"/></rdf:RDF></x:xmpmeta>'
    )
    image = plain_image(tmp_path / "drone.tif", "GTiff")
    with rasterio.open(image, "r+") as dst:
        dst.update_tags(ns="xml:XMP", **{"xml:XMP": xmp})
    expected = [f"XMP exif:GPSLatitude={lat:.5f}", f"XMP exif:GPSLongitude={lon:.5f}"]
    _assert_held(checker.check(image), expected)


def test_xmp_with_gps_in_the_middle_of_a_large_tiff(tmp_path, checker):
    """The XMP tag's bytes past the file's first megabyte and before its last (an image
    of 1.4 MB, the tag written after it, padding after that): GDAL reads the packet
    wherever the tag points; a look at the first and last megabyte alone misses it."""
    lon, lat = PLACES["seoul"]
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        f'exif:GPSLatitude="{lat:.5f}" exif:GPSLongitude="{lon:.5f}"/></rdf:RDF></x:xmpmeta>'
    )
    image = plain_image(tmp_path / "drone.tif", "GTiff", size=1200)
    with rasterio.open(image, "r+") as dst:
        dst.update_tags(ns="xml:XMP", **{"xml:XMP": xmp})
    with image.open("ab") as f:
        f.write(b"\0" * (3 << 19))  # 1.5 MiB after the tag's bytes
    data = image.read_bytes()
    at = data.find(b"<x:xmpmeta")
    assert (1 << 20) < at < len(data) - (1 << 20) - len(xmp)
    with rasterio.open(image) as ds:
        assert xmp in ds.tags(ns="xml:XMP")["xml:XMP"]
    expected = [f"XMP exif:GPSLatitude={lat:.5f}", f"XMP exif:GPSLongitude={lon:.5f}"]
    _assert_held(checker.check(image), expected)


@pytest.mark.parametrize(
    "driver, suffix, world, x, y",
    [
        ("PNG", ".png", ".pgw", 197_000.0, 551_000.0),  # Korean TM numbers, no .prj
        ("JPEG", ".jpg", ".jgw", 668_000.0, 3_550_000.0),
        ("GTiff", ".tif", ".tfw", 334_000.0, 6_250_000.0),
    ],
)
def test_a_world_file_without_a_prj(tmp_path, checker, driver, suffix, world, x, y):
    image = plain_image(tmp_path / f"sheet{suffix}", driver)
    image.with_suffix(world).write_text(f"0.5\n0\n0\n-0.5\n{x + 0.25}\n{y - 0.25}\n")
    expected = [f"the world file sheet{world} (first pixel at {x:.6g}, {y:.6g})"]
    _assert_held(checker.check(image), expected)


@pytest.mark.parametrize("x, y", [(197_000.0, 551_000.0), (500_000.0, 4_000_000.0), (-58.4, -34.6)])
def test_an_aux_xml_with_a_geotransform(tmp_path, checker, x, y):
    image = plain_image(tmp_path / "scan.jpg", "JPEG")
    (tmp_path / "scan.jpg.aux.xml").write_text(
        f"<PAMDataset><GeoTransform>{x}, 0.5, 0, {y}, 0, -0.5</GeoTransform></PAMDataset>"
    )
    _assert_held(checker.check(image), ["scan.jpg.aux.xml (GeoTransform)"])


@pytest.mark.parametrize("x, y", [(197_000.0, 551_000.0), (500_000.0, 4_000_000.0), (1.5, 2.5)])
def test_a_geotransform_without_a_crs(tmp_path, checker, x, y):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=16,
        height=16,
        count=1,
        dtype="uint8",
        transform=from_origin(x, y, 0.5, 0.5),
    ) as dst:
        dst.write(np.zeros((1, 16, 16), dtype="uint8"))
    _assert_held(
        checker.check(path), [f"a geotransform without a CRS (first pixel at {x:.6g}, {y:.6g})"]
    )


@pytest.mark.parametrize("driver, suffix", [("JPEG", ".jpg"), ("PNG", ".png"), ("GTiff", ".tif")])
def test_a_stripped_image_without_traces_has_no_leak(tmp_path, checker, driver, suffix):
    image = plain_image(tmp_path / f"clean{suffix}", driver, ARTIST="someone", COUNT="12")
    verdict = checker.check(image)
    assert verdict.profile.leaks.metadata_coordinates == []
    assert not _leak(verdict)
    assert verdict.verdict == Effect.review  # its location is still unknown


def test_a_placed_image_with_gps_tags_is_placed_not_leaking(tmp_path, checker):
    """EXIF GPS in a georeferenced image is no hidden location: the image is placed."""
    lon, lat = PLACES["seoul"]
    path = tmp_path / "placed.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=16,
        height=16,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(lon, lat, 1e-4, 1e-4),
    ) as dst:
        dst.write(np.zeros((1, 16, 16), dtype="uint8"))
        dst.update_tags(CENTER_LAT=str(lat), CENTER_LON=str(lon))
    verdict = checker.check(path)
    assert verdict.profile.leaks.metadata_coordinates == []
    assert not _leak(verdict)


@pytest.mark.parametrize(
    "name, trace",
    [
        ("rasters/gdal_autotest2/byte_rpc.tif", "RPC metadata centred at latitude"),
        ("broken/gdal_autotest2/corrupted_gtiff_tags.tif", "a geotransform without a CRS"),
        ("rasters/rasterio/rotated.tif", "a geotransform without a CRS"),
    ],
)
def test_real_files_that_keep_their_place(checker, real_data, name, trace):
    verdict = checker.check(real_data / name)
    assert any(t.startswith(trace) for t in verdict.profile.leaks.metadata_coordinates)
    assert verdict.verdict == Effect.review and _leak(verdict)
