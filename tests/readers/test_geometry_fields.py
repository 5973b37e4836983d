"""Features with more than one geometry: every one is checked, or the verdict is held.

The second geometry here is a point inside the demo military zone DEMO-KR-MIL-01 (around
127.02 E, 37.465 N); the first is a square far away in the Gulf of Guinea. Checked by its
first geometry alone, each file was allowed.
"""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from compliance import Checker
from compliance.readers.gml_properties import geometry_properties

IN_ZONE = shapely.Point(127.025, 37.465)
FAR_AWAY = shapely.box(1, 1, 2, 2)

# As GDAL's GML writer lays a feature out; lat/lon order, as EPSG:4326 URNs require.
GML = """<?xml version="1.0" encoding="utf-8" ?>
<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/"
    xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="c">
  <ogr:featureMember>
    <ogr:site gml:id="site.0">
      <ogr:location><gml:Point srsName="urn:ogc:def:crs:EPSG::4326" gml:id="p0">
        <gml:pos>37.465 127.025</gml:pos></gml:Point></ogr:location>
      <ogr:footprint><gml:Polygon srsName="urn:ogc:def:crs:EPSG::4326" gml:id="p1">
        <gml:exterior><gml:LinearRing><gml:posList>1 1 1 2 2 2 2 1 1 1</gml:posList>
        </gml:LinearRing></gml:exterior></gml:Polygon></ogr:footprint>
      <ogr:name>a</ogr:name>
    </ogr:site>
  </ogr:featureMember>
</ogr:FeatureCollection>
"""

# A .gfs that names both geometry properties: GDAL then reads both, as two geometry fields.
GFS = """<GMLFeatureClassList>
  <GMLFeatureClass>
    <Name>site</Name>
    <ElementPath>site</ElementPath>
    <SRSName>urn:ogc:def:crs:EPSG::4326</SRSName>
    <GeomPropertyDefn><Name>footprint</Name><ElementPath>footprint</ElementPath>
      <Type>Polygon</Type></GeomPropertyDefn>
    <GeomPropertyDefn><Name>location</Name><ElementPath>location</ElementPath>
      <Type>Point</Type></GeomPropertyDefn>
    <PropertyDefn><Name>name</Name><ElementPath>name</ElementPath><Type>String</Type>
    </PropertyDefn>
  </GMLFeatureClass>
</GMLFeatureClassList>
"""


def _sqlite_with_two_geometry_columns(path: Path) -> Path:
    """An OGR SQLite table (FDO layout) with an outline column and a position column."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE geometry_columns (f_table_name VARCHAR, f_geometry_column VARCHAR,
            geometry_type INTEGER, coord_dimension INTEGER, srid INTEGER,
            geometry_format VARCHAR);
        CREATE TABLE spatial_ref_sys (srid INTEGER UNIQUE, auth_name TEXT, auth_srid TEXT,
            srtext TEXT);
        CREATE TABLE site (ogc_fid INTEGER PRIMARY KEY, name TEXT, footprint BLOB,
            location BLOB);
        INSERT INTO geometry_columns VALUES ('site', 'footprint', 3, 2, 4326, 'WKB');
        INSERT INTO geometry_columns VALUES ('site', 'location', 1, 2, 4326, 'WKB');
        """
    )
    wkt = CRS.from_epsg(4326).to_wkt("WKT1_GDAL")
    db.execute("INSERT INTO spatial_ref_sys VALUES (4326, 'EPSG', '4326', ?)", (wkt,))
    db.execute(
        "INSERT INTO site VALUES (1, 'a', ?, ?)",
        (shapely.to_wkb(FAR_AWAY), shapely.to_wkb(IN_ZONE)),
    )
    db.commit()
    db.close()
    return path


def _rules(verdict) -> set[str]:
    return {f.rule_id for f in verdict.findings}


def test_a_second_geometry_column_of_a_sqlite_table_is_checked(tmp_path, checker: Checker):
    v = checker.check(_sqlite_with_two_geometry_columns(tmp_path / "sites.sqlite"))
    # Every table is read: the database's own catalogue too, as tables without geometry.
    assert [layer.name for layer in v.profile.layers] == [
        "site", "site:location", "geometry_columns", "spatial_ref_sys",
    ]  # fmt: skip
    assert {layer.geometry_type for layer in v.profile.layers[2:]} == {"None"}
    assert v.profile.layers[1].crs == "EPSG:4326"
    assert v.zones.count == 1 and "military" in v.zones.classes
    assert v.verdict != "allow"


