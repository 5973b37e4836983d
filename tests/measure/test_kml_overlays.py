"""Images a KML or KMZ drapes over the ground count as detail, down to their pixels.

Before, a KMZ holding a 0.44 m orthophoto as a GroundOverlay measured as its 885 m outline
and was allowed on conditions as a small-scale map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from compliance import Checker
from tests.builders import zip_of

# The overlay covers 127.02-127.03 E, 37.46-37.47 N, inside the demo military zone
# DEMO-KR-MIL-01. On the WGS84 ellipsoid at 37.465 N, 0.01 deg of longitude is 884.67 m
# and 0.01 deg of latitude 1,110.3 m: 2,000 pixels across make 0.4423 x 0.5552 m pixels.
WEST_EDGE_M = 884.667
PIXELS = 2000


def _kml(href: str, extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
  <Placemark><name>pin</name><Point><coordinates>127.025,37.465</coordinates></Point></Placemark>
  <GroundOverlay><name>ortho</name><Icon><href>{href}</href></Icon>
    <LatLonBox><north>37.47</north><south>37.46</south><east>127.03</east>
    <west>127.02</west></LatLonBox></GroundOverlay>
  {extra}
</Document>
</kml>
"""


def _image(path: Path, size: int = PIXELS) -> Path:
    with rasterio.open(
        path, "w", driver="PNG", width=size, height=size, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, size, size), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _image(tmp_path_factory.mktemp("overlay") / "ortho.png")


def test_a_kmz_orthophoto_is_measured_by_its_pixels(tmp_path, image, checker: Checker):
    kmz = zip_of(
        tmp_path / "overlay.kmz", {"doc.kml": _kml("files/ortho.png"), "files/ortho.png": image}
    )
    v = checker.check(kmz)
    (overlay,) = v.profile.image_overlays
    assert (overlay.name, overlay.image, overlay.width, overlay.height) == (
        "ortho",
        "files/ortho.png",
        PIXELS,
        PIXELS,
    )
    assert overlay.resolution_m == pytest.approx(WEST_EDGE_M / PIXELS, rel=1e-3)
    assert v.profile.resolution_m == pytest.approx(WEST_EDGE_M / PIXELS, rel=1e-3)
    assert "images draped over the ground" in v.profile.methods["resolution_m"]
    assert v.verdict == "deny"  # a 1:900-like image of a military zone


def test_a_zipped_kml_with_its_image_beside_it_reads_the_image(tmp_path, image, checker):
    bundle = zip_of(
        tmp_path / "overlay.zip",
        {"overlay/doc.kml": _kml("ortho.png"), "overlay/ortho.png": image},
    )
    v = checker.check(bundle)
    assert v.profile.image_overlays[0].resolution_m == pytest.approx(0.4423, rel=1e-3)
    # The image was read, so it is not among the files that left unchecked.
    assert "MAPGATE-UNCHECKED-FILES" not in {f.rule_id for f in v.findings}


@pytest.mark.parametrize(
    "href",
    [
        "missing.png",
        "../ortho.png",  # out of the file's own folder
        "/etc/hostname",
        "https://example.com/ortho.png",
        "/vsicurl/https://example.com/ortho.png",
    ],
)
def test_an_image_that_is_not_in_the_file_holds_the_verdict(tmp_path, image, href, checker):
    # The image does sit one folder up, where "../ortho.png" would find it: it is not opened.
    _image(tmp_path / "ortho.png", size=64)
    folder = tmp_path / "kml"
    folder.mkdir()
    (folder / "overlay.kml").write_text(_kml(href))
    v = checker.check(folder / "overlay.kml")
    (overlay,) = v.profile.image_overlays
    assert overlay.resolution_m is None and overlay.width is None
    assert overlay.unmeasured == "the image is not inside the file, so it was not opened"
    assert "MAPGATE-UNMEASURED-OVERLAY" in {f.rule_id for f in v.findings}
    assert v.verdict in {"review", "deny"}


