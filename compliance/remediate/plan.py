"""Which conditions a remediation applies, with which parameters, in which order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.remediate.registry import ORDER
from compliance.rules.conditions import CONDITIONS
from compliance.verdict import Verdict

__all__ = ["PlannedCondition", "plan"]


@dataclass
class PlannedCondition:
    """One condition to meet, the parameters that meet every rule asking for it, and those rules."""

    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Required parameters no rule gave."""
        known = CONDITIONS.get(self.name)
        required = [p.name for p in known.parameters if p.required] if known else []
        return [p for p in required if p not in self.parameters]


def _merge(planned: PlannedCondition, given: dict[str, Any]) -> None:
    # Numbers are limits (a resolution, a grid cell): the coarsest one meets every rule.
    for key, value in given.items():
        old = planned.parameters.get(key)
        numbers = isinstance(value, int | float) and isinstance(old, int | float)
        planned.parameters[key] = max(old, value) if numbers else (value if old is None else old)


def plan(verdict: Verdict) -> list[PlannedCondition]:
    """The conditions of every finding of ``verdict``, each once, in the order they apply."""
    by_name: dict[str, PlannedCondition] = {}
    for finding in verdict.findings:
        for name in finding.conditions:
            planned = by_name.setdefault(name, PlannedCondition(name))
            planned.rules.append(finding.rule_id)
            known = CONDITIONS.get(name)
            given = finding.condition_parameters.get(name)
            if given is None and known is not None:
                given = known.defaults()
            _merge(planned, dict(given or {}))
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(by_name.values(), key=lambda p: (rank.get(p.name, len(rank)), p.name))
