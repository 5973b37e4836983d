"""POST/GET /v1/checks: upload a map and get its verdict; read the audit trail."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import CallerDep, CheckerDep, MetricsDep, SettingsDep, StoreDep
from api.forms import CheckForm, check_request_body
from api.models import CheckPage, CheckSummary
from api.problems import Problem, problem_responses
from api.store import BadCursor
from api.timing import ServerTiming
from api.upload import receive_upload
from compliance import Effect, Verdict
from compliance.check_pool import CheckPool, CheckStopped
from compliance.check_worker import check_path

router = APIRouter(prefix="/v1/checks", tags=["checks"])
log = logging.getLogger("mapgate.api")


@router.post(
    "",
    summary="Check an uploaded map file",
    response_model=Verdict,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 503),
    openapi_extra=check_request_body(),
)
async def create_check(
    request: Request,
    caller: CallerDep,
    checker: CheckerDep,
    store: StoreDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    reveal_zones: Annotated[
        bool, Query(description="Show zone ids and geometry (auditors only).")
    ] = False,
) -> Response:
    """Stream the ``file`` part to disk, run the check off the event loop, store, answer."""
    if reveal_zones and not caller.is_auditor:
        raise Problem(403, "only auditors may reveal zones")
    timing = ServerTiming()
    with timing.measure("upload"):
        upload = await receive_upload(
            request,
            max_bytes=settings.max_upload_bytes,
            max_field_bytes=settings.max_form_field_bytes,
            tmp_dir=settings.tmp_dir,
        )
    try:
        form = CheckForm.from_fields(upload.fields, reveal_zones=reveal_zones)
        if form.reveal_zones and not caller.is_auditor:
            raise Problem(403, "only auditors may reveal zones")
        options: dict[str, Any] = {
            "name": upload.filename,
            "destination": form.destination,
            "purpose": form.purpose,
            "reveal_zones": form.reveal_zones,
            "packs": form.packs,
            "untrusted": True,  # a spooled upload: it may not name files on this machine
        }
        pool: CheckPool | None = request.app.state.check_pool
        run = (
            partial(checker.check, upload.path, **options)
            if pool is None
            else partial(pool.run, check_path, upload.path, options)
        )
        with metrics.check_duration.time(), timing.measure("check"):
            try:
                verdict = await anyio.to_thread.run_sync(
                    run, limiter=request.app.state.check_limiter
                )
            except CheckStopped as exc:
                raise _stopped(exc, upload.filename, caller.name, metrics) from None
    finally:
        # Removal must finish even if the client left (the request is then cancelled).
        with anyio.CancelScope(shield=True), timing.measure("cleanup"):
            await anyio.to_thread.run_sync(upload.remove)
    document = verdict.model_dump_json()
    with timing.measure("store"):
        await anyio.to_thread.run_sync(store.save, verdict, document, caller.name, caller.role)
    metrics.verdicts.labels(str(verdict.verdict)).inc()
    headers = {"Server-Timing": timing.header()}
    return Response(document, media_type="application/json", headers=headers)


def _stopped(exc: CheckStopped, name: str, caller: str, metrics: MetricsDep) -> Problem:
    """Record a check that was stopped, and the answer its submitter gets."""
    log.warning("check of %r for %s stopped (%s): %s", name, caller, exc.reason, exc)
    metrics.checks_stopped.labels(exc.reason).inc()
    if exc.reason == "shutdown":
        return Problem(503, str(exc), title="Service shutting down")
    return Problem(422, str(exc), title="Check stopped", type_="urn:mapgate:problem:check-stopped")


@router.get(
    "",
    summary="List stored verdicts, newest first",
    response_model=CheckPage,
    responses=problem_responses(401, 422),
)
async def list_checks(
    caller: CallerDep,
    store: StoreDep,
    verdict: Annotated[Effect | None, Query(description="Only this outcome.")] = None,
    since: Annotated[datetime | None, Query(description="Checked at or after (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="From next_cursor.")] = None,
) -> CheckPage:
    """Auditors see every verdict; submitters see their own."""
    page = partial(
        store.page,
        caller=None if caller.is_auditor else caller.name,
        verdict=str(verdict) if verdict is not None else None,
        since=since,
        limit=limit,
        cursor=cursor,
    )
    try:
        rows, next_cursor = await anyio.to_thread.run_sync(page)
    except BadCursor as exc:
        raise Problem(422, str(exc), title="Invalid cursor") from None
    return CheckPage(items=[CheckSummary.of(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{check_id}",
    summary="One stored verdict",
    response_model=Verdict,
    responses=problem_responses(401, 404, 422),
)
async def get_check(
    caller: CallerDep,
    store: StoreDep,
    check_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """The verdict as it was returned; a submitter gets 404 for verdicts not its own."""
    get = partial(store.get, check_id, caller=None if caller.is_auditor else caller.name)
    row = await anyio.to_thread.run_sync(get)
    if row is None:
        raise Problem(404, f"no verdict with id {check_id!r}")
    document = row.document
    if not caller.is_auditor:
        document = _redacted(document)
    return Response(document, media_type="application/json")


def _redacted(document: str) -> str:
    """Belt and braces: a submitter never sees zone ids or geometry, whatever was stored."""
    data: dict[str, Any] = json.loads(document)
    zones = data.get("zones") or {}
    if zones.get("hits") is None and not zones.get("revealed"):
        return document
    zones["hits"], zones["revealed"] = None, False
    return json.dumps(data)
