"""The CRS a GeoJSON file declares (its legacy ``crs`` member) is taken strictly.

Where GDAL cannot read the declared CRS it says nothing and reads the coordinates as WGS84
longitude and latitude. A file declaring a CRS nobody knows, with coordinates that as
lon/lat fall far from every territory, was then allowed. Its place is unknown instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyproj import Transformer

from compliance import Checker
from compliance.errors import UnsupportedFormat
from tests.builders import Listener

SEOUL_ZONE = (127.025, 37.465)  # inside the demo military zone


def _geojson(path: Path, crs: dict | None, coordinates: list[float]) -> Path:
    doc: dict = {"type": "FeatureCollection"}
    if crs is not None:
        doc["crs"] = crs
    doc["features"] = [
        {
            "type": "Feature",
            "properties": {"crs": "a property, not the member"},
            "geometry": {"type": "Point", "coordinates": coordinates},
        }
    ]
    path.write_text(json.dumps(doc))
    return path


def _named(name: str) -> dict:
    return {"type": "name", "properties": {"name": name}}


def test_an_unknown_declared_crs_leaves_the_place_unknown(tmp_path: Path, checker: Checker):
    # As lon/lat these numbers are in the Sahara, far from every territory: it was allowed.
    path = _geojson(tmp_path / "sites.geojson", _named("urn:ogc:def:crs:EPSG::999999"), [10, 10])
    v = checker.check(path)
    assert v.verdict == "review"
    assert v.profile.crs is None and v.profile.has_crs is False
    assert any("EPSG::999999" in note for note in v.profile.notes)
    # The same numbers declared as lon/lat are placed there, and allowed.
    plain = _geojson(tmp_path / "plain.geojson", _named("urn:ogc:def:crs:OGC:1.3:CRS84"), [10, 10])
    assert checker.check(plain).verdict == "allow"


def test_a_crs_name_that_is_not_a_name_is_not_read(tmp_path: Path, checker: Checker):
    for name in ("+init=/etc/hosts:x", "/etc/hosts"):
        v = checker.check(_geojson(tmp_path / "odd.geojson", _named(name), [10, 10]))
        assert v.verdict == "review" and v.profile.crs is None


@pytest.mark.parametrize(
    ("crs", "label"),
    [
        (_named("urn:ogc:def:crs:EPSG::5186"), "EPSG:5186"),
        (_named("EPSG:5186"), "EPSG:5186"),
        ({"type": "EPSG", "properties": {"code": 5186}}, "EPSG:5186"),
    ],
)
def test_a_known_declared_crs_places_the_data(tmp_path: Path, checker: Checker, crs, label):
    x, y = Transformer.from_crs(4326, 5186, always_xy=True).transform(*SEOUL_ZONE)
    v = checker.check(_geojson(tmp_path / "sites.geojson", crs, [x, y]))
    assert v.profile.crs == label
    west, south, _, _ = v.profile.bounds_wgs84
    assert west == pytest.approx(SEOUL_ZONE[0], abs=1e-7)
    assert south == pytest.approx(SEOUL_ZONE[1], abs=1e-7)
    assert v.zones.count == 1 and v.verdict != "allow"


def test_a_geometry_s_own_crs_is_not_taken_for_the_file_s(real_data: Path, checker: Checker):
    # GDAL reads the top-level member (UTM 15N) and passes over the geometries' own.
    v = checker.check(real_data / "vectors/gdal_autotest2/srs_name.geojson")
    assert v.profile.crs == "EPSG:26915"


def test_an_uploaded_crs_link_is_refused_and_not_fetched(
    tmp_path: Path, checker: Checker, listener: Listener
):
    # GDAL fetches a linked CRS when it opens the file: from an upload, a request to any
    # address the uploader names. Before, the service made that request.
    link = {"type": "link", "properties": {"href": listener.url("/crs"), "type": "proj4"}}
    path = _geojson(tmp_path / "linked.geojson", link, [10, 10])
    with pytest.raises(UnsupportedFormat, match="link"):
        checker.check(path.read_bytes(), name="linked.geojson")
    assert listener.calls == []
    # A file of the caller's own is opened (GDAL fetches the link; here it fails), and its
    # place, resting on a CRS not read, is unknown.
    v = checker.check(path)
    assert v.verdict == "review" and v.profile.crs is None
    assert len(listener.calls) >= 1
