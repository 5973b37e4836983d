"""GeoParquet: precise positions in nested columns and in the file's own metadata.

The moves, each beside points snapped to about 100 m: GeoParquet 1.1's bbox covering (a
struct of xmin, ymin, xmax, ymax per row) set to each precise point, as doubles or as
floats; the precise position in a struct column of any name, nested one level deeper,
or in a list column; the positions as JSON in a key of the file's metadata, of a field's
metadata, or in a member of the ``geo`` description GeoParquet does not define. The
attribute reading took flat columns only, and no metadata beside ``geo``.

Claim under test: each is held for review; a bbox covering that is each row's own box
(doubles, or floats rounded outward to contain it, as GDAL writes them) and metadata of
a few numbers (a writer's version) are not.

Truth: the positions are drawn here at random and carried between CRSs with pyproj; the
files are written with pyarrow; the boxes are shapely's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import FINDING
from tests.adversarial.test_gpkg_unlisted_tables import _positions

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
COVERING = {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _write(path: Path, columns: dict[str, pa.Array], geoms: np.ndarray, **extra: object) -> Path:
    """Points ``geoms`` (lon/lat) with ``columns``; ``extra``: ``covering``, ``geo`` members
    (``geo_extra``), file metadata (``metadata``), a field's (``field_metadata``)."""
    column: dict[str, object] = {"encoding": "WKB", "geometry_types": ["Point"]}
    if "covering" in extra:
        column["covering"] = extra["covering"]
    geo = {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}
    geo |= dict(extra.get("geo_extra") or {})  # type: ignore[arg-type]
    table = pa.table({"id": list(range(len(geoms))), **columns,
                      "geometry": shapely.to_wkb(geoms)})  # fmt: skip
    if "field_metadata" in extra:
        field = table.schema.field("id").with_metadata(extra["field_metadata"])  # type: ignore[arg-type]
        table = table.cast(table.schema.set(0, field))
    metadata = {b"geo": json.dumps(geo).encode(), **dict(extra.get("metadata") or {})}  # type: ignore[arg-type]
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


def _boxes(values: np.ndarray, floats: bool) -> pa.StructArray:
    """A bbox covering of boxes (min x, min y, max x, max y rows); as floats, rounded
    outward to hold each box (GDAL's way)."""
    arrays = []
    for k in range(4):
        v = values[:, k]
        if floats:
            f = v.astype(np.float32)
            low = k < 2
            past = f.astype(float) > v if low else f.astype(float) < v
            f[past] = np.nextafter(f[past], np.float32(-np.inf if low else np.inf))
            arrays.append(pa.array(f, pa.float32()))
        else:
            arrays.append(pa.array(v, pa.float64()))
    return pa.StructArray.from_arrays(arrays, names=["xmin", "ymin", "xmax", "ymax"])


def _coarse_and_precise() -> tuple[np.ndarray, np.ndarray]:
    _, lonlat = _positions()
    return shapely.points(np.round(lonlat, 3)), lonlat


def _held(verdict, columns: list[str] | None = None, unread: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    if columns is not None:
        assert FINDING in {f.rule_id for f in verdict.findings}
        assert verdict.profile.layers[0].coordinate_columns == columns
    if unread is not None:
        assert UNREAD in {f.rule_id for f in verdict.findings}
        assert any(unread in u for u in verdict.profile.unread_geometries), (
            verdict.profile.unread_geometries
        )


@pytest.mark.parametrize("floats", [False, True], ids=["doubles", "floats"])
def test_a_bbox_covering_of_precise_points_holds_the_file(tmp_path, checker, floats):
    coarse, lonlat = _coarse_and_precise()
    boxes = _boxes(np.column_stack([lonlat, lonlat]), floats)
    path = _write(tmp_path / "f.parquet", {"bbox": boxes}, coarse, covering=COVERING)
    _held(checker.check(path), ["bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax"])


@pytest.mark.parametrize("floats", [False, True], ids=["doubles", "floats"])
@pytest.mark.parametrize("kind", ["points", "polygons"])
def test_a_bbox_covering_of_each_row_s_own_box_is_clean(tmp_path, checker, floats, kind):
    coarse, _ = _coarse_and_precise()
    geoms = coarse if kind == "points" else shapely.buffer(coarse, 0.0004, quad_segs=2)
    boxes = _boxes(shapely.bounds(geoms), floats)
    path = _write(tmp_path / "f.parquet", {"bbox": boxes}, geoms, covering=COVERING)
    verdict = checker.check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.layers[0].coordinate_columns is None


def test_a_position_in_a_struct_nested_twice_holds_the_file(tmp_path, checker):
    coarse, lonlat = _coarse_and_precise()
    at = pa.StructArray.from_arrays(
        [pa.array(lonlat[:, 0]), pa.array(lonlat[:, 1])], names=["e", "n"]
    )
    survey = pa.StructArray.from_arrays([pa.array(["gps"] * len(lonlat)), at], names=["by", "at"])
    path = _write(tmp_path / "f.parquet", {"survey": survey}, coarse)
    _held(checker.check(path), ["survey.at.e", "survey.at.n"])


def test_a_position_in_a_list_column_holds_the_file(tmp_path, checker):
    coarse, lonlat = _coarse_and_precise()
    path = _write(tmp_path / "f.parquet", {"pos": pa.array(lonlat.tolist())}, coarse)
    _held(checker.check(path), ["pos"])


@pytest.mark.parametrize("where", ["file", "field", "geo"])
def test_positions_in_the_file_s_own_metadata_hold_the_file(tmp_path, checker, where):
    coarse, lonlat = _coarse_and_precise()
    survey = json.dumps(lonlat.tolist()).encode()
    extra: dict[str, object] = {
        "file": {"metadata": {b"survey": survey}},
        "field": {"field_metadata": {b"survey": survey}},
        "geo": {"geo_extra": {"survey": lonlat.tolist()}},
    }[where]
    path = _write(tmp_path / "f.parquet", {}, coarse, **extra)
    _held(checker.check(path), unread=f"{2 * len(lonlat)} numbers in the file's own metadata")


def test_metadata_of_a_few_numbers_is_clean(tmp_path, checker):
    coarse, _ = _coarse_and_precise()
    writer = json.dumps({"writer": "survey-tool 2.4.1", "created": "2024-05-01T12:30:00Z",
                         "rows": 30, "schema": 3}).encode()  # fmt: skip
    path = _write(tmp_path / "f.parquet", {}, coarse, metadata={b"writer": writer})
    verdict = checker.check(path)
    assert verdict.verdict == Effect.allow, verdict.profile.unread_geometries
