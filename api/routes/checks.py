"""POST/GET /v1/checks: upload a map and get its verdict; read the audit trail."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response

from api.auth import Caller
from api.deps import CheckCallerDep, MetricsDep, ReadCallerDep, ServiceDep, StoreDep
from api.forms import CheckForm, check_request_body, packs_to_run
from api.metrics import Metrics
from api.models import CheckPage, CheckSummary, SubmitterVerdict
from api.probing import zones_near
from api.problems import Problem, problem_responses
from api.timing import ServerTiming
from api.upload import Upload, receive_upload
from api.verdict_store import BadCursor, BadQuery, VerdictStore
from compliance import Effect, Verdict
from compliance.disclosure import undisclosed_verdict
from compliance.isolation.pool import CheckPool, CheckStopped
from compliance.isolation.worker import check_path

__all__ = ["router", "stopped_problem"]

router = APIRouter(prefix="/v1/checks", tags=["checks"])
log = logging.getLogger("mapgate.api")


@router.post(
    "",
    summary="Check an uploaded map file",
    response_model=Verdict | SubmitterVerdict,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
    openapi_extra=check_request_body(),
)
async def create_check(
    request: Request,
    caller: CheckCallerDep,
    service: ServiceDep,
    reveal_zones: Annotated[
        bool, Query(description="Show zone ids and geometry (auditors only).")
    ] = False,
) -> Response:
    """Stream the ``file`` part to disk, run the check off the event loop, store, answer.

    A submitter gets the verdict with the zones withheld (``compliance.disclosure``); the store keeps
    it whole.
    """
    if reveal_zones and not caller.is_auditor:
        raise Problem(403, "only auditors may reveal zones")
    settings, store, metrics = service.settings, service.store, service.metrics
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
            "packs": packs_to_run(request.app.state.policy_packs, form.packs),
            "untrusted": True,  # a spooled upload: it may not name files on this machine
        }
        pool: CheckPool | None = request.app.state.check_pool
        run = (
            partial(service.checker.check, upload.path, **options)
            if pool is None
            else partial(pool.run, check_path, upload.path, options)
        )
        removed_ms: list[float] = []
        with metrics.check_duration.time(), timing.measure("check"):
            try:
                verdict = await anyio.to_thread.run_sync(
                    partial(_then_remove, run, upload, removed_ms),
                    limiter=request.app.state.check_limiter,
                )
            except CheckStopped as exc:
                problem = await anyio.to_thread.run_sync(
                    stopped_problem, exc, upload, caller, store, metrics
                )
                raise problem from None
        timing.add("cleanup", removed_ms[0] if removed_ms else 0.0)
    finally:
        if not upload.removed:  # the check never ran (a bad form, a 403)
            # Removal must finish even if the client left (the request is then cancelled).
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(upload.remove)
    document = verdict.model_dump_json()
    with timing.measure("store"):
        await anyio.to_thread.run_sync(store.save, verdict, document, caller.name, caller.role)
    metrics.verdicts.labels(str(verdict.verdict)).inc()
    if caller.is_auditor:
        # Stage times only for auditors: how long the zone overlap took says how near a zone
        # the data came.
        headers = {"Server-Timing": timing.header()}
        return Response(document, media_type="application/json", headers=headers)
    _watch_probes(request, caller, verdict, metrics)
    shown = json.dumps(undisclosed_verdict(json.loads(document)))
    return Response(shown, media_type="application/json")


def _then_remove(run: Callable[[], Verdict], upload: Upload, removed_ms: list[float]) -> Verdict:
    """The check, then the upload's removal in the same thread: one hand-off per request
    fewer, and the removal cannot be skipped, since the awaiting request waits for the
    thread whatever happens to the client."""
    try:
        return run()
    finally:
        started = time.perf_counter()
        upload.remove()
        removed_ms.append((time.perf_counter() - started) * 1000)


def _watch_probes(request: Request, caller: Caller, verdict: Verdict, metrics: Metrics) -> None:
    """Count the upload against the zones it came near; warn when a key circles one."""
    checker = request.app.state.checker
    near = zones_near(checker.zones, verdict.profile.bounds_wgs84)
    for zone in request.app.state.probe_watch.observe(caller.name, near):
        metrics.zone_probing.labels(caller.name, zone.zone_class).inc()
        log.warning(
            "key %r keeps uploading data near sensitive zone %s (%s): possible probing",
            caller.name,
            zone.zone_id,
            zone.zone_class,
        )


def stopped_problem(
    exc: CheckStopped, upload: Upload, caller: Caller, store: VerdictStore, metrics: MetricsDep
) -> Problem:
    """Record a check that was stopped (log, metric, audit store), and the answer its
    submitter gets."""
    log.warning(
        "check of %r for %s stopped (%s): %s", upload.filename, caller.name, exc.reason, exc
    )
    metrics.checks_stopped.labels(exc.reason).inc()
    store.save_stopped(caller.name, caller.role, upload.filename, upload.size, exc.reason, str(exc))
    if exc.reason == "shutdown":
        return Problem(503, str(exc), title="Service shutting down")
    return Problem(422, str(exc), title="Check stopped", type_="urn:mapgate:problem:check-stopped")


@router.get(
    "",
    summary="List stored verdicts, newest first",
    response_model=CheckPage,
    responses=problem_responses(401, 403, 422, 429),
)
async def list_checks(
    caller: ReadCallerDep,
    store: StoreDep,
    verdict: Annotated[Effect | None, Query(description="Only this outcome.")] = None,
    since: Annotated[datetime | None, Query(description="Checked at or after (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="From next_cursor.")] = None,
    by: Annotated[
        str | None, Query(alias="caller", max_length=200, description="Only this key's (auditors).")
    ] = None,
) -> CheckPage:
    """Auditors see every verdict, or one key's; submitters see their own."""
    if by is not None and not caller.is_auditor and by != caller.name:
        raise Problem(403, "only auditors may list other keys' verdicts")
    page = partial(
        store.page,
        caller=by if caller.is_auditor else caller.name,
        verdict=str(verdict) if verdict is not None else None,
        since=since,
        limit=limit,
        cursor=cursor,
    )
    try:
        rows, next_cursor = await anyio.to_thread.run_sync(page)
    except BadQuery as exc:
        title = "Invalid cursor" if isinstance(exc, BadCursor) else "Invalid request"
        raise Problem(422, str(exc), title=title) from None
    return CheckPage(items=[CheckSummary.of(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{check_id}",
    summary="One stored verdict",
    response_model=Verdict | SubmitterVerdict,
    responses=problem_responses(401, 404, 422, 429),
)
async def get_check(
    caller: ReadCallerDep,
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
        document = json.dumps(undisclosed_verdict(json.loads(document)))
    return Response(document, media_type="application/json")
