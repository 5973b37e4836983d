"""Response models of the audit listing and the packs endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from api.store import StoredVerdict


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


class ZonesOut(BaseModel):
    source: str
    sha256: str | None


class PacksOut(BaseModel):
    """What the service checks against."""

    packs: list[PackOut]
    zones: ZonesOut
    fingerprint: str
