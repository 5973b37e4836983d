"""strip_coordinates on rasters: the derivative has no CRS, geotransform, GCPs, RPCs or
georeferencing metadata (read with rasterio, and its bytes scanned for the original's
coordinates as text and as binary doubles), no sidecar; its pixels are the input's; its
re-check places it where the original lies, says so, and no longer asks for stripping.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.rpc import RPC

from compliance import Checker
from tests.remediate.conftest import CENTRE, write_pack
from tests.remediate.raster_builders import levels, write_raster

STRIP_PACK = """\
pack: strip-test
version: "1"
title: Georeferenced imagery must lose its coordinates
jurisdiction: XX
rules:
  - id: T-STRIP
    title: Imagery with coordinates
    when: dataset.has_imagery && dataset.georeferenced
    effect: allow_with_conditions
    conditions: [strip_coordinates]
    reference: test fixture
  - id: T-ZONE
    title: Imagery over a zone is reviewed
    when: zones.count > 0
    effect: review
    reference: test fixture
"""

XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    '22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    'exif:GPSLatitude="37,30.24N" exif:GPSLongitude="127,0.30E"/></rdf:RDF></x:xmpmeta>'
)


def _traces(path: Path) -> list[bytes]:
    """The original's coordinates as they may be stored: text in several forms, and the
    origin as little- and big-endian doubles."""
    with rasterio.open(path) as ds:
        a = ds.transform
    terms = [a.c, a.f]  # the origin: pixel sizes (2.0 as a double) are too common to scan
    text = [f"{CENTRE[0]:.3f}", f"{CENTRE[1]:.3f}", "GPSLatitude", "37,30.24N"]
    text += [repr(float(v)) for v in terms] + [f"{v:.6f}" for v in terms]
    packed = [struct.pack(fmt, v) for v in terms for fmt in ("<d", ">d")]
    return [t.encode() for t in text] + packed


def _decorate(path: Path, epsg: int, rpc: bool) -> None:
    """Georeferencing traces beyond the geotransform: tags, XMP, a band description, RPCs,
    a world file and a PAM .aux.xml beside the image."""
    with rasterio.open(path, "r+") as ds:
        a = ds.transform
        ds.update_tags(
            TIFFTAG_IMAGEDESCRIPTION=f"ortho centred at {CENTRE[0]:.3f} {CENTRE[1]:.3f}",
            ORIGIN=f"{a.c!r} {a.f!r}",
        )
        ds.update_tags(ns="xml:XMP", **{"xml:XMP": XMP})
        ds.set_band_description(1, f"red, EPSG:{epsg} at {a.c:.6f}")
        if rpc:
            ds.rpcs = RPC(
                height_off=0, height_scale=1, lat_off=CENTRE[1], lat_scale=0.1,
                line_den_coeff=[1.0] + [0.0] * 19, line_num_coeff=[0.0] * 20, line_off=400,
                line_scale=400, long_off=CENTRE[0], long_scale=0.1,
                samp_den_coeff=[1.0] + [0.0] * 19, samp_num_coeff=[0.0] * 20, samp_off=400,
                samp_scale=400,
            )  # fmt: skip
    path.with_suffix(".tfw").write_text(f"{a.a}\n0\n0\n{a.e}\n{a.c}\n{a.f}\n")
    path.with_name(path.name + ".aux.xml").write_text(
        f'<PAMDataset><Metadata><MDI key="CENTRE">{CENTRE[0]:.3f} {CENTRE[1]:.3f}</MDI>'
        "</Metadata></PAMDataset>"
    )


def _assert_stripped(out: Path, traces: list[bytes]) -> None:
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no sidecar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning: the point
        with rasterio.open(out) as ds:
            assert ds.crs is None
            assert ds.transform.is_identity
            assert ds.gcps == ([], None)
            assert ds.rpcs is None
            assert ds.tags(ns="xml:XMP") == {}
            assert set(ds.tags()) <= {"AREA_OR_POINT"}
            assert not any(ds.descriptions)
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    content = out.read_bytes()
    for trace in traces:
        assert trace not in content, f"{trace!r} is still in the file"


# (validity, CRS, input overviews, RPCs)
CASES = [
    ("nodata", 5186, "internal", True),
    ("alpha", 32652, "ovr", False),
    ("mask", 4326, "internal", True),
    ("none", 3857, None, False),
]


@pytest.mark.parametrize(("kind", "epsg", "overviews", "rpc"), CASES)
def test_stripped_raster_carries_no_coordinates(
    tmp_path: Path, zones_file: Path, kind: str, epsg: int, overviews: str | None, rpc: bool
) -> None:
    source = write_raster(tmp_path / "in.tif", epsg, kind, 2.0, 800, overviews)
    _decorate(source, epsg, rpc)
    traces = _traces(source)
    assert all(t in source.read_bytes() for t in traces[:1])  # the input carries them
    checker = Checker(packs=[write_pack(tmp_path, STRIP_PACK)], zones=zones_file)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "stripped.tif"
    report = checker.remediate(source, out)

    assert report.original.conditions == ["strip_coordinates"]
    assert report.original.zones.count == 1
    assert report.actions[0].status == "applied"
    _assert_stripped(out, traces)
    derived, original = levels(out), levels(source)
    np.testing.assert_array_equal(derived[0][0], original[0][0])  # the same pixels
    np.testing.assert_array_equal(derived[0][1], original[0][1])  # and the same validity

    # Re-checked where the original lies: the zone is still met there, and it says so.
    assert report.placement is not None and "where the original lies" in report.placement
    assert report.verdict.conditions == []
    assert report.verdict.zones.count == 1
    assert report.verdict.verdict == "review"
    assert report.verdict.profile.georeferenced is False
    assert report.verdict.profile.crs is None


def test_gcps_are_stripped_too(tmp_path: Path, zones_file: Path) -> None:
    source = tmp_path / "gcps.tif"
    lon, lat = CENTRE
    gcps = [
        GroundControlPoint(row=r, col=c, x=lon + c * 1e-5, y=lat - r * 1e-5)
        for r in (0, 400) for c in (0, 400)
    ]  # fmt: skip
    profile = {"driver": "GTiff", "width": 400, "height": 400, "count": 1, "dtype": "uint8"}
    with rasterio.open(source, "w", **profile, gcps=gcps, crs="EPSG:4326") as ds:
        ds.write(np.full((1, 400, 400), 9, dtype="uint8"))
    checker = Checker(packs=[write_pack(tmp_path, STRIP_PACK)], zones=zones_file)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "stripped.tif"
    report = checker.remediate(source, out)
    assert report.original.conditions == ["strip_coordinates"]
    assert report.actions[0].status == "applied"
    traces = [struct.pack("<d", lon), struct.pack("<d", lat), f"{lon}".encode()]
    _assert_stripped(out, traces)
    # Nothing but GCPs placed it: no geotransform to re-place it with, so the re-check
    # cannot place the derivative and holds it for review.
    assert report.verdict.conditions == []
    assert report.verdict.verdict != "allow"
