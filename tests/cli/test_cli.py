"""The mapgate command as a user runs it: exit codes, JSON, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.builders import SAMPLES

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAPGATE, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("sample", "code"),
    [
        ("kr_50k_roads.gpkg", 0),
        ("ortho_025m_israel.tif", 10),
        ("sat_10m_korea.tif", 20),
        ("kr_5k_buildings.gpkg", 30),
    ],
)
def test_exit_code_is_the_verdict(sample, code):
    result = run("check", str(SAMPLES / sample))
    assert result.returncode == code, result.stderr
    assert "verdict:" in result.stdout


def test_json_output_is_the_verdict_document():
    result = run("check", str(SAMPLES / "kr_5k_buildings.gpkg"), "--format", "json", "--pack", "kr")
    doc = json.loads(result.stdout)
    assert set(doc) >= {
        "id",
        "verdict",
        "input",
        "profile",
        "zones",
        "findings",
        "conditions",
        "packs",
        "engine",
        "checked_at",
        "duration_ms",
    }
    assert doc["verdict"] == "deny" and [p["name"] for p in doc["packs"]] == ["kr"]
    assert doc["zones"]["hits"] is None and "DEMO-KR-MIL-01" not in result.stdout


def test_reveal_zones_shows_ids():
    result = run(
        "check", str(SAMPLES / "kr_5k_buildings.gpkg"), "--format", "json", "--reveal-zones"
    )
    assert json.loads(result.stdout)["zones"]["hits"][0]["zone_id"] == "DEMO-KR-MIL-01"


def test_zones_option_replaces_the_default_zones(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    zones = tmp_path / "none_here.geojson"
    gpd.GeoDataFrame(
        {"zone_id": ["x"], "zone_class": ["military"]}, geometry=[box(0, 0, 1, 1)], crs=4326
    ).to_file(zones)
    result = run(
        "check", str(SAMPLES / "kr_5k_buildings.gpkg"), "--zones", str(zones), "--format", "json"
    )
    doc = json.loads(result.stdout)
    assert doc["zones"]["count"] == 0 and doc["verdict"] == "review"


@pytest.mark.parametrize("name", ["corrupt.tif", "notes.txt", "missing.gpkg"])
def test_unreadable_input_is_exit_3_with_one_line(tmp_path, name):
    path = tmp_path / name
    if name != "missing.gpkg":
        path.write_bytes(b"\x00\x01garbage" * 10)
    result = run("check", str(path))
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_usage_errors_are_exit_2():
    assert run("check").returncode == 2
    assert run("check", "x", "--format", "xml").returncode == 2
    bad_pack = run("check", str(SAMPLES / "kr_50k_roads.gpkg"), "--pack", "atlantis")
    assert bad_pack.returncode == 2 and "atlantis" in bad_pack.stderr


def test_profile_command_prints_facts_without_a_verdict():
    result = run("profile", str(SAMPLES / "sat_10m_korea.tif"), "--format", "json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["profile"]["crs"] == "EPSG:32652" and "verdict" not in doc


def test_packs_list_validate_and_test():
    listed = run("packs", "list")
    assert listed.returncode == 0 and "us-kba" in listed.stdout
    assert run("packs", "validate").returncode == 0
    tested = run("packs", "test")
    assert tested.returncode == 0 and tested.stdout.strip().endswith("0 failed")


def test_packs_validate_names_the_broken_rule(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        'pack: b\nversion: "1"\ntitle: t\njurisdiction: X\nrules:\n'
        "  - id: B-7\n    title: t\n    when: dataset.nope > 1\n    effect: deny\n    reference: r\n"
    )
    result = run("packs", "validate", str(broken))
    assert result.returncode == 2 and "broken.yaml: rule B-7: unknown fact" in result.stderr


def test_console_script_runs_the_same_command():
    script = shutil.which("mapgate", path=str(Path(sys.executable).parent))
    assert script, "the mapgate console script is installed beside the interpreter"
    result = subprocess.run(
        [script, "check", str(SAMPLES / "kr_50k_roads.gpkg")], capture_output=True, text=True
    )
    assert result.returncode == 0


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_check_leaves_whole_output_and_no_temporary_files(tmp_path, fmt):
    # check and profile leave without the interpreter's teardown: their answer must still
    # arrive whole through a pipe, and an extracted upload must already be gone.
    archive = tmp_path / "buildings.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SAMPLES / "kr_5k_buildings.gpkg", "kr_5k_buildings.gpkg")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    for command in (["check", "--reveal-zones"], ["profile"]):
        result = subprocess.run(
            [*MAPGATE, *command, str(archive), "--format", fmt],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert result.returncode == (30 if command[0] == "check" else 0), result.stderr
        if fmt == "json":
            doc = json.loads(result.stdout)
            assert doc["input"]["name"] == "buildings.zip"
        else:
            assert "buildings.zip" in result.stdout
        assert list(scratch.iterdir()) == []


def test_the_command_line_never_loads_data_frame_libraries():
    # pyogrio and pyarrow load pandas (and pyogrio geopandas) unless told they are missing:
    # 0.4 s and 60 MB a run that the command line never uses.
    code = (
        "import sys, typer\n"
        "import compliance.cli.main as cli\n"
        "try:\n"
        f"    cli.app(['check', {str(SAMPLES / 'kr_5k_buildings.gpkg')!r}, '--format', 'json'],"
        " standalone_mode=False)\n"
        "except typer.Exit as exc:\n"
        "    assert exc.exit_code == 30, exc.exit_code\n"
        "print(sorted(m for m in ('pandas', 'geopandas') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_library_leaves_data_frame_libraries_alone(tmp_path):
    # A pipeline importing compliance keeps pandas, geopandas and pyogrio's frame functions.
    code = (
        "import compliance\n"
        f"v = compliance.check({str(SAMPLES / 'kr_5k_buildings.gpkg')!r})\n"
        "import pyogrio\n"
        f"frame = pyogrio.read_dataframe({str(SAMPLES / 'kr_5k_buildings.gpkg')!r})\n"
        "print(v.verdict.value, len(frame) > 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["deny", "True"]
