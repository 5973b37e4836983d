"""Class 9: a condition the data does not show.

The claim under test: "KR-CONTOURS fires when the data has a contour or elevation field".
GDAL's KML readers give every placemark ``altitudeMode``, ``tessellate``, ``extrude`` and
more, and its GPX reader gives every waypoint ``geoidheight``: those fields are the
driver's, not the data's, and alone they must not ask for contours to be dropped. A field
the data itself carries (``elevation`` in a KML's ExtendedData) still does.
"""

from __future__ import annotations

import pyarrow as pa
import pyogrio
import pytest
import shapely

from compliance import Checker

DRIVER_FIELDS = {"altitudeMode", "tessellate", "extrude", "geoidheight"}


@pytest.fixture(scope="module")
def kr() -> Checker:
    return Checker(packs=["kr"])


def _gdal_kml(path, driver: str, extra: dict | None = None) -> str:
    lines = shapely.linestrings(
        [[(127.38, 36.35), (127.39, 36.36)], [(127.40, 36.35), (127.41, 36.37)]]
    )
    table = pa.table({"name": ["a", "b"], **(extra or {}), "geometry": shapely.to_wkb(lines)})
    pyogrio.write_arrow(
        table, path, driver=driver, geometry_name="geometry", geometry_type="LineString",
        crs="EPSG:4326", layer="roads",
    )  # fmt: skip
    return str(path)


def _hand_kml(path, extended: str = "") -> str:
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>trails</name>
<Placemark><name>ridge</name>{extended}<LineString><extrude>1</extrude><tessellate>1</tessellate>
<altitudeMode>clampToGround</altitudeMode>
<coordinates>126.85,35.16 126.86,35.17 126.87,35.17</coordinates></LineString></Placemark>
</Folder></Document></kml>"""
    )
    return str(path)


def _hand_gpx(path) -> str:
    path.write_text(
        """<?xml version="1.0"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="36.64" lon="127.49"><name>gate</name></wpt>
<wpt lat="36.65" lon="127.50"><name>post</name></wpt>
</gpx>"""
    )
    return str(path)


def _fires(verdict, rule: str) -> bool:
    return rule in [f.rule_id for f in verdict.findings]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: _gdal_kml(p / "gdal.kml", "KML"),
        lambda p: _gdal_kml(p / "libkml.kml", "LIBKML"),
        lambda p: _hand_kml(p / "hand.kml"),
        lambda p: _hand_gpx(p / "hand.gpx"),
    ],
    ids=["gdal-kml", "gdal-libkml", "hand-kml", "hand-gpx"],
)
def test_driver_fields_do_not_make_contours(tmp_path, kr, make):
    path = make(tmp_path)
    info_fields = {
        f
        for name, _ in pyogrio.list_layers(path)
        for f in pyogrio.read_info(path, layer=name)["fields"]
    }
    assert info_fields & DRIVER_FIELDS  # GDAL does add them: the file is the case in point
    verdict = kr.check(path)
    assert not set(verdict.profile.fields) & DRIVER_FIELDS
    assert not _fires(verdict, "KR-CONTOURS")
    # The control: the same kind of file with an elevation field of the data's own.
    extended = '<ExtendedData><Data name="elevation"><value>512</value></Data></ExtendedData>'
    control = kr.check(_hand_kml(tmp_path / "elevation.kml", extended))
    assert "elevation" in control.profile.fields
    assert _fires(control, "KR-CONTOURS")


def test_a_gdal_kml_with_its_own_height_field_still_shows_it(tmp_path, kr):
    verdict = kr.check(_gdal_kml(tmp_path / "heights.kml", "LIBKML", {"height_m": [10.0, 12.5]}))
    assert "height_m" in verdict.profile.fields
    assert not set(verdict.profile.fields) & DRIVER_FIELDS
    assert _fires(verdict, "KR-CONTOURS")


def test_one_table_of_driver_fields():
    from compliance.readers.driver_fields import DRIVER_ADDED_FIELDS

    # The KML readers share one list; GPX has its own; the name fields stay (they hold data).
    assert DRIVER_ADDED_FIELDS["KML"] is DRIVER_ADDED_FIELDS["LIBKML"]
    assert {"altitudeMode", "tessellate", "extrude"} <= DRIVER_ADDED_FIELDS["KML"]
    assert "geoidheight" in DRIVER_ADDED_FIELDS["GPX"]
    assert not {"Name", "name", "description"} & (
        DRIVER_ADDED_FIELDS["KML"] | DRIVER_ADDED_FIELDS["GPX"]
    )
