"""The committed sample maps produce one verdict each, and the script that makes them still works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from compliance import Effect
from tests.builders import REPO, SAMPLES

EXPECTED = {
    "kr_5k_buildings.gpkg": (Effect.deny, {"KR-SCALE-25K", "KR-SECURITY-ZONES-LARGE-SCALE"}),
    "ortho_025m_israel.tif": (Effect.allow_with_conditions, {"KBA-ISRAEL-GSD-04M"}),
    "kr_50k_roads.gpkg": (Effect.allow, set()),
    "sat_10m_korea.tif": (Effect.review, {"KR-SCALE-25K", "KR-IMAGERY-COORDINATES-2D"}),
    "scan_no_crs.tif": (Effect.review, {"MAPGATE-LOCATION-UNKNOWN"}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_gets_its_verdict(checker, name):
    verdict = checker.check(SAMPLES / name)
    expected, rules = EXPECTED[name]
    assert verdict.verdict == expected
    assert rules <= {f.rule_id for f in verdict.findings}


def test_every_verdict_has_a_sample():
    assert {v for v, _ in EXPECTED.values()} == set(Effect)


def test_sample_facts(checker):
    buildings = checker.check(SAMPLES / "kr_5k_buildings.gpkg")
    assert buildings.profile.crs == "EPSG:5186" and buildings.profile.layer_count == 2
    assert 3000 < buildings.profile.scale_denominator < 7000
    ortho = checker.check(SAMPLES / "ortho_025m_israel.tif")
    assert ortho.profile.resolution_m == pytest.approx(
        0.25, rel=0.01
    ) and ortho.profile.overviews == [2, 4]
    roads = checker.check(SAMPLES / "kr_50k_roads.gpkg")
    assert roads.profile.scale_source == "declared" and roads.profile.scale_denominator == 50000


def test_the_sample_script_regenerates_the_samples(tmp_path):
    script = (
        (SAMPLES / "make_samples.py")
        .read_text()
        .replace("HERE = Path(__file__).resolve().parent", f"HERE = Path({str(tmp_path)!r})")
    )
    (tmp_path / "make.py").write_text(script)
    subprocess.run(
        [sys.executable, str(tmp_path / "make.py")], check=True, capture_output=True, cwd=REPO
    )
    assert {p.name for p in tmp_path.iterdir() if p.suffix in {".gpkg", ".tif"}} == set(EXPECTED)
