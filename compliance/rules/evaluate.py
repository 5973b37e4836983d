"""Evaluate rule packs over a check's facts; the most severe effect wins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compliance.rules.cel_runtime import cel
from compliance.rules.outcomes import Outcome, RuleOutcomes, fact_at, fact_value
from compliance.rules.packs import CompiledRule, RulePack
from compliance.verdict import Effect, Finding, PackInfo

__all__ = ["ENGINE_PACK", "HoldCause", "PackResult", "decide", "evaluate_pack", "rules_changing"]

ENGINE_PACK = "mapgate"


# Which finding holds a rule that lacks the given facts (see ``fail_closed.held_by``).
HoldCause = Callable[[list[str]], str | None]


def _execute(compiled: CompiledRule, variables: cel.Context) -> Outcome:
    try:
        result = compiled.program.execute(variables)
    except Exception as exc:  # CEL raises TypeError/KeyError/ValueError for missing or null facts
        return ("error", str(exc).splitlines()[0] if str(exc) else "")
    return ("value", result)


def _finding(
    compiled: CompiledRule,
    pack: RulePack,
    context: dict[str, Any],
    outcome: Outcome,
    cause: HoldCause | None,
) -> Finding | None:
    rule = compiled.rule
    used = {name: fact_at(context, name) for name in compiled.facts}

    def held(why: str, by: str | None = None) -> Finding:
        return Finding(
            rule_id=rule.id,
            pack=pack.name,
            effect=Effect.review,
            reference=rule.reference,
            message=f"{rule.title}: {why}; held for review",
            facts=used,
            held_by=by,
        )

    kind, result = outcome
    if kind == "error":
        # A request fact is what the caller gave: null there means "not given", a value the
        # rule may test, not a measurement that failed.
        missing = sorted(
            name
            for name, value in used.items()
            if value is None and not name.startswith("request.")
        )
        why = f"facts not available: {', '.join(missing)}" if missing else result
        by = cause(missing) if cause is not None and missing else None
        return held(f"could not be evaluated ({why})", by)
    if not isinstance(result, bool):
        return held(f"`when` gave {result!r}, not a boolean")
    if not result:
        return None
    return Finding(
        rule_id=rule.id,
        pack=pack.name,
        effect=rule.effect,
        reference=rule.reference,
        message=rule.message or rule.title,
        conditions=list(rule.conditions),
        condition_parameters={c: dict(p) for c, p in rule.condition_parameters.items()},
        facts=used,
    )


def _outcomes(pack: RulePack, context: dict[str, Any], kept: RuleOutcomes | None) -> list[Outcome]:
    """Each rule's outcome: a kept one where its facts were seen before; the others run on
    the facts converted for CEL once for the pack (converting them for each rule cost
    more than evaluating it)."""
    variables: cel.Context | None = None
    outcomes = []
    for compiled in pack.rules:
        key = None
        if kept is not None and compiled.by_name:
            key = (compiled.rule.when, *(fact_value(context, f) for f in compiled.facts))
        outcome = kept.get(key) if kept is not None and key is not None else None
        if outcome is None:
            if variables is None:
                variables = cel.Context(variables=context)
            outcome = _execute(compiled, variables)
            if kept is not None and key is not None:
                kept.put(key, outcome)
        outcomes.append(outcome)
    return outcomes


@dataclass
class PackResult:
    info: PackInfo
    findings: list[Finding]


def evaluate_pack(
    pack: RulePack,
    context: dict[str, Any],
    applies: bool,
    fraction: float | None,
    cause: HoldCause | None = None,
    kept: RuleOutcomes | None = None,
) -> PackResult:
    """The pack's findings over ``context``; ``kept`` holds outcomes across checks."""
    findings: list[Finding] = []
    outcome = None
    if applies:
        findings = [
            f
            for r, o in zip(pack.rules, _outcomes(pack, context, kept), strict=True)
            if (f := _finding(r, pack, context, o, cause)) is not None
        ]
        # `default` is the pack's answer when no rule fires; a firing rule replaces it.
        outcome = Effect.most_severe([f.effect for f in findings], default=pack.doc.default)
    info = PackInfo(
        name=pack.name,
        version=pack.version,
        sha256=pack.sha256,
        applies=applies,
        territory_fraction=fraction,
        outcome=outcome,
    )
    return PackResult(info, findings)


def decide(
    results: list[PackResult], engine_findings: list[Finding]
) -> tuple[Effect, list[Finding], list[str]]:
    """Overall verdict, all findings (engine's first), and the union of conditions."""
    findings = list(engine_findings) + [f for r in results for f in r.findings]
    outcomes = [r.info.outcome for r in results if r.info.outcome is not None]
    verdict = Effect.most_severe(outcomes + [f.effect for f in findings], default=Effect.allow)
    conditions = sorted({c for f in findings for c in f.conditions})
    return verdict, findings, conditions


def rules_changing(as_read: list[PackResult], otherwise: list[PackResult]) -> tuple[str, ...]:
    """The rules that fire only ``otherwise`` (packs evaluated on facts read another way),
    each as "pack:rule (effect)", when that reading changes the verdict or its
    conditions; nothing when both readings come to the same."""
    read_verdict, read_findings, read_conditions = decide(as_read, [])
    other_verdict, other_findings, other_conditions = decide(otherwise, [])
    if (read_verdict, read_conditions) == (other_verdict, other_conditions):
        return ()
    fired = {(f.pack, f.rule_id, f.effect) for f in read_findings}
    return tuple(
        f"{f.pack}:{f.rule_id} ({f.effect})"
        for f in other_findings
        if (f.pack, f.rule_id, f.effect) not in fired
    )
