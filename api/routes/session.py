"""GET /v1/me: who a key acts as, so that the page shows each role what it may use."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ReadCallerDep
from api.problems import problem_responses

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["session"])


class Me(BaseModel):
    name: str
    role: str


@router.get("/me", summary="The caller a key acts as", response_model=Me,
            responses=problem_responses(401, 429))  # fmt: skip
async def me(caller: ReadCallerDep) -> Me:
    """The key's name and role (``auditor`` or ``submitter``); in dev mode the auditor ``dev``."""
    return Me(name=caller.name, role=caller.role)
