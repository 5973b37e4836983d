"""Findings grouped by root cause: a rule held for want of facts that a MAPGATE-* finding
left unknown names that finding (``held_by``); the verdict itself does not change."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import Affine

from compliance import Checker
from tests.builders import SAMPLES, write_vector


def _raster_without_crs(tmp_path, pixel: float, origin: tuple[float, float]):
    path = tmp_path / f"nocrs_{pixel}.tif"
    transform = Affine(pixel, 0, origin[0], 0, -pixel, origin[1])
    with rasterio.open(
        path, "w", driver="GTiff", width=40, height=30, count=1, dtype="uint8",
        transform=transform,
    ) as dst:  # fmt: skip
        dst.write(np.ones((1, 30, 40), dtype="uint8"))
    return path


def _vector_without_crs(tmp_path, stride: float):
    lines = [shapely.LineString([(x, 0), (x + stride, stride)]) for x in range(0, 50, 5)]
    return write_vector(tmp_path / f"lines_{stride}.gpkg", lines, None)


def _empty_layer(tmp_path, crs: str):
    import geopandas as gpd

    path = tmp_path / f"empty_{crs.replace(':', '_')}.gpkg"
    gpd.GeoDataFrame({"n": []}, geometry=gpd.GeoSeries([], crs=crs)).to_file(
        path, driver="GPKG", geometry_type="LineString"
    )
    return path


CASES = [
    ("MAPGATE-LOCATION-UNKNOWN", lambda t: _raster_without_crs(t, 0.5, (200000, 500000))),
    ("MAPGATE-LOCATION-UNKNOWN", lambda t: _raster_without_crs(t, 30.0, (0, 0))),
    ("MAPGATE-LOCATION-UNKNOWN", lambda t: _vector_without_crs(t, 0.3)),
    ("MAPGATE-LOCATION-UNKNOWN", lambda t: SAMPLES / "scan_no_crs.tif"),
    ("MAPGATE-EMPTY", lambda t: _empty_layer(t, "EPSG:4326")),
    ("MAPGATE-EMPTY", lambda t: _empty_layer(t, "EPSG:5186")),
]


@pytest.mark.parametrize(("cause", "build"), CASES)
def test_rules_held_by_a_cause_name_it(checker: Checker, tmp_path, cause, build):
    verdict = checker.check(build(tmp_path))
    assert verdict.verdict.value in {"review", "deny"}
    codes = [f.rule_id for f in verdict.findings]
    assert cause in codes
    held = [f for f in verdict.findings if f.held_by is not None]
    assert held, "a cause that leaves facts unknown holds the rules that read them"
    for f in held:
        assert f.held_by == cause and f.pack != "mapgate" and f.effect.value == "review"
        assert "could not be evaluated" in f.message
        assert any(value is None for value in f.facts.values())
    # What fired for a reason of its own (or is the cause) is not held.
    for f in verdict.findings:
        if f.held_by is None and f.pack != "mapgate":
            assert "could not be evaluated" not in f.message
    doc = json.loads(verdict.to_json())
    assert {f["rule_id"]: f["held_by"] for f in doc["findings"]} == {
        f.rule_id: f.held_by for f in verdict.findings
    }


@pytest.mark.parametrize("sample", ["kr_5k_buildings.gpkg", "sat_10m_korea.tif"])
def test_a_placed_dataset_has_nothing_held(checker: Checker, sample):
    verdict = checker.check(SAMPLES / sample)
    assert all(f.held_by is None for f in verdict.findings)
    assert not any("could not be evaluated" in f.message for f in verdict.findings)


def test_a_hold_no_mapgate_finding_explains_stays_a_finding_of_its_own(checker, tmp_path):
    # Points at full precision, placed near Daejeon: the location is known, the detail is
    # not, and no MAPGATE-* finding is raised; the rules needing the detail stay held alone.
    rng = np.random.default_rng(7)
    points = [shapely.Point(127.38 + x, 36.35 + y) for x, y in rng.random((20, 2)) * 0.01]
    verdict = checker.check(write_vector(tmp_path / "points.gpkg", points, 4326))
    assert verdict.profile.resolution_m is None and verdict.verdict.value == "review"
    assert not [f for f in verdict.findings if f.pack == "mapgate"]
    held = [f for f in verdict.findings if "could not be evaluated" in f.message]
    assert held and all(f.held_by is None for f in held)