def test_a_gml_whose_gfs_names_two_geometries_is_checked_by_both(tmp_path, checker: Checker):
    (tmp_path / "sites.gml").write_text(GML)
    (tmp_path / "sites.gfs").write_text(GFS)
    v = checker.check(tmp_path / "sites.gml")
    assert [layer.name for layer in v.profile.layers] == ["site", "site:location"]
    # The point came through GDAL's own axis handling: lat/lon in the file, lon/lat here.
    assert v.profile.layers[1].bounds_wgs84 == pytest.approx([127.025, 37.465, 127.025, 37.465])
    assert v.zones.count == 1
    assert "MAPGATE-UNREAD-GEOMETRIES" not in _rules(v)
    assert v.verdict != "allow"


def test_a_gml_geometry_gdal_drops_holds_the_verdict_for_review(tmp_path, checker: Checker):
    (tmp_path / "sites.gml").write_text(GML)
    v = checker.check(tmp_path / "sites.gml")
    # Without a schema GDAL keeps one geometry per feature type: the outline, far away.
    assert [layer.name for layer in v.profile.layers] == ["site"]
    assert v.zones.count == 0
    assert v.profile.unread_geometries == ["site.location"]
    assert "MAPGATE-UNREAD-GEOMETRIES" in _rules(v)
    assert v.verdict == "review"


def test_a_gml_written_by_gdal_with_one_geometry_has_nothing_unread(tmp_path, checker: Checker):
    path = tmp_path / "roads.gml"
    gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.LineString([(0, 0), (1, 1)]), shapely.LineString([(2, 2), (3, 3)])],
        crs="EPSG:4326",
    ).to_file(path, driver="GML")
    v = checker.check(path)
    assert v.profile.unread_geometries == []
    assert "MAPGATE-UNREAD-GEOMETRIES" not in _rules(v)
    assert v.verdict == "allow"


def test_geometry_properties_are_listed_per_feature_type(tmp_path):
    path = tmp_path / "sites.gml"
    path.write_text(GML)
    assert geometry_properties(path) == {"site": {"footprint", "location"}}
    packed = tmp_path / "sites.gml.gz"
    packed.write_bytes(gzip.compress(GML.encode()))
    assert geometry_properties(packed) == {"site": {"footprint", "location"}}


def test_gml_declaring_entities_is_not_expanded(tmp_path):
    bomb = tmp_path / "bomb.gml"
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    bomb.write_text(
        f'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY l0 "lol">{lol}]>'
        '<c xmlns:gml="http://www.opengis.net/gml"><m><f><p><gml:Point>'
        "<gml:pos>&l8;</gml:pos></gml:Point></p></f></m></c>"
    )
    assert geometry_properties(bomb) is None


def test_checking_a_gml_writes_nothing_beside_it(tmp_path, checker: Checker):
    # GDAL's GML driver leaves a .gfs schema beside what it reads, and trusts it next time.
    (tmp_path / "sites.gml").write_text(GML)
    checker.check(tmp_path / "sites.gml")
    checker.check(tmp_path / "sites.gml")
    assert [p.name for p in tmp_path.iterdir()] == ["sites.gml"]


def test_every_feature_type_of_a_gml_is_a_layer(tmp_path, checker: Checker):
    road = """  <ogr:featureMember>
    <ogr:road gml:id="road.0">
      <ogr:centreline><gml:LineString srsName="urn:ogc:def:crs:EPSG::4326" gml:id="l0">
        <gml:posList>37.465 127.025 37.466 127.026</gml:posList></gml:LineString>
      </ogr:centreline>
    </ogr:road>
  </ogr:featureMember>
</ogr:FeatureCollection>"""
    (tmp_path / "two.gml").write_text(GML.replace("</ogr:FeatureCollection>", road))
    v = checker.check(tmp_path / "two.gml")
    assert sorted(layer.name for layer in v.profile.layers) == ["road", "site"]
    assert v.profile.unread_geometries == ["site.location"]
    assert v.zones.count == 1  # the road, inside the zone
    assert [p.name for p in tmp_path.iterdir()] == ["two.gml"]
