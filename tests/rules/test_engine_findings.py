"""Real files that raise mapgate's own findings: the verdict JSON carries the effect the
docs state, and a review finding never leaves the verdict at allow."""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import geopandas as gpd
import pytest
import shapely

from tests.builders import REPO, SAMPLES, write_vector

DOC = (REPO / "docs" / "findings.md").read_text(encoding="utf-8")


def _doc_effect(code: str) -> str:
    section = DOC.split(f"### {code}\n", 1)[1]
    match = re.search(r"\*\*Effect: ([a-z_]+)", section)
    assert match
    return match.group(1)


def _empty(tmp_path):
    path = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"n": []}, geometry=gpd.GeoSeries([], crs=4326)).to_file(
        path, driver="GPKG", geometry_type="Polygon"
    )
    return path, {}


def _no_crs(tmp_path):
    return SAMPLES / "scan_no_crs.tif", {}


def _bowtie(tmp_path):
    # A self-intersecting ring near Daejeon, in a multi-polygon: GEOS validity is tested
    # for every form other than points, lines and single-ring polygons.
    ring = [(127.38, 36.35), (127.39, 36.36), (127.39, 36.35), (127.38, 36.36)]
    bowtie = shapely.MultiPolygon([shapely.Polygon(ring), shapely.box(127.4, 36.35, 127.41, 36.36)])
    assert not bowtie.is_valid
    return write_vector(tmp_path / "bowtie.gpkg", [bowtie], 4326), {}


def _zip_with_a_note(tmp_path):
    data = shutil.copy(SAMPLES / "kr_50k_roads.gpkg", tmp_path / "roads.gpkg")
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(data, "roads.gpkg")
        archive.writestr("positions.txt", "127.38 36.35\n")
    return path, {}


def _other_pack_only(tmp_path):
    return SAMPLES / "kr_50k_roads.gpkg", {"packs": ["in"]}


def _lonlat_tagged_utm(tmp_path):
    # Seoul's longitude and latitude written as if they were UTM 52N metres.
    line = shapely.LineString([(126.97, 37.56), (126.98, 37.57)])
    return write_vector(tmp_path / "mislabelled.gpkg", [line], "EPSG:32652"), {}


@pytest.mark.parametrize(
    ("code", "build"),
    [
        ("MAPGATE-EMPTY", _empty),
        ("MAPGATE-LOCATION-UNKNOWN", _no_crs),
        ("MAPGATE-INVALID-GEOMETRY", _bowtie),
        ("MAPGATE-UNCHECKED-FILES", _zip_with_a_note),
        ("MAPGATE-PACK-NOT-APPLIED", _other_pack_only),
        ("MAPGATE-CRS-MISMATCH", _lonlat_tagged_utm),
    ],
)
def test_the_verdict_carries_the_documented_effect(checker, tmp_path, code, build):
    path, options = build(tmp_path)
    doc = json.loads(checker.check(path, **options).to_json())
    (finding,) = [f for f in doc["findings"] if f["rule_id"] == code]
    assert finding["pack"] == "mapgate"
    assert finding["effect"] == _doc_effect(code)
    if finding["effect"] == "review":
        assert doc["verdict"] in {"review", "deny"}
        assert "not allowed" in finding["reference"]
    else:
        assert "not allowed" not in finding["reference"]