def test_an_image_that_is_not_an_image_holds_the_verdict(tmp_path, checker: Checker):
    (tmp_path / "ortho.png").write_bytes(b"not a picture" * 100)
    (tmp_path / "overlay.kml").write_text(_kml("ortho.png"))
    v = checker.check(tmp_path / "overlay.kml")
    assert v.profile.image_overlays[0].unmeasured == "the image cannot be read"
    assert "MAPGATE-UNMEASURED-OVERLAY" in {f.rule_id for f in v.findings}


def test_an_image_that_names_other_files_is_not_opened(tmp_path, image, checker: Checker):
    # A VRT renamed .png would read the picture it names, here one outside the archive.
    vrt = f"""<VRTDataset rasterXSize="{PIXELS}" rasterYSize="{PIXELS}">
      <VRTRasterBand dataType="Byte" band="1"><SimpleSource>
        <SourceFilename relativeToVRT="0">{image}</SourceFilename><SourceBand>1</SourceBand>
      </SimpleSource></VRTRasterBand></VRTDataset>"""
    kmz = zip_of(tmp_path / "overlay.kmz", {"doc.kml": _kml("ortho.png"), "ortho.png": vrt})
    v = checker.check(kmz)
    assert v.profile.image_overlays[0].unmeasured == "the image cannot be read"
    assert "MAPGATE-UNMEASURED-OVERLAY" in {f.rule_id for f in v.findings}


def test_a_lat_lon_quad_is_measured_like_its_box(tmp_path, image, checker: Checker):
    quad = (
        "<GroundOverlay><name>quad</name><Icon><href>ortho.png</href></Icon><gx:LatLonQuad>"
        "<coordinates>127.02,37.46 127.03,37.46 127.03,37.47 127.02,37.47</coordinates>"
        "</gx:LatLonQuad></GroundOverlay>"
    )
    (tmp_path / "ortho.png").write_bytes(image.read_bytes())
    (tmp_path / "overlay.kml").write_text(_kml("ortho.png", extra=quad))
    v = checker.check(tmp_path / "overlay.kml")
    sizes = [o.resolution_m for o in v.profile.image_overlays]
    assert sizes == pytest.approx([WEST_EDGE_M / PIXELS] * 2, rel=1e-3)


def test_a_real_kml_without_overlays_is_unchanged(real_data: Path, checker: Checker):
    v = checker.check(real_data / "korea" / "skorea_provinces_simple.kml")
    assert v.profile.image_overlays == []
    assert "MAPGATE-UNMEASURED-OVERLAY" not in {f.rule_id for f in v.findings}
    assert v.profile.resolution_m is not None and v.profile.resolution_m > 100


def _zone_east_of_the_box(folder: Path) -> Path:
    """A military zone 0.001-0.0015 deg east of the overlay's east edge (127.03), at its
    middle: off the unturned box. The 0.01-deg square turned 45 degrees in the plane of
    longitude and latitude reaches 0.005 * (cos 45 + sin 45) = 0.00707 deg east of its
    centre, 127.03207; turned 30 degrees, 0.005 * (cos 30 + sin 30) = 0.00683, 127.03183."""
    import geopandas as gpd
    import shapely

    path = folder / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-EAST"], "zone_class": ["military"]},
        geometry=[shapely.box(127.031, 37.4648, 127.0315, 37.4652)],
        crs="EPSG:4326",
    ).to_file(path)
    return path


@pytest.mark.parametrize(("rotation", "met"), [("0", 0), ("45", 1), ("-30", 1)])
def test_a_turned_overlay_is_checked_where_its_corners_reach(tmp_path, image, rotation, met):
    checker = Checker(zones=_zone_east_of_the_box(tmp_path))
    kml = _kml("ortho.png").replace(
        "<west>127.02</west>", f"<west>127.02</west><rotation>{rotation}</rotation>"
    )
    (tmp_path / "ortho.png").write_bytes(image.read_bytes())
    (tmp_path / "overlay.kml").write_text(kml)
    v = checker.check(tmp_path / "overlay.kml")
    assert v.zones.count == met
    if met:
        assert "checked as a box that holds it turned" in " ".join(v.profile.notes)
        assert v.profile.bounds_wgs84[2] > 127.0315


