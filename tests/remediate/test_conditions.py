"""The conditions registry: packs are validated against it, the built-in packs use only
registered conditions with the parameters their rules imply, and every one is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from compliance import Checker
from compliance.errors import RulePackError
from compliance.rules.conditions import CONDITIONS, parse_condition
from compliance.rules.packs import builtin_pack_paths, load_pack

REPO = Path(__file__).resolve().parents[2]

PACK = """\
pack: t
version: "1"
title: t
jurisdiction: XX
rules:
  - id: R-OK
    title: fine
    when: dataset.resolution_m < 1.0
    effect: deny
    conditions: [mask_zones]
    reference: test fixture
  - id: R-BAD
    title: the one under test
    when: dataset.resolution_m < 1.0
    effect: deny
    conditions: {conditions}
    reference: test fixture
"""


@pytest.mark.parametrize(
    ("conditions", "why"),
    [
        ("[fly_over_it]", "unknown condition 'fly_over_it'"),
        ("[coarsen_resolution]", "parameter resolution_m is required"),
        ("[coarsen_resolution: {resolution_m: fine}]", "resolution_m must be a float"),
        ("[coarsen_resolution: {resolution_m: -1}]", "greater than 0"),
        ("[mask_zones: {grid: 10}]", "unknown parameter"),
        ("[mask_zones, mask_zones]", "listed twice"),
        ("[{mask_zones: {}, drop_contours: {}}]", "one-key mapping"),
    ],
)
def test_a_bad_condition_is_a_pack_error_naming_file_and_rule(
    tmp_path: Path, conditions: str, why: str
) -> None:
    path = tmp_path / "bad-pack.yaml"
    path.write_text(PACK.format(conditions=conditions))
    with pytest.raises(RulePackError) as caught:
        load_pack(path)
    message = str(caught.value)
    assert message.startswith("bad-pack.yaml: rule R-BAD:") and why in message


def test_parameters_are_typed_and_defaulted(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(
        PACK.format(conditions="[coarsen_resolution: {resolution_m: 2}, drop_contours]")
    )
    rule = load_pack(path).rules[1].rule
    assert rule.conditions == ["coarsen_resolution", "drop_contours"]
    assert rule.condition_parameters == {
        "coarsen_resolution": {"resolution_m": 2.0},
        "drop_contours": {"field_pattern": CONDITIONS["drop_contours"].defaults()["field_pattern"]},
    }
    assert parse_condition("mask_zones") == ("mask_zones", {"grid_m": 1000.0})


def builtin_conditions() -> dict[str, list]:
    used: dict[str, list] = {}
    for path in builtin_pack_paths():
        for rule in yaml.safe_load(path.read_text())["rules"]:
            for entry in rule.get("conditions") or []:
                name = entry if isinstance(entry, str) else next(iter(entry))
                used.setdefault(name, []).append((path.stem, rule["id"], entry))
    return used


def test_every_builtin_condition_is_registered() -> None:
    used = builtin_conditions()
    assert used and set(used) <= set(CONDITIONS)


def test_builtin_packs_carry_the_resolutions_their_rules_imply() -> None:
    given = {
        (pack, rule): entry["coarsen_resolution"]["resolution_m"]
        for pack, rule, entry in builtin_conditions()["coarsen_resolution"]
    }
    assert given == {
        ("kr", "KR-IMAGERY-025M"): 0.25,
        ("us-kba", "KBA-ISRAEL-GSD-04M"): 0.4,
        ("in", "IN-HORIZONTAL-1M"): 1.0,
        ("in", "IN-VERTICAL-3M"): 3.0,
    }
    # The threshold each rule tests is the resolution it asks for.
    for path in builtin_pack_paths():
        for rule in load_pack(path).rules:
            wanted = rule.rule.condition_parameters.get("coarsen_resolution")
            if wanted:
                assert re.search(rf"< {wanted['resolution_m']}\b", rule.rule.when), rule.rule.id


def test_every_condition_is_documented() -> None:
    text = (REPO / "docs" / "conditions.md").read_text()
    headings = re.findall(r"^### `(\w+)`", text, flags=re.MULTILINE)
    assert headings == list(CONDITIONS)
    for condition in CONDITIONS.values():
        section = text.split(f"### `{condition.name}`")[1].split("###")[0]
        for parameter in condition.parameters:
            assert f"`{parameter.name}`" in section


def test_a_verdict_lists_names_and_findings_carry_parameters(checker: Checker) -> None:
    verdict = checker.check(REPO / "sample_maps" / "ortho_025m_israel.tif")
    assert verdict.conditions == ["coarsen_resolution"]
    (finding,) = [f for f in verdict.findings if f.rule_id == "KBA-ISRAEL-GSD-04M"]
    assert finding.condition_parameters == {"coarsen_resolution": {"resolution_m": 0.4}}
