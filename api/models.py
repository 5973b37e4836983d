"""Response models of the audit listing, the packs endpoint and a submitter's verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from api.verdict_store import StoredVerdict
from compliance.verdict import Verdict

__all__ = ["CheckPage", "CheckSummary", "PackOut", "PacksOut", "SubmitterVerdict", "ZonesOut"]


class PackVersion(BaseModel):
    name: str
    version: str
    sha256: str


class CheckSummary(BaseModel):
    """One line of the audit trail: who, when, what input, which outcome, which packs."""

    id: str
    checked_at: datetime
    caller: str
    role: str
    verdict: str
    input_name: str
    input_sha256: str
    input_size: int
    packs: list[PackVersion]
    engine: str

    @classmethod
    def of(cls, row: StoredVerdict) -> CheckSummary:
        return cls(
            id=row.id,
            checked_at=row.checked_at.replace(tzinfo=UTC),
            caller=row.caller,
            role=row.role,
            verdict=row.verdict,
            input_name=row.input_name,
            input_sha256=row.input_sha256,
            input_size=row.input_size,
            packs=[PackVersion(**p) for p in row.packs],
            engine=row.engine,
        )


class CheckPage(BaseModel):
    items: list[CheckSummary]
    next_cursor: str | None = None


class PackOut(BaseModel):
    name: str
    version: str
    sha256: str
    title: str
    jurisdiction: str
    optional: bool = Field(
        default=False, description="Runs only when a check's `packs` field names it."
    )


class ZonesOut(BaseModel):
    source: str
    sha256: str | None


class PacksOut(BaseModel):
    """What the service checks against; the zones and fingerprint for auditors only."""

    packs: list[PackOut]
    zones: ZonesOut | None = None
    fingerprint: str | None = None


class SubmitterZones(BaseModel):
    """All a submitter learns of the sensitive zones."""

    touched: bool | None = Field(
        description="Whether the data touches any zone; null when its location is unknown."
    )
    classes: list[str] | None = Field(description="Classes of the zones touched, sorted.")
    fictional: bool = Field(
        default=False,
        description="The check ran against mapgate's fictional demo zones, not real ones.",
    )


class SubmitterVerdict(Verdict):
    """A verdict as a submitter sees it: zones reduced to ``SubmitterZones``, and findings
    without the zone counts and areas their rules read."""

    zones: SubmitterZones  # type: ignore[assignment]
