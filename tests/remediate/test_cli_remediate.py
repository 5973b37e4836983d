"""``mapgate remediate`` and ``mapgate conditions`` as real processes: exit codes, JSON, and
a signed chain original -> derivative that ``mapgate verify --original`` accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.rules.conditions import CONDITIONS
from tests.remediate.conftest import MASK_PACK, shapes_lonlat, write_gpkg, write_pack

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAPGATE, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_gpkg(
        tmp_path / "in.gpkg", {"roads": (shapes_lonlat("LineString", 0.003), 5186)}
    ).path


def test_json_report_and_exit_code(tmp_path: Path, dataset: Path, zones_file: Path) -> None:
    pack = write_pack(tmp_path, MASK_PACK)
    out = tmp_path / "out.gpkg"
    result = run(
        "remediate",
        dataset,
        "--out",
        out,
        "--pack",
        pack,
        "--zones",
        zones_file,
        "--format",
        "json",
    )
    report = json.loads(result.stdout)
    assert set(report) >= {"original", "verdict", "actions", "output"}
    assert report["original"]["verdict"] == "deny"
    assert (
        result.returncode
        == {"allow": 0, "allow_with_conditions": 10, "review": 20, "deny": 30}[
            report["verdict"]["verdict"]
        ]
    )
    assert report["output"]["path"] == str(out) and out.is_file()
    finding = next(f for f in report["original"]["findings"] if f["rule_id"] == "T-ZONES")
    assert finding["conditions"] == ["mask_zones"]
    assert finding["condition_parameters"] == {"mask_zones": {"grid_m": 1000.0}}
    again = run("remediate", dataset, "--out", out, "--pack", pack, "--zones", zones_file)
    assert again.returncode == 2 and "exists" in again.stderr
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"x" * 100)
    assert run("remediate", junk, "--out", tmp_path / "j.gpkg", "--pack", pack).returncode == 3


def test_the_sample_deny_is_remediated(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_maps" / "kr_5k_buildings.gpkg"
    result = run("remediate", sample, "--out", tmp_path / "kr.gpkg", "--format", "json")
    report = json.loads(result.stdout)
    assert (
        report["original"]["verdict"] == "deny" and "mask_zones" in report["original"]["conditions"]
    )
    assert "mask_zones" not in report["verdict"]["conditions"]
    assert (
        report["verdict"]["verdict"] != "allow"
    )  # every feature lay at the zone: nothing left to clear


def test_signed_chain_verifies(tmp_path: Path, dataset: Path, zones_file: Path) -> None:
    assert run("keys", "generate", "--out", tmp_path / "keys").returncode == 0
    key, public = (
        tmp_path / "keys" / "mapgate-signing.key",
        tmp_path / "keys" / "mapgate-signing.pub",
    )
    pack = write_pack(tmp_path, MASK_PACK)
    out, attestation = tmp_path / "out.gpkg", tmp_path / "out.intoto.json"
    result = run(
        "remediate", dataset, "--out", out, "--pack", pack, "--zones", zones_file,
        "--sign", key, "--attestation", attestation,
    )  # fmt: skip
    assert result.returncode in (0, 10, 20, 30), result.stderr
    original = tmp_path / "out.intoto.original.json"
    assert attestation.is_file() and original.is_file()
    ok = run(
        "verify", attestation, out, "--key", public, "--original", original, "--format", "json"
    )
    assert ok.returncode == 0, ok.stderr
    statement = json.loads(ok.stdout)["statement"]
    assert statement["predicate"]["derivedFrom"]["actions"] == [
        "strip_sensitive_attributes",
        "mask_zones",
    ]
    # The derivative's attestation is no original of itself: the chain is broken.
    assert (
        run("verify", attestation, out, "--key", public, "--original", attestation).returncode == 44
    )
    # Nor does the original's attestation verify the derivative's bytes.
    assert run("verify", original, out, "--key", public).returncode == 41


def test_conditions_are_listed(tmp_path: Path) -> None:
    listed = json.loads(run("conditions", "--format", "json").stdout)
    assert [c["name"] for c in listed] == list(CONDITIONS)
    coarsen = next(c for c in listed if c["name"] == "coarsen_resolution")
    assert coarsen["parameters"][0] == {
        "name": "resolution_m",
        "type": "float",
        "required": True,
        "default": None,
        "description": CONDITIONS["coarsen_resolution"].parameters[0].description,
    }
    text = run("conditions").stdout
    assert all(name in text for name in CONDITIONS)
