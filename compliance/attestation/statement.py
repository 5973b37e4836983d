"""The in-toto Statement v1 that mapgate signs: which bytes were checked, and the verdict.

``predicateType`` is ``PREDICATE_TYPE``; the predicate is ``{"verdict": <the verdict
document, zone ids and geometry removed>, "attestedAt": <UTC time of signing>}`` plus,
for a derivative, ``"derivedFrom": {"name", "digest": {"sha256"}, "actions"}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.attestation.errors import MalformedEnvelope
from compliance.disclosure import undisclosed_verdict, zones_commitment
from compliance.verdict import Verdict

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Derivation",
    "Statement",
    "Subject",
    "build_statement",
    "parse_statement",
    "shareable_verdict",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://mapgate.dev/verdict/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


class Subject(BaseModel):
    """An in-toto ResourceDescriptor: one file the verdict is about, by name and sha256."""

    model_config = ConfigDict(extra="allow")

    name: str
    digest: dict[str, str]
    annotations: dict[str, Any] | None = None

    @property
    def sha256(self) -> str | None:
        return self.digest.get("sha256")


class Derivation(BaseModel):
    """What a derivative was made from: the original's sha256 and the actions applied."""

    name: str | None = None
    digest: dict[str, str] = Field(description="The original's digest: {'sha256': hex}.")
    actions: list[str] = Field(description="What was done to the original, in order.")

    @property
    def sha256(self) -> str | None:
        return self.digest.get("sha256")


class Statement(BaseModel):
    """A parsed statement; ``verdict`` is the predicate's verdict, as signed."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    type: str = Field(alias="_type")
    subject: list[Subject] = Field(min_length=1)
    predicate_type: str = Field(alias="predicateType")
    predicate: dict[str, Any] = Field(default_factory=dict)

    @property
    def verdict(self) -> dict[str, Any]:
        value = self.predicate.get("verdict")
        return value if isinstance(value, dict) else {}

    @property
    def derived_from(self) -> Derivation | None:
        value = self.predicate.get("derivedFrom")
        return Derivation.model_validate(value) if value is not None else None


def shareable_verdict(verdict: Verdict) -> dict[str, Any]:
    """The verdict as signed: an attestation travels with the data to people who may not
    see the sensitive zones, so it holds only what a submitter may see of them (touched or
    not, and which classes; ``compliance.disclosure``), plus a commitment to the zones file
    that whoever holds that file can check."""
    data = undisclosed_verdict(verdict.model_dump(mode="json"))
    data["zones"]["commitment"] = zones_commitment(verdict.id, verdict.zones.sha256)
    return data


def build_statement(
    verdict: Verdict,
    subjects: list[Subject],
    derived_from: Derivation | None = None,
    attested_at: datetime | None = None,
) -> bytes:
    """The serialized statement: compact JSON with sorted keys, the bytes that are signed."""
    predicate: dict[str, Any] = {
        "verdict": shareable_verdict(verdict),
        "attestedAt": (attested_at or datetime.now(UTC)).isoformat(),
    }
    if derived_from is not None:
        predicate["derivedFrom"] = derived_from.model_dump(mode="json")
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [s.model_dump(mode="json", exclude_none=True) for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")


def parse_statement(body: bytes) -> Statement:
    """Parse a signed payload as a mapgate verdict statement.

    Raises
    ------
    MalformedEnvelope
        Not an in-toto v1 statement with a mapgate verdict predicate.
    """
    try:
        statement = Statement.model_validate_json(body)
        derivation = statement.derived_from
    except (ValidationError, ValueError):
        raise MalformedEnvelope("the payload is not an in-toto statement") from None
    if statement.type != STATEMENT_TYPE:
        raise MalformedEnvelope(f"statement type {statement.type!r} is not {STATEMENT_TYPE}")
    if statement.predicate_type != PREDICATE_TYPE:
        raise MalformedEnvelope(f"predicate type {statement.predicate_type!r} is not a verdict")
    if not statement.verdict.get("verdict"):
        raise MalformedEnvelope("the predicate holds no verdict")
    if derivation is not None and not derivation.sha256:
        raise MalformedEnvelope("derivedFrom names no sha256")
    if any(not s.sha256 for s in statement.subject):
        raise MalformedEnvelope("a subject has no sha256 digest")
    return statement
