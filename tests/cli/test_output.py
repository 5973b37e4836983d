"""The text a person reads from ``mapgate check``: the zones named (fictional when they
are the demo zones), findings grouped by root cause, conditions explained, nothing cut at
80 columns, and messages that match their effect."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely

from tests.builders import SAMPLES, write_vector

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]


@functools.lru_cache(maxsize=64)
def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command's result, run once per distinct arguments in this module."""
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([*MAPGATE, *args], capture_output=True, text=True, timeout=120, env=env)


def text_of(*args: str) -> str:
    out = run("check", *args).stdout
    assert "verdict:" in out
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def own_zones(tmp_path_factory):
    path = tmp_path_factory.mktemp("zones") / "agency_sites.geojson"
    gpd.GeoDataFrame(
        {"zone_id": ["x"], "zone_class": ["military"]},
        geometry=[shapely.box(127.02, 37.46, 127.04, 37.475)],
        crs=4326,
    ).to_file(path)
    return path


@pytest.mark.parametrize(
    "sample", ["kr_50k_roads.gpkg", "ortho_025m_israel.tif", "sat_10m_korea.tif"]
)
def test_the_demo_zones_are_called_fictional(sample):
    out = text_of(str(SAMPLES / sample))
    assert "zones checked: demo_zones.geojson: FICTIONAL demo zones" in flat(out)
    doc = json.loads(run("check", str(SAMPLES / sample), "--format", "json").stdout)
    assert doc["zones"]["source"] == "demo_zones.geojson" and doc["zones"]["fictional"] is True


def test_the_demo_zones_are_fictional_under_any_path(tmp_path):
    copy = tmp_path / "looks_real.geojson"
    copy.write_bytes((SAMPLES.parent / "rules" / "zones" / "demo_zones.geojson").read_bytes())
    out = text_of(str(SAMPLES / "kr_50k_roads.gpkg"), "--zones", str(copy))
    assert "zones checked: looks_real.geojson: FICTIONAL demo zones" in flat(out)


def test_real_zones_are_named_and_not_called_fictional(own_zones):
    out = text_of(str(SAMPLES / "kr_5k_buildings.gpkg"), "--zones", str(own_zones))
    assert "zones checked: agency_sites.geojson" in out and "FICTIONAL" not in out
    doc = json.loads(
        run(
            "check", str(SAMPLES / "kr_5k_buildings.gpkg"), "--zones", str(own_zones),
            "--format", "json",
        ).stdout
    )  # fmt: skip
    assert doc["zones"]["fictional"] is False and doc["zones"]["source"] == "agency_sites.geojson"


def test_a_root_cause_lists_the_rules_it_held_once():
    path = str(SAMPLES / "scan_no_crs.tif")
    out = text_of(path)
    doc = json.loads(run("check", path, "--format", "json").stdout)
    held = [f for f in doc["findings"] if f["held_by"] == "MAPGATE-LOCATION-UNKNOWN"]
    assert len(held) == 7
    assert "could not be evaluated" not in out
    assert out.count("MAPGATE-LOCATION-UNKNOWN") == 1
    assert "held 7 rule(s) for review that need what it leaves unknown:" in out
    assert "docs/findings.md#mapgate-location-unknown" in out
    lines = out.splitlines()
    cause = next(i for i, line in enumerate(lines) if "mapgate/MAPGATE-LOCATION-UNKNOWN" in line)
    for f in held:
        (at,) = [i for i, line in enumerate(lines) if f"{f['pack']}/{f['rule_id']} (needs" in line]
        assert at > cause
    # Rules that fired on their own are still findings of their own.
    assert "REVIEW  in/IN-UNMEASURED" in out
    # The image keeps its TM numbers without a CRS: a leak of its place, a finding of its own.
    assert "REVIEW  mapgate/MAPGATE-LEAK-METADATA-COORDINATES" in out
    assert "findings (4):" in out


@pytest.mark.parametrize(
    "sample",
    ["kr_5k_buildings.gpkg", "sat_10m_korea.tif", "ortho_025m_israel.tif", "scan_no_crs.tif"],
)
def test_nothing_is_cut_at_80_columns(sample):
    path = str(SAMPLES / sample)
    out = text_of(path)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out
    doc = json.loads(run("check", path, "--format", "json").stdout)
    for f in doc["findings"]:
        if f["held_by"] is None:
            assert flat(f["message"]) in flat(out)
            assert flat(f["reference"]) in flat(out)


def test_each_condition_says_what_it_means_and_what_to_do():
    out = text_of(str(SAMPLES / "ortho_025m_israel.tif"))
    assert "coarsen_resolution (required by us-kba/KBA-ISRAEL-GSD-04M)" in out
    tail = flat(out.split("conditions:", 1)[1])
    # The texts come from the conditions registry (docs/conditions.md).
    assert "what it means: the data may not be more detailed than a ground resolution" in tail
    assert "what to do: `mapgate remediate` applies it to raster and vector data" in tail
    assert "parameters: resolution_m=0.4" in tail


def test_mask_zones_with_no_zone_overlapped_is_explained():
    out = text_of(str(SAMPLES / "sat_10m_korea.tif"))
    assert "sensitive zones overlapped: none" in out
    assert "mask_zones (required by kr/KR-IMAGERY-COORDINATES-2D)" in out
    assert "why, with no zone overlapped: the rule asks for it whatever the zones checked" in (
        flat(out)
    )
    # Where a zone was overlapped, masking needs no such note.
    assert "why, with no zone overlapped" not in text_of(str(SAMPLES / "kr_5k_buildings.gpkg"))


def test_an_informational_finding_does_not_read_as_a_refusal(tmp_path):
    ring = [(127.38, 36.35), (127.39, 36.36), (127.39, 36.35), (127.38, 36.36)]
    bowtie = shapely.MultiPolygon([shapely.Polygon(ring), shapely.box(127.4, 36.35, 127.41, 36.36)])
    path = str(write_vector(tmp_path / "bowtie.gpkg", [bowtie], 4326))
    out = text_of(path)
    assert "ALLOW  mapgate/MAPGATE-INVALID-GEOMETRY" in out
    assert "not allowed" not in out
    assert "basis: mapgate measurement note: informational, holds nothing back" in flat(out)


def test_brackets_in_messages_are_printed_not_read_as_markup(tmp_path):
    pack = tmp_path / "brackets.yaml"
    pack.write_text(
        'pack: brackets\nversion: "1"\ntitle: t\njurisdiction: X\nrules:\n'
        "  - id: B-1\n    title: always\n    when: dataset.kind == 'vector'\n"
        "    effect: review\n    reference: Act [bold]3[/bold] s.[2]\n"
        "    message: keep [red]every[/red] layer [sic]\n"
    )
    out = text_of(str(SAMPLES / "kr_50k_roads.gpkg"), "--pack", str(pack))
    assert "keep [red]every[/red] layer [sic]" in out
    assert "basis: Act [bold]3[/bold] s.[2]" in out
