"""A rule's outcome kept for the facts it read: reused only for the same facts, of the
same types, and only for rules whose facts can all be named from their text."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from compliance.rules.evaluate import evaluate_pack
from compliance.rules.outcomes import RuleOutcomes, fact_value, reads_facts_by_name
from compliance.rules.pack_tests import baseline_context
from compliance.rules.packs import RulePack, load_pack


def _pack(tmp_path: Path, when: str) -> RulePack:
    (tmp_path / "t.yaml").write_text(
        "pack: t\nversion: '1'\ntitle: T\njurisdiction: KR\ndefault: allow\nrules:\n"
        f"  - id: T-1\n    title: fine data\n    when: '{when}'\n    effect: deny\n"
        "    reference: test\n"
    )
    return load_pack(tmp_path / "t.yaml")


def _fired(pack: RulePack, context: dict[str, Any], kept: RuleOutcomes | None) -> list[str]:
    result = evaluate_pack(pack, context, applies=True, fraction=1.0, kept=kept)
    return [f"{f.rule_id}:{f.effect.value}" for f in result.findings]


def _without_programs(pack: RulePack) -> RulePack:
    """The pack with every rule's program replaced by one that may not run."""

    class Trap:
        def execute(self, variables: Any) -> Any:
            raise AssertionError("a kept outcome was evaluated again")

    rules = [dataclasses.replace(r, program=Trap()) for r in pack.rules]
    return dataclasses.replace(pack, rules=rules)


@pytest.mark.parametrize(
    ("when", "by_name"),
    [
        ("dataset.resolution_m < 1.0", True),
        ('dataset.fields.exists(f, f.matches("(?i)contour|height"))', True),
        ("has(dataset.has_z) && dataset . has_z", True),
        ('dataset["resolution_m"] < 1.0', False),  # a root indexed: its fact is not named
        ("size(dataset) > 3", False),
        ("[1, 2].exists(zones, zones > 1)", False),  # a variable named after a root
        ("dataset.?resolution_m.orValue(0.0) < 1.0", False),
        ('dataset.format == "GeoJSON\\" && zones.count > 0 && \\"x"', False),
        ('dataset.format == """a"b""" && zones.count > 0', False),
        ("dataset.has_z // zones.count > 0\n && true", False),
        ("dataset.format == 'it\"s' && zones.count > 0", True),
    ],
)
def test_which_rules_read_facts_by_name_alone(when: str, by_name: bool) -> None:
    assert reads_facts_by_name(when) is by_name


def test_a_key_tells_types_and_absence_apart() -> None:
    keys = {
        fact_value({"dataset": {"has_z": value}}, "dataset.has_z")
        for value in (True, 1, 1.0, "1", None, [1], {"a": 1}, -0.0, 0.0)
    }
    assert len(keys) == 9
    assert fact_value({"dataset": {}}, "dataset.has_z") not in keys
    same = fact_value({"dataset": {"f": ["a", {"b": [1]}]}}, "dataset.f")
    assert same == fact_value({"dataset": {"f": ["a", {"b": [1]}]}}, "dataset.f")


def test_kept_outcomes_are_used_for_the_same_facts_and_only_for_them() -> None:
    pack, kept = load_pack("rules/kr.yaml"), RuleOutcomes()
    contours = baseline_context()
    contours["dataset"].update(kind="vector", fields=["name", "ELEVATION"])
    assert "KR-CONTOURS:allow_with_conditions" in _fired(pack, contours, kept)
    # The same facts again: every outcome comes from the store, none is evaluated.
    again = copy.deepcopy(contours)
    assert _fired(_without_programs(pack), again, kept) == _fired(pack, contours, None)
    # One fact read by one rule changes: that rule is evaluated, and answers anew.
    plain = copy.deepcopy(contours)
    plain["dataset"]["fields"] = ["name", "class"]
    assert _fired(pack, plain, kept) == _fired(pack, plain, None)
    assert "KR-CONTOURS:allow_with_conditions" not in _fired(pack, plain, kept)


def test_a_rule_that_reads_a_root_whole_is_evaluated_every_time(tmp_path: Path) -> None:
    pack, kept = _pack(tmp_path, 'dataset["resolution_m"] < 1.0'), RuleOutcomes()
    fine, coarse = baseline_context(), baseline_context()
    fine["dataset"]["resolution_m"], coarse["dataset"]["resolution_m"] = 0.5, 5.0
    assert _fired(pack, fine, kept) == ["T-1:deny"]
    assert _fired(pack, coarse, kept) == []  # the same (empty) list of named facts
    assert _fired(pack, fine, kept) == ["T-1:deny"]


def test_an_error_is_kept_as_the_hold_it_gives() -> None:
    pack, kept = load_pack("rules/kr.yaml"), RuleOutcomes()
    context = baseline_context()
    context["dataset"]["scale_denominator"] = None
    first = evaluate_pack(pack, context, True, 1.0, kept=kept).findings
    second = evaluate_pack(_without_programs(pack), context, True, 1.0, kept=kept).findings
    assert [f.model_dump() for f in second] == [f.model_dump() for f in first]
    assert any(f.rule_id == "KR-SCALE-25K" and f.effect.value == "review" for f in first)


def test_the_store_keeps_a_bounded_number_of_outcomes() -> None:
    kept = RuleOutcomes(kept=2)
    for i in range(3):
        kept.put((i,), ("value", True))
    assert kept.get((0,)) is None and kept.get((1,)) and kept.get((2,))