def test_files_in_a_kmz_that_its_document_does_not_refer_to_hold_the_verdict(
    tmp_path, image, checker: Checker
):
    icon = "<Style id='s'><IconStyle><Icon><href>icons/pin.png</href></Icon></IconStyle></Style>"
    kmz = zip_of(
        tmp_path / "overlay.kmz",
        {
            "doc.kml": _kml("files/ortho.png", extra=icon),
            "files/ortho.png": image,
            # A symbol the document uses (a small picture drawn at a point): not map data.
            # A picture the size of an orthophoto used as an icon counts as unchecked.
            "icons/pin.png": _image(tmp_path / "pin.png", 32),
            "survey/points.csv": "lon,lat\n127.0251234,37.4651234\n",
            "__MACOSX/._doc.kml": b"\x00",
        },
    )
    v = checker.check(kmz)
    unchecked = [f for f in v.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES"]
    assert len(unchecked) == 1
    assert unchecked[0].facts["unchecked_files"] == ["survey/points.csv"]


def test_a_kmz_whose_files_are_all_referred_to_has_nothing_unchecked(tmp_path, image, checker):
    kmz = zip_of(
        tmp_path / "overlay.kmz", {"doc.kml": _kml("./files/ortho.png"), "files/ortho.png": image}
    )
    v = checker.check(kmz)
    assert "MAPGATE-UNCHECKED-FILES" not in {f.rule_id for f in v.findings}
    assert v.profile.image_overlays[0].resolution_m == pytest.approx(0.4423, rel=1e-3)


def test_an_overlay_in_a_document_too_large_to_read_through_holds_the_verdict(
    tmp_path, image, checker: Checker, monkeypatch: pytest.MonkeyPatch
):
    # The document pass stops at a size limit (1 GiB); here lowered to 100 bytes.
    monkeypatch.setattr("compliance.readers.kml_document._MAX_BYTES", 100)
    (tmp_path / "ortho.png").write_bytes(image.read_bytes())
    (tmp_path / "overlay.kml").write_text(_kml("ortho.png"))
    v = checker.check(tmp_path / "overlay.kml")
    assert [o.unmeasured for o in v.profile.image_overlays] == [
        "its document could not be read through"
    ]
    assert "MAPGATE-UNMEASURED-OVERLAY" in {f.rule_id for f in v.findings}


def test_a_kmz_of_fine_imagery_of_israel_must_be_resampled(tmp_path, checker: Checker):
    # Vector data by kind, imagery by what it carries: before, the Kyl-Bingaman rules asked
    # for a raster, and 0.24 m imagery of Tel Aviv in a KMZ was allowed.
    kml = (
        _kml("ortho.png")
        .replace(
            "<north>37.47</north><south>37.46</south>", "<north>32.09</north><south>32.08</south>"
        )
        .replace("<east>127.03</east>", "<east>34.79</east>")
        .replace("<west>127.02</west>", "<west>34.78</west>")
        .replace("127.025,37.465", "34.785,32.085")
    )
    kmz = zip_of(
        tmp_path / "tel-aviv.kmz", {"doc.kml": kml, "ortho.png": _image(tmp_path / "o.png", 4000)}
    )
    v = checker.check(kmz, packs=["us-kba"])
    assert v.profile.kind == "vector" and v.profile.has_imagery
    # 0.01 deg of longitude at 32.085 N is 943.6 m: 4,000 pixels make 0.236 m.
    assert v.profile.imagery_resolution_m == pytest.approx(0.236, rel=0.01)
    assert {f.rule_id for f in v.findings} == {"KBA-ISRAEL-GSD-04M"}
    assert v.verdict == "allow_with_conditions" and v.conditions == ["coarsen_resolution"]


def test_a_kml_without_overlays_carries_no_imagery(real_data: Path, checker: Checker):
    v = checker.check(real_data / "korea" / "skorea_provinces_simple.kml")
    assert v.profile.has_imagery is False and v.profile.imagery_resolution_m is None
