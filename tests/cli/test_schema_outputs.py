"""What ``check --format json`` and ``audit`` write validates against docs/schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema

from compliance.verdict import SCHEMA_VERSION
from tests.builders import SAMPLES

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def test_check_json_and_audit_rows_validate(tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*.gpkg")) + sorted(SAMPLES.glob("*.tif"))
    for sample in samples:
        shutil.copyfile(sample, tmp_path / sample.name)
    (tmp_path / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 64)
    result = subprocess.run([*MAPGATE, "check", *map(str, samples), "--format", "json"],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == len(samples) >= 5
    validator = _validator("verdict")
    for doc in verdicts:
        assert doc["schema_version"] == SCHEMA_VERSION
        validator.validate(doc)
    out = tmp_path / "out"
    audit = subprocess.run([*MAPGATE, "audit", str(tmp_path), "--out", str(out), "--workers",
                            "0", "-q"], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert audit.returncode == 0, audit.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(samples) + 1
    assert {r["status"] for r in rows} == {"checked", "error"}
    row_validator = _validator("audit-row")
    for row in rows:
        row_validator.validate(row)
        if row["document"] is not None:
            validator.validate(row["document"])
