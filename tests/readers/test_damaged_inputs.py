"""Layers without geometry, and damaged files that once raised instead of answering."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from compliance import Checker, ComplianceError
from tests.builders import write_vector


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _with_table(tmp_path, table: pd.DataFrame, name: str):
    path = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[box(127.0, 37.0, 127.001, 37.001)], crs=4326).to_file(
        path, layer="buildings"
    )
    pyogrio.write_dataframe(table, path, layer=name, driver="GPKG")
    return path


def test_a_geopackage_with_a_style_table_is_judged_by_its_spatial_layer(checker, tmp_path):
    # QGIS keeps layer styles in a table without geometry; the check raised IndexError on it.
    styles = pd.DataFrame({"styleName": ["default"], "styleQML": ["<qgis/>"]})
    verdict = checker.check(_with_table(tmp_path, styles, "layer_styles"))
    tables = [la for la in verdict.profile.layers if la.geometry_type == "None"]
    assert [t.name for t in tables] == ["layer_styles"] and tables[0].coordinate_columns is None
    assert verdict.profile.has_crs and verdict.profile.georeferenced
    assert (
        verdict.verdict
        == checker.check(
            write_vector(tmp_path / "alone.gpkg", [box(127.0, 37.0, 127.001, 37.001)], 4326)
        ).verdict
    )


def test_a_table_whose_columns_may_hold_coordinates_is_held_for_review(checker, tmp_path):
    sites = pd.DataFrame({"site": ["a", "b"], "lat": [37.5, 37.6], "lon": [127.0, 127.1]})
    verdict = checker.check(_with_table(tmp_path, sites, "sites"))
    (finding,) = [f for f in verdict.findings if f.rule_id == "MAPGATE-COORDINATES-IN-TABLE"]
    assert finding.effect == "review" and "lat, lon" in finding.message
    assert verdict.verdict in {"review", "deny"}


def test_a_csv_of_positions_is_not_allowed(checker, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("name,latitude,longitude\nbase,37.5,127.0\n")
    verdict = checker.check(path)
    ids = {f.rule_id for f in verdict.findings}
    assert {"MAPGATE-EMPTY", "MAPGATE-COORDINATES-IN-TABLE"} <= ids
    assert verdict.verdict != "allow"


def test_field_names_that_are_not_text_give_a_clear_error(checker, tmp_path):
    # Found by fuzzing: a damaged property name raised UnicodeDecodeError from pyogrio.
    path = tmp_path / "bad.geojson"
    path.write_bytes(
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        b'{"\xed\x95":1},"geometry":{"type":"Point","coordinates":[127.0,37.0]}}]}'
    )
    try:
        verdict = checker.check(path)
    except ComplianceError as exc:
        assert "cannot be read" in str(exc)
    else:
        assert verdict.verdict != "allow"


def test_coordinates_too_large_to_densify_are_not_placed(checker, tmp_path):
    # Found by fuzzing: GEOS refused to densify an extent a 256th of which is lost in
    # round-off, and the check raised GEOSException.
    line = LineString([(1e15, 0.0), (1e15 + 1.0, 1.0)])
    verdict = checker.check(write_vector(tmp_path / "far.gpkg", [line], "EPSG:3857"))
    assert verdict.verdict == "review"
    assert "MAPGATE-LOCATION-UNKNOWN" in {f.rule_id for f in verdict.findings}


def test_coordinates_beyond_the_projections_world_are_not_placed(checker, tmp_path):
    # Web Mercator's inverse wraps x past ±20,037,508 m round the Earth: 30,000 km east
    # would land at about 90°W. Such coordinates name no position and must not be placed
    # where the wrap happens to land.
    square = box(30_000_000.0, 4_500_000.0, 30_001_000.0, 4_501_000.0)
    verdict = checker.check(write_vector(tmp_path / "wrapped.gpkg", [square], "EPSG:3857"))
    assert verdict.verdict == "review"
    assert "MAPGATE-LOCATION-UNKNOWN" in {f.rule_id for f in verdict.findings}


def test_a_zone_beyond_its_projections_world_is_refused(tmp_path):
    from compliance import ZonesError

    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["Z-OK", "Z-WRAPPED"], "zone_class": ["military"] * 2},
        geometry=[
            box(14_100_000.0, 4_500_000.0, 14_101_000.0, 4_501_000.0),
            box(30_000_000.0, 4_500_000.0, 30_001_000.0, 4_501_000.0),
        ],
        crs="EPSG:3857",
    ).to_file(path)
    with pytest.raises(ZonesError, match="cannot be placed"):
        Checker(packs=["kr"], zones=path)


def test_a_zip_whose_directory_points_before_its_start_is_refused(checker, tmp_path):
    # Found by fuzzing: the central directory's offset, raised by 1,000 bytes, makes zipfile
    # seek to a negative position, and the OSError escaped the archive checks.
    import io
    import struct
    import zipfile

    from compliance import UnsafeArchive

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.geojson", '{"type": "FeatureCollection", "features": []}')
    data = bytearray(buf.getvalue())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 16, struct.unpack_from("<I", data, end + 16)[0] + 1000)
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match="cannot be extracted"):
        checker.check(path)


def test_a_raster_with_a_nan_geotransform_is_not_placed(checker, tmp_path):
    # Found by fuzzing: NaN terms in the geotransform reached GEOS, which raised.
    import numpy as np
    import rasterio
    from affine import Affine

    path = tmp_path / "nan.tif"
    profile = {"driver": "GTiff", "width": 4, "height": 4, "count": 1, "dtype": "uint8",
               "crs": "EPSG:4326", "transform": Affine(float("nan"), 0, 127.0, 0, -0.001, 37.0)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((1, 4, 4), "uint8"))
    verdict = checker.check(path)
    assert verdict.verdict == "review"
    assert "MAPGATE-LOCATION-UNKNOWN" in {f.rule_id for f in verdict.findings}


def _zone_pack(folder) -> str:
    pack = folder / "zones_only.yaml"
    pack.write_text(
        'pack: zz\nversion: "1"\ntitle: t\njurisdiction: KR\ndefault: allow\nrules:\n'
        "  - id: ZZ-ZONES\n    title: any sensitive zone\n    when: zones.count > 0\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return str(pack)


@pytest.mark.parametrize("far", [math.inf, -math.inf])
def test_a_line_with_an_infinite_vertex_is_not_cleared_of_zones(tmp_path, far):
    # Its box is not finite, so it was counted as an empty geometry and never tested: a line
    # from inside a military zone to infinity left the file allowed. It is unplaceable, and
    # the extent of its finite vertices (the one inside the zone) still meets the zone.
    checker = Checker(packs=[_zone_pack(tmp_path)])
    inside = (127.03, 37.4675)  # DEMO-KR-MIL-01
    elsewhere = Point(126.5, 36.5)
    path = write_vector(
        tmp_path / "inf.gpkg", [elsewhere, LineString([inside, (far, 37.4675)])], "EPSG:4326"
    )
    verdict = checker.check(path)
    assert verdict.verdict == "deny"
    assert "MAPGATE-UNPLACEABLE" in {f.rule_id for f in verdict.findings}
    assert verdict.profile.unplaceable_geometries == 1
    assert verdict.profile.empty_geometries == 0
    finite = write_vector(
        tmp_path / "finite.gpkg", [elsewhere, LineString([inside, (128.0, 37.4675)])], "EPSG:4326"
    )
    assert checker.check(finite).verdict == "deny"


def test_empty_geometries_are_empty_not_unplaceable(tmp_path):
    checker = Checker(packs=[_zone_pack(tmp_path)])
    path = write_vector(tmp_path / "empty.gpkg", [Point(), LineString()], "EPSG:4326")
    verdict = checker.check(path)
    assert verdict.profile.empty_geometries == 2 and verdict.profile.unplaceable_geometries == 0
    assert {f.rule_id for f in verdict.findings} >= {"MAPGATE-EMPTY"}
    assert "MAPGATE-UNPLACEABLE" not in {f.rule_id for f in verdict.findings}


def test_an_infinite_vertex_is_unplaceable_where_a_curve_sends_the_batch_to_geos(tmp_path):
    # GeoArrow does not read curves: the whole batch takes the NumPy and GEOS way, which
    # must count the same line as unplaceable, not empty.
    curve = (
        bytes.fromhex("0108000000")
        + (3).to_bytes(4, "little")
        + np.array([126.5, 36.5, 126.6, 36.6, 126.7, 36.5], dtype="<f8").tobytes()
    )
    line = shapely.to_wkb(LineString([(127.03, 37.4675), (math.inf, 37.4675)]))
    path = tmp_path / "curve.gpkg"
    pyogrio.write_arrow(
        pa.table({"id": [1, 2], "geometry": [curve, line]}),
        path,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Unknown",
        crs="EPSG:4326",
        layer="mixed",
    )
    verdict = Checker(packs=[_zone_pack(tmp_path)]).check(path)
    assert verdict.profile.unplaceable_geometries == 1
    assert verdict.profile.undecodable_geometries == 1 and verdict.profile.empty_geometries == 0
    assert {"MAPGATE-UNPLACEABLE", "MAPGATE-UNDECODABLE"} <= {f.rule_id for f in verdict.findings}
