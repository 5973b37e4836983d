"""GET /v1/schema: the JSON Schema of the verdicts this service returns.

Open to anyone: the shape of a verdict is public (it is published in the repository as
docs/schemas/verdict.schema.json); no verdict, pack or zone is in it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from api.models import SubmitterVerdict
from compliance.verdict import SCHEMA_VERSION, Verdict

__all__ = ["router", "service_verdict_schema"]

router = APIRouter(tags=["schema"])


@cache
def service_verdict_schema() -> dict[str, Any]:
    """The verdict as an auditor gets it, or as a submitter does (zones withheld)."""
    schema = TypeAdapter(Verdict | SubmitterVerdict).json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mapgate verdict",
        "description": "A verdict of POST /v1/checks or GET /v1/checks/{id}: the whole "
        "document for auditors, the submitter's form (zones withheld) for submitters.",
        "x-schema-version": SCHEMA_VERSION,
        **schema,
    }


@router.get(
    "/v1/schema",
    summary="JSON Schema of the verdict documents",
    response_class=JSONResponse,
    responses={200: {"content": {"application/schema+json": {}}}},
)
async def verdict_schema() -> JSONResponse:
    """The JSON Schema (2020-12) every verdict this service returns validates against."""
    return JSONResponse(service_verdict_schema(), media_type="application/schema+json")
