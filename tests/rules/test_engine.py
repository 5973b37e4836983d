"""Deciding: the most severe effect wins, and what cannot be verified is never allowed."""

from __future__ import annotations

import pytest
from rasterio.transform import from_origin
from shapely.geometry import box

from compliance import Checker, Effect
from compliance.rules.evaluate import decide, evaluate_pack
from compliance.rules.pack_tests import baseline_context
from compliance.rules.packs import load_pack
from tests.builders import write_raster, write_vector


def test_effects_are_ordered_by_severity():
    ordered = [Effect.allow, Effect.allow_with_conditions, Effect.review, Effect.deny]
    assert [e.severity for e in ordered] == [0, 1, 2, 3]
    assert (
        Effect.most_severe([Effect.review, Effect.deny, Effect.allow], default=Effect.allow)
        == Effect.deny
    )
    assert [e.exit_code for e in ordered] == [0, 10, 20, 30]


def test_a_null_fact_gives_review_naming_the_rule(tmp_path):
    pack = load_pack("rules/kr.yaml")
    context = baseline_context()
    context["dataset"]["scale_denominator"] = None
    result = evaluate_pack(pack, context, applies=True, fraction=1.0)
    (finding,) = [f for f in result.findings if f.rule_id == "KR-SCALE-25K"]
    assert finding.effect == Effect.review
    assert (
        "could not be evaluated" in finding.message
        and "dataset.scale_denominator" in finding.message
    )
    assert result.info.outcome == Effect.review


def test_conditions_are_collected_from_every_finding():
    pack = load_pack("rules/kr.yaml")
    context = baseline_context()
    context["dataset"].update(
        kind="raster",
        resolution_m=10.0,
        has_imagery=True,
        imagery_resolution_m=10.0,
        scale_denominator=20000.0,
    )
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
        '  - id: D-1\n    title: no export to CN\n    when: request.destination == "CN"\n'
        "    effect: deny\n    reference: Test Act\n"
    )
    path = write_vector(tmp_path / "a.gpkg", [box(2.30, 48.85, 2.31, 48.86)], 4326)
    checker = Checker(packs=[rules])
    assert checker.check(path, destination="cn").verdict == Effect.deny
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


def test_territory_fraction_and_applicability_are_measured_on_the_ground(tmp_path):
    import geopandas as gpd

    territory = tmp_path / "land.geojson"
    gpd.GeoDataFrame({"name": ["land"]}, geometry=[box(10.0, 0.0, 11.0, 1.0)], crs=4326).to_file(
        territory
    )
    pack = tmp_path / "land.yaml"
    pack.write_text(
        'pack: land\nversion: "1"\ntitle: t\njurisdiction: XX\nterritory: land.geojson\nrules:\n'
        "  - id: L-1\n    title: mostly inside\n    when: territory.fraction > 0.4 && territory.fraction < 0.6\n"
        "    effect: review\n    reference: Test Act\n"
    )
    checker = Checker(packs=[pack])
    # Half of this box lies inside the territory (the western half, 10.5°E to 11°E of 10.5-11.5).
    half = checker.check(write_vector(tmp_path / "half.gpkg", [box(10.5, 0.2, 11.5, 0.8)], 4326))
    (info,) = half.packs
    assert info.applies and info.territory_fraction == pytest.approx(0.5, rel=1e-3)
    assert half.verdict == Effect.review
    away = checker.check(write_vector(tmp_path / "away.gpkg", [box(20.0, 0.2, 20.5, 0.8)], 4326))
    assert away.packs[0].applies is False and away.verdict == Effect.allow


def test_declared_scale_from_iso_metadata_in_a_geopackage(tmp_path):
    import sqlite3

    path = write_vector(tmp_path / "iso.gpkg", [box(2.30, 48.85, 2.31, 48.86)], 4326)
    iso = (
        "<gmd:MD_Metadata><gmd:equivalentScale><gmd:MD_RepresentativeFraction><gmd:denominator>"
        "<gco:Integer>25000</gco:Integer></gmd:denominator></gmd:MD_RepresentativeFraction>"
        "</gmd:equivalentScale></gmd:MD_Metadata>"
    )
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER PRIMARY KEY, md_scope TEXT, "
            "md_standard_uri TEXT, mime_type TEXT, metadata TEXT)"
        )
        conn.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', 'http://www.isotc211.org/2005/gmd', 'text/xml', ?)",
            (iso,),
        )
    profile = Checker(packs=[]).check(path).profile
    assert profile.declared_scale_denominator == 25000


def test_declared_scale_from_raster_tags(tmp_path):
    import rasterio

    path = write_raster(
        tmp_path / "sheet.tif", "EPSG:4326", from_origin(2.30, 48.86, 0.0001, 0.0001)
    )
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(MAP_SCALE="1 : 10 000")
    profile = Checker(packs=[]).check(path).profile
    assert profile.declared_scale_denominator == 10000
