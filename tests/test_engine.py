"""Deciding: the most severe effect wins, and what cannot be verified is never allowed."""

from __future__ import annotations

import pytest
from rasterio.transform import from_origin
from shapely.geometry import box

from compliance import Checker, Effect
from compliance.engine import decide, evaluate_pack
from compliance.pack_tests import baseline_context
from compliance.packs import load_pack
from tests.conftest import write_raster, write_vector


def test_effects_are_ordered_by_severity():
    ordered = [Effect.allow, Effect.allow_with_conditions, Effect.review, Effect.deny]
    assert sorted(reversed(ordered), key=lambda e: e.severity) == ordered
    assert Effect.most_severe([Effect.review, Effect.deny, Effect.allow], default=Effect.allow) == Effect.deny
    assert [e.exit_code for e in ordered] == [0, 10, 20, 30]


def test_a_null_fact_gives_review_naming_the_rule(tmp_path):
    pack = load_pack("rules/kr.yaml")
    context = baseline_context()
    context["dataset"]["scale_denominator"] = None
    result = evaluate_pack(pack, context, applies=True, fraction=1.0)
    (finding,) = [f for f in result.findings if f.rule_id == "KR-SCALE-25K"]
    assert finding.effect == Effect.review
    assert "could not be evaluated" in finding.message and "dataset.scale_denominator" in finding.message
    assert result.info.outcome == Effect.review


def test_conditions_are_collected_from_every_finding():
    pack = load_pack("rules/kr.yaml")
    context = baseline_context()
    context["dataset"].update(kind="raster", resolution_m=10.0, scale_denominator=20000.0)
    verdict, findings, conditions = decide([evaluate_pack(pack, context, True, 1.0)], [])
    assert verdict == Effect.review
    assert conditions == ["mask_zones", "strip_coordinates"]
    assert {f.rule_id for f in findings} == {"KR-SCALE-25K", "KR-IMAGERY-COORDINATES-2D"}


def test_data_without_a_crs_is_never_allowed(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", None, from_origin(200000, 500000, 10, 10))
    verdict = Checker().check(path)
    assert verdict.verdict == Effect.review
    assert verdict.findings[0].rule_id == "MAPGATE-LOCATION-UNKNOWN"
    assert verdict.zones.count is None
    # Every pack applies to data that cannot be placed.
    assert all(p.applies for p in verdict.packs)


def test_an_empty_layer_is_reviewed_not_allowed(tmp_path):
    import geopandas as gpd

    path = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"n": []}, geometry=[], crs=4326).to_file(path)
    verdict = Checker().check(path)
    assert verdict.verdict == Effect.review
    assert verdict.findings[0].rule_id == "MAPGATE-EMPTY"


def test_data_outside_every_territory_is_allowed_with_no_pack_applying(tmp_path):
    path = write_vector(tmp_path / "paris.gpkg", [box(2.30, 48.85, 2.31, 48.86)], 4326)
    verdict = Checker().check(path)
    assert verdict.verdict == Effect.allow
    assert not any(p.applies for p in verdict.packs)


def test_request_facts_reach_the_rules(tmp_path):
    rules = tmp_path / "dest.yaml"
    rules.write_text(
        'pack: dest\nversion: "1"\ntitle: t\njurisdiction: XX\nrules:\n'
        '  - id: D-1\n    title: no export to ZZ\n    when: request.destination == "ZZ"\n'
        "    effect: deny\n    reference: Test Act\n"
    )
    path = write_vector(tmp_path / "a.gpkg", [box(2.30, 48.85, 2.31, 48.86)], 4326)
    checker = Checker(packs=[rules])
    assert checker.check(path, destination="zz").verdict == Effect.deny
    assert checker.check(path, destination="FR").verdict == Effect.allow
    assert checker.check(path).verdict == Effect.allow


def test_a_wrong_crs_is_flagged(real_data):
    verdict = Checker().check(real_data / "vectors/gdal_autotest2/srs_name.geojson")
    assert "MAPGATE-CRS-MISMATCH" in [f.rule_id for f in verdict.findings]
    assert verdict.verdict != Effect.allow


@pytest.mark.parametrize("packs", [["kr"], ["kr", "in"]])
def test_checker_restricts_to_selected_packs(tmp_path, packs):
    checker = Checker()
    path = write_vector(tmp_path / "a.gpkg", [box(127.3, 36.3, 127.31, 36.31)], 4326)
    assert [p.name for p in checker.check(path, packs=packs).packs] == packs
