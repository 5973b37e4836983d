"""JUnit XML: one testsuite per run, one testcase per file and pack.

A pack whose own outcome is ``review`` or ``deny`` is a ``failure``; a pack that does not
apply (the data lies outside its territory) is ``skipped``; a file that could not be
checked is one ``error`` testcase. The layout is the one Jenkins, GitLab and pytest's
``--junitxml`` share: ``testsuites > testsuite > testcase > failure|error|skipped``.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.etree import ElementTree as ET

from compliance.outputs.checked import Checked, RuleInfo
from compliance.verdict import Effect, Verdict

__all__ = ["FAILING", "to_junit"]

FAILING = {Effect.review, Effect.deny}


def to_junit(checked: Iterable[Checked], rules: dict[str, RuleInfo]) -> str:
    """The JUnit XML report for ``checked`` (``rules`` is not needed: findings carry theirs)."""
    suite = ET.Element("testsuite", name="mapgate")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_ms = 0.0
    for item in checked:
        if item.verdict is None:
            case = ET.SubElement(suite, "testcase", classname=item.uri, name="read", time="0")
            error = ET.SubElement(case, "error", type="unreadable", message=item.error or "")
            error.text = item.error or ""
            counts["tests"] += 1
            counts["errors"] += 1
            continue
        total_ms += item.verdict.duration_ms
        for outcome in _pack_cases(suite, item, item.verdict):
            counts["tests"] += 1
            if outcome != "passed":
                counts[outcome] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{total_ms / 1000:.3f}")
    root = ET.Element("testsuites", {k: suite.get(k, "0") for k in ("tests", "failures", "errors")})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _pack_cases(suite: ET.Element, item: Checked, verdict: Verdict) -> list[str]:
    """One testcase per pack; each case's outcome: passed, failures or skipped.

    The findings of mapgate itself (``MAPGATE-*``: what could not be measured) hold every
    pack, so they are reported under each pack they touch, and as a case of their own.
    """
    outcomes = []
    seconds = f"{verdict.duration_ms / 1000:.3f}"
    cases = [(p.name, p.outcome if p.applies else None, p.applies) for p in verdict.packs]
    engine = [f for f in verdict.findings if f.pack not in {p.name for p in verdict.packs}]
    if engine:
        worst = Effect.most_severe([f.effect for f in engine], Effect.allow)
        cases.append(("mapgate", worst, True))
    for pack, outcome, applies in cases:
        case = ET.SubElement(suite, "testcase", classname=item.uri, name=pack, time=seconds)
        findings = [f for f in verdict.findings if f.pack == pack]
        lines = [f"{f.effect.value} {f.rule_id}: {f.message}"
                 + (f" ({f.reference})" if f.reference else "") for f in findings]  # fmt: skip
        if not applies:
            ET.SubElement(case, "skipped", message=f"the data lies outside {pack}'s territory")
            outcomes.append("skipped")
        elif outcome in FAILING:
            failure = ET.SubElement(
                case, "failure", type=outcome.value,
                message=f"{pack}: {outcome.value} (verdict {verdict.verdict.value})",
            )  # fmt: skip
            failure.text = "\n".join(lines)
            outcomes.append("failures")
        else:
            if lines:
                ET.SubElement(case, "system-out").text = "\n".join(lines)
            outcomes.append("passed")
    if verdict.verdict in FAILING and "failures" not in outcomes:
        # Fail closed: a file held back for any reason is a failure, even one no pack owns.
        case = ET.SubElement(suite, "testcase", classname=item.uri, name="verdict", time=seconds)
        ET.SubElement(case, "failure", type=verdict.verdict.value,
                      message=f"verdict {verdict.verdict.value}")  # fmt: skip
        outcomes.append("failures")
    return outcomes
