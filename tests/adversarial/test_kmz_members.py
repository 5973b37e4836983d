"""KMZ members that no reader reads, named by the document all the same.

Claim: a member of a KMZ counts as checked only when a reader reads it. Any ``<href>``
made a member count as referenced: coarse lines in doc.kml with an icon style whose href
named ``files/detail.kml`` (0.45 m lines) or ``files/ortho.tif`` (a 0.09 m GeoTIFF) got
`allow`, where the same KMZ without the href got review for the unchecked member. GDAL's
LIBKML driver reads the first ``.kml`` member of a KMZ and, when its top folder holds
NetworkLinks to members, those members instead of its own features; mapgate opens the
GroundOverlay images and, as symbols, small pictures its icon styles name. Truth: each
payload's spacing on the ground computed with pyproj.Geod, and the payload checked alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Geod
from rasterio.transform import from_origin

from compliance import Checker, Effect
from tests.builders import zip_of

# pack, and the longitude and latitude the data starts at
PLACES = {"daejeon": ("kr", 127.38, 36.35), "delhi": ("in", 77.02, 28.45)}
COARSE_DEG, FINE_DEG = 0.0005, 0.000005  # steps along the lines: about 50 m and 0.5 m
TIF_DEG = 1e-6  # the GeoTIFF's pixels: about 0.1 m


def _lines(lon: float, lat: float, step: float, name: str = "r") -> str:
    marks = []
    for i in range(30):
        xs = lon + i * 0.003 + np.arange(40) * step
        ys = lat + np.arange(40) * step * 0.5
        coords = " ".join(f"{x:.9f},{y:.9f}" for x, y in zip(xs, ys, strict=True))
        marks.append(
            f"<Placemark><name>{name}{i}</name><LineString><coordinates>{coords}"
            "</coordinates></LineString></Placemark>"
        )
    return "".join(marks)


def _kml(body: str, top: str = "Document") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<{top}>{body}</{top}></kml>"
    )


def _line_step_m(lon: float, lat: float, step: float) -> float:
    return Geod(ellps="WGS84").inv(lon, lat, lon + step, lat + step * 0.5)[2]


def _tif(path: Path, lon: float, lat: float) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=256, height=256, count=1, dtype="uint8",
        crs="EPSG:4326", transform=from_origin(lon, lat + 0.01, TIF_DEG, TIF_DEG),
    ) as dst:  # fmt: skip
        dst.write(np.random.default_rng(0).integers(1, 255, (1, 256, 256), dtype=np.uint8))
    return path


def _png(path: Path, side: int) -> Path:
    with rasterio.open(
        path, "w", driver="PNG", width=side, height=side, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.full((1, side, side), 9, dtype=np.uint8))
    return path


def _unchecked(verdict) -> list[str] | None:
    found = [f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES"]
    return found[0].facts["unchecked_files"] if found else None


_ICON_STYLE = '<Style id="s"><IconStyle><Icon><href>{}</href></Icon></IconStyle></Style>'
# Each way a document names a member that no reader reads: (KML beside the coarse lines).
HREFS = {
    "icon_style": _ICON_STYLE,
    "list_item_icon": (
        '<Style id="l"><ListStyle><ItemIcon><href>{}</href></ItemIcon></ListStyle></Style>'
    ),
    "screen_overlay": (
        "<ScreenOverlay><name>legend</name><Icon><href>{}</href></Icon></ScreenOverlay>"
    ),
    "model": (
        "<Placemark><name>tower</name><Model><Location><longitude>{lon}</longitude>"
        "<latitude>{lat}</latitude></Location><Link><href>{}</href></Link></Model></Placemark>"
    ),
    "photo_overlay": (
        "<PhotoOverlay><name>view</name><Icon><href>{}</href></Icon><Point><coordinates>"
        "{lon},{lat}</coordinates></Point></PhotoOverlay>"
    ),
    "network_link_in_a_folder": (  # LIBKML follows only links in the top folder
        "<Folder><name>more</name><NetworkLink><name>detail</name><Link><href>{}</href>"
        "</Link></NetworkLink></Folder>"
    ),
}


@pytest.fixture(params=sorted(PLACES))
def place(request: pytest.FixtureRequest) -> tuple[str, float, float]:
    return PLACES[request.param]


@pytest.mark.parametrize("href", sorted(HREFS))
@pytest.mark.parametrize("payload", ["fine_kml", "geotiff"])
def test_a_member_named_but_not_read_holds_the_verdict(
    tmp_path: Path, place: tuple[str, float, float], href: str, payload: str
) -> None:
    pack, lon, lat = place
    checker = Checker(packs=[pack])
    if payload == "fine_kml":
        member, content = "files/detail.kml", _kml(_lines(lon, lat, FINE_DEG))
        alone = tmp_path / "detail.kml"
        alone.write_text(content)
        truth = _line_step_m(lon, lat, FINE_DEG)
    else:
        member = "files/ortho.tif"
        content = alone = _tif(tmp_path / "ortho.tif", lon, lat)
        truth = Geod(ellps="WGS84").inv(lon, lat, lon + TIF_DEG, lat)[2]
    # Truth: the payload alone is fine detail, and the pack does not allow it.
    strict = checker.check(alone)
    assert strict.profile.resolution_m == pytest.approx(truth, rel=0.05)
    assert strict.verdict in (Effect.deny, Effect.review)

    coarse = _lines(lon, lat, COARSE_DEG)
    named = HREFS[href].format(member, lon=lon + 0.05, lat=lat)
    kmz = zip_of(tmp_path / "trick.kmz", {"doc.kml": _kml(coarse + named), member: content})
    verdict = checker.check(kmz)
    assert _unchecked(verdict) == [member]
    assert verdict.verdict == Effect.review
    assert verdict.profile.resolution_m > 40  # the coarse lines: the member was not read
    # Control: the same KMZ without the href holds the verdict the same way.
    bare = zip_of(tmp_path / "bare.kmz", {"doc.kml": _kml(coarse), member: content})
    control = checker.check(bare)
    assert _unchecked(control) == [member] and control.verdict == Effect.review


def test_icons_that_are_pictures_with_a_place_or_many_pixels_are_not_symbols(
    tmp_path: Path, place: tuple[str, float, float]
) -> None:
    pack, lon, lat = place
    checker = Checker(packs=[pack])
    coarse = _lines(lon, lat, COARSE_DEG)
    photo = _png(tmp_path / "photo.png", 2000)  # an orthophoto's worth of pixels
    pin = _png(tmp_path / "pin.png", 32)
    world = f"{TIF_DEG}\n0\n0\n{-TIF_DEG}\n{lon}\n{lat}\n"  # places pin.png at 0.1 m
    styles = _ICON_STYLE.format("files/photo.png") + _ICON_STYLE.format("files/placed.png")
    kmz = zip_of(
        tmp_path / "icons.kmz",
        {
            "doc.kml": _kml(coarse + styles.replace('id="s"', 'id="a"', 1)),
            "files/photo.png": photo,
            "files/placed.png": pin,
            "files/placed.pgw": world,
        },
    )
    with rasterio.open(f"/vsizip/{kmz}/files/placed.png") as ds:
        assert not ds.transform.is_identity  # GDAL places it by its world file
    verdict = checker.check(kmz)
    assert _unchecked(verdict) == ["files/photo.png", "files/placed.png", "files/placed.pgw"]
    assert verdict.verdict == Effect.review


def test_control_a_plain_icon_is_a_symbol(tmp_path: Path, place: tuple[str, float, float]):
    pack, lon, lat = place
    checker = Checker(packs=[pack])
    coarse = _lines(lon, lat, COARSE_DEG)
    pin = _png(tmp_path / "pin.png", 32)
    kmz = zip_of(
        tmp_path / "pins.kmz",
        {"doc.kml": _kml(_ICON_STYLE.format("files/pin.png") + coarse), "files/pin.png": pin},
    )
    verdict = checker.check(kmz)
    assert _unchecked(verdict) is None
    assert verdict.profile.resolution_m == pytest.approx(
        _line_step_m(lon, lat, COARSE_DEG), rel=0.05
    )
    assert verdict.verdict == Effect.allow


def _network_link(href: str, name: str = "detail") -> str:
    return f"<NetworkLink><name>{name}</name><Link><href>{href}</href></Link></NetworkLink>"


def test_control_the_members_libkml_links_are_read(
    tmp_path: Path, place: tuple[str, float, float]
) -> None:
    # The layout GDAL itself writes: doc.kml holds a NetworkLink to each layer's document.
    pack, lon, lat = place
    checker = Checker(packs=[pack])
    fine = _kml(_lines(lon, lat, FINE_DEG, "f"))
    kmz = zip_of(
        tmp_path / "layers.kmz",
        {
            "doc.kml": _kml(
                _network_link("layers/roads.kml", "roads") + _network_link("layers/detail.kml")
            ),
            "layers/roads.kml": _kml(_lines(lon, lat, COARSE_DEG)),
            "layers/detail.kml": fine,
        },
    )
    verdict = checker.check(kmz)
    assert _unchecked(verdict) is None
    assert [layer.name for layer in verdict.profile.layers] == ["roads", "detail"]
    assert verdict.profile.resolution_m == pytest.approx(_line_step_m(lon, lat, FINE_DEG), rel=0.05)
    (alone := tmp_path / "detail.kml").write_text(fine)
    assert verdict.verdict == checker.check(alone).verdict != Effect.allow


def test_control_a_ground_overlay_image_is_read_and_measured(
    tmp_path: Path, place: tuple[str, float, float]
) -> None:
    pack, lon, lat = place
    checker = Checker(packs=[pack])
    side = 2000  # over 0.01 degrees: about 0.5 m pixels
    overlay = (
        "<GroundOverlay><name>ortho</name><Icon><href>files/ortho.png</href></Icon>"
        f"<LatLonBox><north>{lat + 0.01}</north><south>{lat}</south><east>{lon + 0.01}</east>"
        f"<west>{lon}</west></LatLonBox></GroundOverlay>"
    )
    kmz = zip_of(
        tmp_path / "overlay.kmz",
        {
            "doc.kml": _kml(_lines(lon, lat, COARSE_DEG) + overlay),
            "files/ortho.png": _png(tmp_path / "o.png", side),
        },
    )
    verdict = checker.check(kmz)
    assert _unchecked(verdict) is None
    (image,) = verdict.profile.image_overlays
    west_edge = Geod(ellps="WGS84").inv(lon, lat, lon + 0.01, lat)[2]
    assert image.resolution_m == pytest.approx(west_edge / side, rel=0.01)
    assert verdict.verdict != Effect.allow


# Documents LIBKML does not read whole: (members in the archive's order, the member named)
def _documents(lon: float, lat: float) -> dict[str, tuple[list[tuple[str, str]], str]]:
    coarse, fine = _lines(lon, lat, COARSE_DEG), _lines(lon, lat, FINE_DEG, "f")
    return {
        # LIBKML reads the linked member instead of the document's own features.
        "own_features_beside_top_links": (
            [("doc.kml", _kml(fine + _network_link("files/roads.kml"))),
             ("files/roads.kml", _kml(coarse))],
            "doc.kml",
        ),
        # LIBKML reads the first .kml member, not doc.kml.
        "doc_kml_not_first": (
            [("a.kml", _kml(coarse)), ("doc.kml", _kml(fine))],
            "doc.kml",
        ),
        # Of two top elements, LIBKML reads the last.
        "two_top_documents": (
            [("doc.kml", _kml(fine).replace("</Document></kml>", f"</Document><Document>{coarse}</Document></kml>"))],
            "doc.kml",
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case", ["own_features_beside_top_links", "doc_kml_not_first", "two_top_documents"]
)
def test_a_document_libkml_does_not_read_whole_holds_the_verdict(
    tmp_path: Path, place: tuple[str, float, float], case: str
) -> None:
    pack, lon, lat = place
    members, named = _documents(lon, lat)[case]
    verdict = Checker(packs=[pack]).check(zip_of(tmp_path / "doc.kmz", dict(members)))
    assert _unchecked(verdict) == [named]
    # What was read is the coarse lines alone.
    assert verdict.profile.resolution_m == pytest.approx(
        _line_step_m(lon, lat, COARSE_DEG), rel=0.05
    )
    assert verdict.verdict == Effect.review
