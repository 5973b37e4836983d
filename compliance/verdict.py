"""Typed results: effects, findings, zone summaries and the verdict document."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from compliance.dataset_profile import Profile

__all__ = [
    "ClassOverlap",
    "Effect",
    "Finding",
    "InputInfo",
    "PackInfo",
    "Verdict",
    "ZoneHit",
    "ZoneSummary",
]

# The verdict document's contract (docs/schemas/verdict.schema.json): the minor number grows
# when fields are added, the major one when a field changes meaning or goes away.
SCHEMA_VERSION = "1.1"


class Effect(StrEnum):
    """What a rule (or a whole check) decides; ordered by severity."""

    allow = "allow"
    allow_with_conditions = "allow_with_conditions"
    review = "review"
    deny = "deny"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def exit_code(self) -> int:
        """Exit code of ``mapgate check`` for this verdict."""
        return _EXIT_CODES[self]

    @classmethod
    def most_severe(cls, effects: list[Effect], default: Effect) -> Effect:
        return max(effects, key=lambda e: e.severity, default=default)


_SEVERITY = {
    Effect.allow: 0,
    Effect.allow_with_conditions: 1,
    Effect.review: 2,
    Effect.deny: 3,
}
_EXIT_CODES = {
    Effect.allow: 0,
    Effect.allow_with_conditions: 10,
    Effect.review: 20,
    Effect.deny: 30,
}


class Finding(BaseModel):
    """One reason behind a verdict: a rule that fired, or a fact the engine could not establish."""

    model_config = ConfigDict(extra="forbid")

    rule_id: str
    pack: str
    effect: Effect
    message: str
    reference: str | None = None
    conditions: list[str] = Field(default_factory=list)
    condition_parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="The parameters of each condition in `conditions` (see `mapgate conditions`).",
    )
    facts: dict[str, Any] = Field(
        default_factory=dict, description="The facts the rule's expression read, with their values."
    )
    held_by: str | None = Field(
        default=None,
        description=(
            "For a rule that could not be evaluated: the MAPGATE-* finding whose unknown facts "
            "held it (its root cause); null for a rule that fired, or a hold no such finding "
            "explains."
        ),
    )


class ZoneHit(BaseModel):
    """One sensitive zone that the dataset overlaps; only shown to callers entitled to it."""

    zone_id: str
    zone_class: str
    features: int
    overlap_km2: float
    geometry_wkt: str | None = None


class ClassOverlap(BaseModel):
    """Overlap with all zones of one class."""

    zones: int = Field(description="Number of distinct zones of this class that are touched.")
    features: int = Field(description="Features (or 1 for a raster footprint) touching the class.")
    overlap_km2: float = Field(description="Geodesic area of the overlap, km².")


class ZoneSummary(BaseModel):
    """What the overlap stage found; zone ids and geometry only when revealed."""

    source: str
    sha256: str | None = None
    fictional: bool = Field(
        default=False,
        description="The zones are mapgate's built-in demo zones: fictional, not real sensitive areas.",
    )
    count: int | None = Field(
        description="Distinct zones the dataset overlaps; null when its location is unknown."
    )
    classes: list[str] = Field(description="Zone classes the dataset overlaps, sorted.")
    by_class: dict[str, ClassOverlap]
    revealed: bool = False
    hits: list[ZoneHit] | None = None


class InputInfo(BaseModel):
    name: str
    sha256: str
    size: int


class PackInfo(BaseModel):
    name: str
    version: str
    sha256: str
    applies: bool = Field(
        description="False when the data lies wholly outside the pack's territory."
    )
    territory_fraction: float | None = None
    outcome: Effect | None = Field(
        default=None, description="This pack's own result; null when the pack does not apply."
    )


class Verdict(BaseModel):
    """The export verdict for one dataset: the JSON document every interface returns."""

    schema_version: str = Field(
        default=SCHEMA_VERSION,
        description="Version of this document's schema (docs/schemas/verdict.schema.json).",
    )
    id: str
    verdict: Effect
    input: InputInfo
    profile: Profile
    zones: ZoneSummary
    findings: list[Finding]
    conditions: list[str]
    packs: list[PackInfo]
    request: dict[str, str | None] = Field(default_factory=dict)
    engine: str
    checked_at: datetime
    duration_ms: float

    def to_json(self, **kwargs: Any) -> str:
        return self.model_dump_json(**kwargs)
