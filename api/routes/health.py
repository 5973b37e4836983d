"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from api.deps import AuditorDep, MetricsDep, StoreDep
from api.problems import Problem, problem_responses

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ready"
    packs: list[str]
    # Open to anyone, so it says only that zones are loaded: their source's name is for
    # auditors (GET /v1/packs), as a zones file's name can say what it holds.
    zones: str = "loaded"
    store: str


@router.get("/healthz", response_model=Alive)
async def healthz() -> Alive:
    """The process answers."""
    return Alive()


@router.get("/readyz", response_model=Ready, responses=problem_responses(503))
async def readyz(request: Request, store: StoreDep) -> Ready:
    """Packs and zones are loaded, a check slot can be had, and the audit store answers."""
    checker = getattr(request.app.state, "checker", None)
    if checker is None:
        raise Problem(503, "packs and zones are not loaded yet")
    pool = getattr(request.app.state, "check_pool", None)
    if pool is not None and pool.stuck():
        raise Problem(503, "every check slot is busy past the time limit or restarting")
    if not await anyio.to_thread.run_sync(store.ping):
        raise Problem(503, "the audit store does not answer")
    return Ready(packs=[p.name for p in checker.packs], store=store.backend)


@router.get(
    "/metrics",
    response_class=Response,
    responses={**problem_responses(401, 403), 200: {"content": {"text/plain": {}}}},
)
async def metrics(caller: AuditorDep, metrics: MetricsDep) -> Response:
    """Prometheus text format; needs an auditor key."""
    return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
