"""GET /v1/packs: the rule packs and zones this service checks against."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, CheckerDep
from api.models import PackOut, PacksOut, ZonesOut
from api.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["packs"])


@router.get("/packs", response_model=PacksOut, responses=problem_responses(401))
async def list_packs(caller: CallerDep, checker: CheckerDep) -> PacksOut:
    """Loaded packs with their versions and content hashes, the zones source, the fingerprint."""
    return PacksOut(
        packs=[
            PackOut(
                name=p.name,
                version=p.version,
                sha256=p.sha256,
                title=p.title,
                jurisdiction=p.jurisdiction,
            )
            for p in checker.packs
        ],
        zones=ZonesOut(source=str(checker.zones.source), sha256=checker.zones.sha256),
        fingerprint=checker.fingerprint,
    )
