"""GET /v1/packs: the rule packs and zones this service checks against."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CheckerDep, ReadCallerDep
from api.models import PackOut, PacksOut, ZonesOut
from api.problems import problem_responses

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["packs"])


@router.get("/packs", response_model=PacksOut, responses=problem_responses(401, 429))
async def list_packs(request: Request, caller: ReadCallerDep, checker: CheckerDep) -> PacksOut:
    """Loaded packs with their versions and content hashes; for auditors, the zones source
    and hash and the checker's fingerprint (which changes with them)."""
    policy = set(request.app.state.policy_packs)
    out = PacksOut(
        packs=[
            PackOut(
                name=p.name,
                version=p.version,
                sha256=p.sha256,
                title=p.title,
                jurisdiction=p.jurisdiction,
                optional=p.name not in policy,
            )
            for p in checker.packs
        ],
        zones=ZonesOut(source=str(checker.zones.source), sha256=checker.zones.sha256),
        fingerprint=checker.fingerprint,
    )
    if not caller.is_auditor:
        out.zones, out.fingerprint = None, None
    return out
