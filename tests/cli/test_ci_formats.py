"""SARIF, JUnit XML and GitHub annotations from ``check`` and ``audit``, validated against
the published schemas (tests/data/README.md names their sources)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import xmlschema

from tests.builders import SAMPLES

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]
DATA = Path(__file__).resolve().parents[1] / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text())
JUNIT_XSD = xmlschema.XMLSchema(DATA / "junit" / "junit-10.xsd")
FILES = ["kr_5k_buildings.gpkg", "sat_10m_korea.tif", "ortho_025m_israel.tif", "kr_50k_roads.gpkg"]
LEVEL = {"deny": "error", "review": "warning", "allow_with_conditions": "note", "allow": "none"}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAPGATE, *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=cwd)  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples and one file that is no map, under relative names."""
    root = tmp_path_factory.mktemp("ci")
    for name in FILES:
        shutil.copyfile(SAMPLES / name, root / name)
    (root / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 64)
    return root


@pytest.fixture(scope="module")
def verdicts(folder: Path) -> dict[str, dict]:
    """Each sample's verdict as the JSON output gives it: the truth the formats must carry."""
    result = run("check", *FILES, "--format", "json", cwd=folder)
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    return dict(zip(FILES, docs, strict=True))


def test_sarif_from_check_is_valid_and_has_one_result_per_finding(folder, verdicts):
    result = run("check", *FILES, "broken.tif", "--format", "sarif", cwd=folder)
    assert result.returncode == 30, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (sarif_run,) = log["runs"]
    expected = [(name, f"{f['pack']}/{f['rule_id']}", LEVEL[f["effect"]])
                for name, doc in verdicts.items() for f in doc["findings"]]  # fmt: skip
    got = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"],
            r["level"]) for r in sarif_run["results"]]  # fmt: skip
    assert got == [*expected, ("broken.tif", "mapgate/unreadable", "error")]
    rules = {r["id"]: r for r in sarif_run["tool"]["driver"]["rules"]}
    for doc in verdicts.values():
        for f in doc["findings"]:
            rule = rules[f"{f['pack']}/{f['rule_id']}"]
            assert rule["properties"]["legalReference"] == (f["reference"] or "")
            assert f["reference"] is None or f["reference"] in rule["help"]["text"]
    assert rules["kr/KR-SECURITY-ZONES-LARGE-SCALE"]["shortDescription"]["text"] == (
        "Large-scale data showing security facilities may not be exported"
    )
    assert [r["ruleIndex"] for r in sarif_run["results"]] == [
        list(rules).index(r["ruleId"]) for r in sarif_run["results"]
    ]
    assert sarif_run["invocations"][0]["executionSuccessful"] is False


def test_junit_from_check_has_a_case_per_file_and_pack(folder, verdicts):
    result = run("check", *FILES, "broken.tif", "--format", "junit", cwd=folder)
    assert result.returncode == 30
    JUNIT_XSD.validate(result.stdout)
    root = ET.fromstring(result.stdout)
    (suite,) = root.findall("testsuite")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    for name, doc in verdicts.items():
        for pack in doc["packs"]:
            case = cases[(name, pack["name"])]
            failed = pack["applies"] and pack["outcome"] in {"review", "deny"}
            assert (case.find("failure") is not None) == failed, (name, pack)
            assert (case.find("skipped") is not None) == (not pack["applies"])
    assert cases[("broken.tif", "read")].find("error") is not None
    failures = sum(c.find("failure") is not None for c in suite.findall("testcase"))
    assert int(suite.get("failures")) == failures >= 2
    assert int(suite.get("tests")) == len(cases)
    assert int(suite.get("errors")) == 1


def test_github_annotations_name_the_file_and_escape_the_title(folder, verdicts):
    result = run("check", "kr_5k_buildings.gpkg", "sat_10m_korea.tif", "--format", "github",
                 cwd=folder)  # fmt: skip
    lines = result.stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    expected = [f for n in ("kr_5k_buildings.gpkg", "sat_10m_korea.tif")
                for f in verdicts[n]["findings"] if f["effect"] != "allow"]  # fmt: skip
    assert len(annotations) == len(expected)
    command = {"deny": "error", "review": "warning", "allow_with_conditions": "notice"}
    for line, finding in zip(annotations, expected, strict=True):
        head, _, message = line[2:].partition("::")
        assert head.startswith(command[finding["effect"]] + " file=")
        assert finding["message"] in message
        properties = head.partition(" ")[2]
        # ':' and ',' inside a property would end it early: the runner wants them escaped.
        title = properties.split(",title=", 1)[1]
        assert ":" not in title and "," not in title
    assert "kr_5k_buildings.gpkg: deny" in lines and "sat_10m_korea.tif: review" in lines


def test_audit_writes_one_sarif_run_and_one_junit_suite(folder, verdicts, tmp_path):
    out = tmp_path / "out"
    sarif = run("audit", ".", "--format", "sarif", "--out", out, "--workers", "0", "-q",
                cwd=folder)  # fmt: skip
    assert sarif.returncode == 0, sarif.stderr
    assert sarif.stderr == ""
    log = json.loads(sarif.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (sarif_run,) = log["runs"]
    by_file: dict[str, int] = {}
    for r in sarif_run["results"]:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        by_file[Path(uri).name] = by_file.get(Path(uri).name, 0) + 1
    assert by_file == {**{n: len(d["findings"]) for n, d in verdicts.items()
                          if d["findings"]}, "broken.tif": 1}  # fmt: skip
    junit = run("audit", ".", "--format", "junit", "--out", out, "--resume", "--workers", "0",
                "-q", "--fail-on", "deny", cwd=folder)  # fmt: skip
    assert junit.returncode == 30
    JUNIT_XSD.validate(junit.stdout)
    suites = ET.fromstring(junit.stdout).findall("testsuite")
    assert len(suites) == 1
    names = {Path(c.get("classname")).name for c in suites[0].findall("testcase")}
    assert names == {*FILES, "broken.tif"}


def test_unknown_format_is_a_usage_error(folder):
    check = run("check", FILES[0], "--format", "xml", cwd=folder)
    assert check.returncode == 2
    assert "text, json, sarif, junit, github" in " ".join(check.stderr.split())
    audit = run("audit", ".", "--format", "json", cwd=folder)
    assert audit.returncode == 2
    assert "text, sarif, junit, github" in " ".join(audit.stderr.split())
