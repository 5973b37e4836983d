"""What every machine-readable format is made from: files with their verdict or error."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compliance.verdict import Effect, Verdict

if TYPE_CHECKING:
    from compliance.rules.packs import RulePack

__all__ = ["Checked", "RuleInfo", "rule_catalog"]


@dataclass(frozen=True)
class Checked:
    """One file as it was given, with its verdict or why none was reached."""

    path: str
    verdict: Verdict | None = None
    error: str | None = None

    @property
    def uri(self) -> str:
        """The path as SARIF and annotations name a file: forward slashes, as given."""
        return self.path.replace("\\", "/")


@dataclass(frozen=True)
class RuleInfo:
    """A rule's description, from its pack."""

    title: str
    reference: str
    effect: Effect
    message: str | None = None


def rule_catalog(packs: Iterable[RulePack]) -> dict[str, RuleInfo]:
    """``pack/RULE-ID`` to the rule's title, legal reference and effect."""
    return {
        f"{p.name}/{c.rule.id}": RuleInfo(
            title=c.rule.title,
            reference=c.rule.reference,
            effect=c.rule.effect,
            message=" ".join(c.rule.message.split()) if c.rule.message else None,
        )
        for p in packs
        for c in p.rules
    }
