"""One row of mapgate's table of its own findings (``MAPGATE-*``): a code, what raises it,
what it decides and says, which facts it leaves unknown, and where it is documented."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from compliance.facts import Evidence
from compliance.rules.evaluate import ENGINE_PACK
from compliance.verdict import Effect, Finding

__all__ = ["DOC", "NOTE", "REFERENCE", "EngineFinding"]

DOC = "docs/findings.md"
REFERENCE = "mapgate fail-closed policy: what cannot be verified is not allowed"
# An informational finding adjusted a measurement and holds nothing back: citing the
# fail-closed policy there would tell the reader the opposite of what happened.
NOTE = "mapgate measurement note: informational, holds nothing back"


@dataclass(frozen=True)
class EngineFinding:
    """One row of the table: a ``MAPGATE-*`` code and everything said about it."""

    code: str
    effect: Effect
    title: str
    applies: Callable[[Evidence], bool]
    message: Callable[[Evidence], str]
    facts: Callable[[Evidence], dict[str, object]] = lambda e: {}
    # Facts this finding leaves unknown: a rule that cannot be evaluated for want of them
    # is held by this finding, and is shown under it rather than as a finding of its own.
    holds: frozenset[str] = field(default_factory=frozenset)
    reference: str = REFERENCE

    @property
    def anchor(self) -> str:
        """Where ``docs/findings.md`` explains this code (its heading's anchor)."""
        return f"{DOC}#{self.code.lower()}"

    def finding(self, evidence: Evidence) -> Finding:
        return Finding(
            rule_id=self.code,
            pack=ENGINE_PACK,
            effect=self.effect,
            message=self.message(evidence),
            reference=self.reference,
            facts=self.facts(evidence),
        )
