"""The POST /v1/checks form: its text fields, parsed, and its OpenAPI description."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.problems import Problem
from api.upload import FILE_FIELD
from compliance.countries import country_code

__all__ = ["CheckForm", "check_request_body", "packs_to_run"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class CheckForm:
    """What the form asks of the check besides the file."""

    packs: list[str] | None = None
    destination: str | None = None
    purpose: str | None = None
    reveal_zones: bool = False

    @classmethod
    def from_fields(cls, fields: dict[str, str], *, reveal_zones: bool = False) -> CheckForm:
        """Parse the text fields; 422 for a ``reveal_zones`` that is not a boolean or a
        ``destination`` that is not an ISO 3166-1 alpha-2 country code."""
        packs = [p.strip() for p in fields.get("packs", "").split(",") if p.strip()]
        raw = fields.get("reveal_zones", "").strip().lower()
        if raw not in _TRUE | _FALSE:
            raise Problem(422, f"reveal_zones must be true or false, not {raw[:20]!r}")
        try:
            destination = country_code(fields.get("destination"))
        except ValueError as exc:
            raise Problem(422, str(exc), title="Invalid destination") from None
        return cls(
            packs=packs or None,
            destination=destination,
            purpose=fields.get("purpose", "").strip() or None,
            reveal_zones=reveal_zones or raw in _TRUE,
        )


def packs_to_run(policy: list[str], requested: list[str] | None) -> list[str]:
    """The service's packs, then those the submitter added: a request can add packs the
    service loaded as optional, never leave one of the service's own out."""
    return [*policy, *(n for n in dict.fromkeys(requested or []) if n not in policy)]


def check_request_body() -> dict[str, Any]:
    """``openapi_extra`` for the streamed multipart body (FastAPI does not parse it)."""
    text = {"type": "string", "maxLength": 4096}
    schema = {
        "type": "object",
        "required": [FILE_FIELD],
        "properties": {
            FILE_FIELD: {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "description": "The map file; or one dataset's parts as several 'file' "
                "parts (a shapefile's .shp, .shx, .dbf, .prj).",
            },
            "packs": text
            | {"description": "Comma list of optional packs to run besides the service's."},
            "destination": {
                "type": "string",
                "pattern": "^[A-Za-z]{2}$",
                "description": "ISO 3166-1 alpha-2 code of the country the data is going to "
                "(US, KR...).",
            },
            "purpose": text | {"description": "What the export is for."},
            "reveal_zones": {"type": "boolean", "description": "Auditors only."},
        },
    }
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
