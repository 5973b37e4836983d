"""Positions kept in a GeoParquet column's CRS document, or in its other described members.

The move: a GeoParquet column's ``crs`` is a PROJJSON document, and PROJ reads the
members its schema defines and passes over any other. Fifty survey positions near Seoul
written into a member of the CRS's own (``"survey": [[127.0001234, 37.5002345], ...]``)
leave with the file, while every reader (pyproj, GDAL, geopandas) sees EPSG:4326 and
ten coarse points. The same numbers fit in a ``bbox`` of forty numbers, or in text where
GeoParquet expects a name (``edges``).

Claim under test: what of a column's described members no reader takes (the CRS's
members PROJ does not read back, a bbox of other than 4 or 6 numbers, numbers in names)
is listed when more than 8 numbers (MAPGATE-UNREAD-GEOMETRIES, review); files geopandas
writes (GeoParquet 1.0, and 1.1 with a bbox covering), in several CRSs, list nothing.

Truth: pyproj reads each document to the same CRS (asserted); the files are written with
pyarrow and geopandas.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj
import pytest
import shapely

from compliance import Checker, Effect
from compliance.readers.projjson_unread import projjson_unread

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
SAID = "numbers in the file's own metadata"
SURVEY = [[127.0 + i * 1.234567e-4, 37.5 + i * 2.345678e-4] for i in range(50)]


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _points() -> list[shapely.Geometry]:
    return list(shapely.points(127 + np.arange(10) * 1e-2, np.full(10, 37.5)))


def _parquet(path: Path, column: dict) -> Path:  # type: ignore[type-arg]
    """Ten coarse points near Seoul, their column described by ``column``."""
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"], **column}}}  # fmt: skip
    table = pa.table({"geometry": shapely.to_wkb(_points())})
    pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), path)
    return path


def _listed(verdict) -> list[str]:  # type: ignore[no-untyped-def]
    return [said for said in verdict.profile.unread_geometries if SAID in said]


def test_positions_in_a_member_of_the_crs_hold_the_file(tmp_path, checker):
    crs = pyproj.CRS("EPSG:4326").to_json_dict()
    plain = checker.check(_parquet(tmp_path / "plain.parquet", {"crs": crs}))
    assert plain.verdict == Effect.allow and _listed(plain) == []
    crs["survey"] = SURVEY
    assert pyproj.CRS.from_json_dict(crs) == pyproj.CRS("EPSG:4326")  # PROJ passes over it
    verdict = checker.check(_parquet(tmp_path / "survey.parquet", {"crs": crs}))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert _listed(verdict) and "geo: geometry.crs" in _listed(verdict)[0]


@pytest.mark.parametrize(
    "column",
    [
        {"bbox": [v for pair in SURVEY[:20] for v in pair]},
        {"edges": " ".join(f"{x:.7f} {y:.7f}" for x, y in SURVEY)},
    ],
    ids=["bbox of forty", "edges as text"],
)
def test_numbers_in_other_described_members_hold_the_file(tmp_path, checker, column):
    verdict = checker.check(_parquet(tmp_path / "member.parquet", column))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert _listed(verdict)


@pytest.mark.parametrize(
    "bbox", [[127.0, 37.5, 127.09, 37.5], [127.0, 37.5, 0.0, 127.09, 37.5, 0.0]]
)
def test_a_bbox_of_four_or_six_numbers_is_not_listed(tmp_path, checker, bbox):
    assert _listed(checker.check(_parquet(tmp_path / "box.parquet", {"bbox": bbox}))) == []


@pytest.mark.parametrize("epsg", [4326, 5179, 5186, 32652, 3857])
def test_files_geopandas_writes_list_nothing(tmp_path, checker, epsg):
    frame = gpd.GeoDataFrame({"i": range(10)}, geometry=_points(), crs=4326).to_crs(epsg)
    written = tmp_path / "geopandas.parquet"
    frame.to_parquet(written)
    assert _listed(checker.check(written)) == []
    covered = tmp_path / "covering.parquet"
    frame.to_parquet(covered, schema_version="1.1.0", write_covering_bbox=True)
    assert "covering" in json.loads(pq.read_schema(covered).metadata[b"geo"])["columns"]["geometry"]
    assert _listed(checker.check(covered)) == []


@pytest.mark.parametrize(
    "code", ["EPSG:4326", "OGC:CRS84", "EPSG:5179", "EPSG:9518", "ESRI:102003"]
)
def test_proj_reads_its_own_documents_whole(code):
    document = pyproj.CRS(code).to_json_dict()
    assert projjson_unread(document) is None
    document["remarks_of_ours"] = {"at": [1.5, 2.5]}
    assert projjson_unread(document) == {"remarks_of_ours": {"at": [1.5, 2.5]}}
    assert projjson_unread({"type": "nothing PROJ reads", "at": [1, 2]}) == {
        "type": "nothing PROJ reads", "at": [1, 2]
    }  # fmt: skip
