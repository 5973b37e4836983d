"""SARIF 2.1.0: one run, one result per finding, the file as each result's location.

Levels follow the effects: ``deny`` is an ``error``, ``review`` a ``warning``,
``allow_with_conditions`` a ``note`` and an ``allow`` finding ``none``. A file that could
not be checked is an ``error`` result of the rule ``mapgate/unreadable`` (not a finding code: no verdict exists) as well as a
failed tool notification, so that dashboards which only count results still see it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from compliance.outputs.checked import Checked, RuleInfo
from compliance.verdict import Effect, Finding
from compliance.version import ENGINE_VERSION

__all__ = ["LEVELS", "SARIF_SCHEMA_URI", "UNREADABLE_RULE", "to_sarif"]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
UNREADABLE_RULE = "mapgate/unreadable"
LEVELS = {
    Effect.deny: "error",
    Effect.review: "warning",
    Effect.allow_with_conditions: "note",
    Effect.allow: "none",
}


def to_sarif(checked: Iterable[Checked], rules: dict[str, RuleInfo]) -> str:
    """The SARIF log for ``checked``; ``rules`` describes the packs' rules."""
    items = list(checked)
    catalog: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for item in items:
        if item.verdict is None:
            _rule(catalog, UNREADABLE_RULE, None, rules)
            results.append(_unreadable_result(item, catalog))
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{item.path}: {item.error}"},
                    "locations": [_location(item)],
                }  # fmt: skip
            )
            continue
        for finding in item.verdict.findings:
            rule_id = f"{finding.pack}/{finding.rule_id}"
            _rule(catalog, rule_id, finding, rules)
            results.append(_result(item, finding, rule_id, catalog))
    run = {
        "tool": {
            "driver": {
                "name": "mapgate",
                "version": ENGINE_VERSION.rsplit(" ", 1)[-1],
                "rules": list(catalog.values()),
            }
        },
        "invocations": [
            {
                "executionSuccessful": not notifications,
                "toolExecutionNotifications": notifications,
            }  # fmt: skip
        ],
        "artifacts": [{"location": {"uri": item.uri}} for item in items],
        "results": results,
    }
    log = {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False)


def _location(item: Checked) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": item.uri}}}


def _result(
    item: Checked, finding: Finding, rule_id: str, catalog: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    assert item.verdict is not None
    text = finding.message + (f" ({finding.reference})" if finding.reference else "")
    properties: dict[str, Any] = {
        "effect": finding.effect.value,
        "verdict": item.verdict.verdict.value,
        "sha256": item.verdict.input.sha256,
    }
    if finding.conditions:
        properties["conditions"] = finding.conditions
    if finding.facts:
        # As the verdict's JSON has them: a NaN or infinity becomes null, never bare NaN.
        properties["facts"] = json.loads(finding.model_dump_json(include={"facts"}))["facts"]
    return {
        "ruleId": rule_id,
        "ruleIndex": list(catalog).index(rule_id),
        "level": LEVELS[finding.effect],
        "kind": "informational" if finding.effect is Effect.allow else "fail",
        "message": {"text": text},
        "locations": [_location(item)],
        "properties": properties,
    }


def _unreadable_result(item: Checked, catalog: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "ruleId": UNREADABLE_RULE,
        "ruleIndex": list(catalog).index(UNREADABLE_RULE),
        "level": "error",
        "kind": "fail",
        "message": {"text": f"The file could not be checked: {item.error}"},
        "locations": [_location(item)],
    }


def _rule(
    catalog: dict[str, dict[str, Any]],
    rule_id: str,
    finding: Finding | None,
    rules: dict[str, RuleInfo],
) -> None:
    """Add the rule's metadata once: its title, legal reference and help text."""
    if rule_id in catalog:
        return
    info = rules.get(rule_id)
    if finding is None:  # the file could not be read at all
        title = "The file could not be checked"
        help_text = "What cannot be read cannot be cleared for export: fix or replace the file."
        reference, effect = "", Effect.deny
    else:
        title = info.title if info else finding.message
        reference = (info.reference if info else None) or finding.reference or ""
        effect = info.effect if info else finding.effect
        help_text = (info.message if info and info.message else None) or finding.message
    full_help = help_text + (f"\n\nLegal reference: {reference}" if reference else "")
    pack, _, short_id = rule_id.partition("/")
    catalog[rule_id] = {
        "id": rule_id,
        "name": short_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": help_text},
        "help": {"text": full_help, "markdown": _markdown_help(help_text, reference)},
        "defaultConfiguration": {"level": LEVELS[effect]},
        "properties": {
            "pack": pack,
            "effect": effect.value,
            "legalReference": reference,
            "tags": ["compliance", "export-control", pack],
        },  # fmt: skip
    }


def _markdown_help(text: str, reference: str) -> str:
    return text + (f"\n\n**Legal reference:** {reference}" if reference else "")
