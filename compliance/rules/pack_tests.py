"""Run a pack's own test cases: facts in, expected effect (and rules) out."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from compliance.rules.evaluate import evaluate_pack
from compliance.rules.packs import PackTest, RulePack
from compliance.verdict import Effect

__all__ = ["CaseResult", "baseline_context", "run_case", "run_pack_tests"]


def baseline_context() -> dict[str, Any]:
    """A located, coarse vector dataset with no sensitive overlap: what each test case edits."""
    return {
        "dataset": {
            "kind": "vector",
            "format": "GPKG",
            "crs": "EPSG:4326",
            "has_crs": True,
            "georeferenced": True,
            "area_km2": 100.0,
            "resolution_m": 50.0,
            "has_imagery": False,
            "imagery_resolution_m": None,
            "scale_denominator": 100000.0,
            "scale_source": "estimated",
            "declared_scale_denominator": None,
            "feature_count": 100,
            "layer_count": 1,
            "band_count": None,
            "has_z": False,
            "fields": ["name"],
            "layers": ["roads"],
            "width": None,
            "height": None,
            "overview_count": 0,
            "bounds_wgs84": [0.0, 0.0, 1.0, 1.0],
        },
        "zones": {"count": 0, "classes": [], "by_class": {}},
        "territory": {"fraction": 1.0, "touches": True},
        "request": {"destination": None, "purpose": None},
    }


@dataclass
class CaseResult:
    pack: str
    name: str
    passed: bool
    expected: Effect
    got: Effect
    fired: list[str]
    detail: str


def run_case(pack: RulePack, case: PackTest) -> CaseResult:
    context = baseline_context()
    for root, values in case.facts.items():
        context.setdefault(root, {}).update(copy.deepcopy(values))
    result = evaluate_pack(pack, context, applies=True, fraction=1.0)
    got = result.info.outcome or Effect.allow
    fired = sorted(f.rule_id for f in result.findings)
    ok = got == case.expect
    detail = ""
    if not ok:
        detail = f"expected {case.expect.value}, got {got.value}"
    if case.expect_rules is not None and fired != sorted(case.expect_rules):
        ok = False
        detail = (
            detail + "; " if detail else ""
        ) + f"expected rules {sorted(case.expect_rules)}, fired {fired}"
    return CaseResult(pack.name, case.name, ok, case.expect, got, fired, detail)


def run_pack_tests(pack: RulePack) -> list[CaseResult]:
    return [run_case(pack, case) for case in pack.doc.tests]
