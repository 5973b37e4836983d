"""Every sample map remediated: what was not applied stays asked for, the input is unchanged,
the output is what the report says. Holds whichever actions are registered."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from compliance import Checker

SAMPLES = Path(__file__).resolve().parents[2] / "sample_maps"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "sample",
    ["kr_5k_buildings.gpkg", "kr_50k_roads.gpkg", "ortho_025m_israel.tif", "sat_10m_korea.tif"],
)
def test_a_sample_is_remediated_without_pretending(
    tmp_path: Path, checker: Checker, sample: str
) -> None:
    before = digest(SAMPLES / sample)
    report = checker.remediate(SAMPLES / sample, tmp_path)
    out = Path(report.output.path)
    assert out.parent == tmp_path and out.suffix == Path(sample).suffix
    assert digest(out) == report.output.sha256 == report.verdict.input.sha256
    assert digest(SAMPLES / sample) == before
    planned = {c for f in report.original.findings for c in f.conditions}
    assert {a.condition for a in report.actions} == planned
    for action in report.actions:
        assert action.status in {"applied", "not_needed", "cannot_apply"} and action.reason
    if all(a.status == "cannot_apply" for a in report.actions):
        # Nothing changed: the derivative is asked for everything the original was.
        assert report.verdict.conditions == report.original.conditions
        assert report.verdict.verdict == report.original.verdict
