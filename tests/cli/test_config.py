"""Defaults for ``check`` and ``audit`` from mapgate.toml or [tool.mapgate]; flags win."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli.config import ConfigError, load_config
from tests.builders import SAMPLES

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]
DENY = SAMPLES / "kr_5k_buildings.gpkg"
REVIEW = SAMPLES / "sat_10m_korea.tif"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAPGATE, *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)  # fmt: skip


def test_mapgate_toml_sets_check_defaults_and_flags_win(tmp_path: Path):
    (tmp_path / "mapgate.toml").write_text(
        'packs = ["kr"]\nformat = "json"\n\n[check]\nfail-on = "deny"\n', encoding="utf-8"
    )
    work = tmp_path / "maps" / "deeper"
    work.mkdir(parents=True)
    result = run("check", REVIEW, cwd=work)
    assert result.returncode == 0, result.stderr  # review is below the file's fail-on
    doc = json.loads(result.stdout)
    assert [p["name"] for p in doc["packs"]] == ["kr"] and doc["verdict"] == "review"
    assert result.stderr == f"mapgate: defaults from {tmp_path / 'mapgate.toml'}\n"
    flagged = run("check", REVIEW, "--fail-on", "review", "--format", "text", cwd=work)
    assert flagged.returncode == 20
    assert f"config: {tmp_path / 'mapgate.toml'}" in " ".join(flagged.stdout.split())
    ignored = run("check", REVIEW, "--config", "none", "--format", "json", cwd=work)
    assert ignored.returncode == 20
    assert [p["name"] for p in json.loads(ignored.stdout)["packs"]] == ["in", "kr", "us-kba"]


def test_pyproject_tool_table_and_paths_beside_it(tmp_path: Path):
    zones = tmp_path / "conf" / "no_zones.geojson"
    zones.parent.mkdir()
    far_away = {"type": "Feature", "properties": {"zone_id": "FAR-1", "zone_class": "military"},
                "geometry": {"type": "Polygon",
                             "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]]]}}  # fmt: skip
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": [far_away]}))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "maps"\n\n[tool.mapgate]\nzones = "conf/no_zones.geojson"\n'
        'format = "json"\n',
        encoding="utf-8",
    )
    result = run("check", DENY, cwd=tmp_path)
    doc = json.loads(result.stdout)
    assert doc["zones"]["source"].endswith("no_zones.geojson") and doc["zones"]["count"] == 0
    text = run("check", DENY, "--format", "text", cwd=tmp_path)
    assert f"config: {tmp_path / 'pyproject.toml'}" in " ".join(text.stdout.split())


def test_pyproject_without_a_mapgate_table_is_passed_over(tmp_path: Path):
    (tmp_path / "mapgate.toml").write_text('format = "json"\n', encoding="utf-8")
    inner = tmp_path / "project"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_config("check", start=inner).path == tmp_path / "mapgate.toml"


def test_audit_takes_its_own_table(tmp_path: Path):
    shutil.copyfile(DENY, tmp_path / "a.gpkg")
    (tmp_path / "mapgate.toml").write_text(
        '[audit]\nfail-on = "review"\nout = "audit-out"\nworkers = 0\nquiet = true\n'
        '[check]\nformat = "json"\n',
        encoding="utf-8",
    )
    result = run("audit", "a.gpkg", cwd=tmp_path)
    assert result.returncode == 20, result.stderr
    assert result.stderr == "" and (tmp_path / "audit-out" / "results.jsonl").is_file()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('fail_on = "deny"\n', "unknown key 'fail_on'"),
        ('[audit]\ndestination = "US"\n', "[audit] does not take 'destination'"),
        ("workers = true\n[check]\n", "workers must be a int"),
        ('packs = "kr"\n', "packs must be a list"),
        ("format = \n", "mapgate.toml"),
    ],
)
def test_a_bad_config_names_the_file_and_the_problem(tmp_path: Path, text: str, problem: str):
    (tmp_path / "mapgate.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="mapgate.toml") as caught:
        load_config("audit" if "audit" in text or "workers" in text else "check", start=tmp_path)
    assert problem in str(caught.value)


def test_a_bad_config_is_a_usage_error_on_the_command_line(tmp_path: Path):
    (tmp_path / "mapgate.toml").write_text('fail-on = "sometimes"\n', encoding="utf-8")
    result = run("check", DENY, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "choose one of" in " ".join(result.stderr.split())
