"""POST /v1/remediations: upload a map, get a derivative that meets its verdict's conditions,
re-checked; GET /v1/remediations/{id}/file downloads it, for a while, to the same caller."""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path as FilePath
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse

from api.deps import CheckCallerDep, ReadCallerDep, ServiceDep, SettingsDep, StoreDep
from api.forms import CheckForm, check_request_body, packs_to_run
from api.probing import zones_near
from api.problems import Problem, problem_responses
from api.routes.checks import stopped_problem
from api.settings import Settings
from api.upload import receive_upload
from compliance.isolation.pool import CheckPool, CheckStopped
from compliance.isolation.worker import remediate_path
from compliance.remediate.disclosure import named_output, undisclosed_report
from compliance.remediate.errors import RemediationError

__all__ = ["remediations_folder", "router", "sweep_expired"]

router = APIRouter(prefix="/v1/remediations", tags=["remediations"])
log = logging.getLogger("mapgate.api")
_MASK_MODES = {"cut", "drop"}


def remediations_folder(settings: Settings) -> FilePath:
    """Where derivatives wait to be downloaded (made on first use)."""
    import tempfile

    folder = settings.remediation_dir or FilePath(
        settings.tmp_dir or tempfile.gettempdir(), "mapgate-remediations"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep_expired(folder: FilePath, ttl_s: float, now: float | None = None) -> list[str]:
    """Remove the derivatives kept longer than ``ttl_s``; their ids."""
    now = time.time() if now is None else now
    gone = []
    for entry in folder.iterdir():
        try:
            old = entry.stat().st_mtime + ttl_s < now
        except OSError:
            continue
        if old and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(entry.name)
    return gone


def _remediate(
    checker: Any, upload_path: FilePath, folder: FilePath, options: dict[str, Any]
) -> Any:
    folder.mkdir()
    try:
        return checker.remediate(upload_path, folder, **options)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@router.post(
    "",
    summary="Remediate an uploaded map file: apply its conditions and re-check the derivative",
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
    openapi_extra=check_request_body(),
)
async def create_remediation(
    request: Request,
    caller: CheckCallerDep,
    service: ServiceDep,
) -> Response:
    """Stream the ``file`` part to disk, remediate it off the event loop, store both verdicts
    (linked), answer the report. A submitter sees the zones withheld in both verdicts and
    the actions' zone measures withheld (``compliance.remediate.disclosure``)."""
    checker, store = service.checker, service.store
    settings, metrics = service.settings, service.metrics
    upload = await receive_upload(
        request,
        max_bytes=settings.max_upload_bytes,
        max_field_bytes=settings.max_form_field_bytes,
        tmp_dir=settings.tmp_dir,
    )
    folder = remediations_folder(settings)
    await anyio.to_thread.run_sync(sweep_expired, folder, settings.remediation_ttl_s)
    id_ = str(uuid.uuid4())
    try:
        form = CheckForm.from_fields(upload.fields)
        mask_mode = upload.fields.get("mask_mode", "cut").strip() or "cut"
        if mask_mode not in _MASK_MODES:
            raise Problem(422, f"mask_mode must be cut or drop, not {mask_mode[:20]!r}")
        options = {
            "name": upload.filename,
            "packs": packs_to_run(request.app.state.policy_packs, form.packs),
            "mask_mode": mask_mode,
            "untrusted": True,
        }
        # In a worker that can be killed, under the checks' limits: a hostile file must not
        # hold a thread here any more than it can in a check.
        pool: CheckPool | None = request.app.state.check_pool
        run = (
            partial(_remediate, checker, upload.path, folder / id_, options)
            if pool is None
            else partial(pool.run, remediate_path, upload.path, folder / id_, options)
        )
        with metrics.check_duration.time():
            try:
                report = await anyio.to_thread.run_sync(
                    run, limiter=request.app.state.check_limiter
                )
            except RemediationError as exc:
                raise Problem(422, str(exc), title="Cannot remediate") from None
            except CheckStopped as exc:
                shutil.rmtree(folder / id_, ignore_errors=True)
                problem = await anyio.to_thread.run_sync(
                    stopped_problem, exc, upload, caller, store, metrics
                )
                raise problem from None
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(upload.remove)
    document = json.loads(report.model_dump_json())
    document = named_output(document) | {"id": id_, "download": f"/v1/remediations/{id_}/file"}
    expires = datetime.now(UTC) + timedelta(seconds=settings.remediation_ttl_s)
    save = partial(
        store.save_remediation, id_, report, json.dumps(document), caller.name, caller.role, expires
    )
    await anyio.to_thread.run_sync(save)
    metrics.verdicts.labels(str(report.verdict.verdict)).inc()
    if not caller.is_auditor:
        _watch_probes(request, caller, checker, report.original.profile.bounds_wgs84, metrics)
    shown = document if caller.is_auditor else undisclosed_report(document)
    return Response(json.dumps(shown), media_type="application/json")


def _watch_probes(
    request: Request, caller: Any, checker: Any, bounds: list[float] | None, metrics: Any
) -> None:
    """Count a remediation against the zones it came near, as a check is: a derivative shows
    the coarse mask, so uploads circling a zone are watched the same way."""
    for zone in request.app.state.probe_watch.observe(
        caller.name, zones_near(checker.zones, bounds)
    ):
        metrics.zone_probing.labels(caller.name, zone.zone_class).inc()
        log.warning(
            "key %r keeps remediating data near sensitive zone %s (%s): possible probing",
            caller.name,
            zone.zone_id,
            zone.zone_class,
        )


@router.get(
    "/{remediation_id}/file",
    summary="Download a remediation's derivative (its caller only, until it expires)",
    responses=problem_responses(401, 404, 410, 422, 429),
)
async def get_remediation_file(
    caller: ReadCallerDep,
    store: StoreDep,
    settings: SettingsDep,
    remediation_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """The derivative, to the caller that asked for it; 404 for anyone else, 410 once expired."""
    row = await anyio.to_thread.run_sync(
        partial(store.remediation, remediation_id, caller=caller.name)
    )
    if row is None:
        raise Problem(404, f"no remediation with id {remediation_id!r}")
    folder = remediations_folder(settings)
    expires = row["expires_at"].replace(tzinfo=UTC)
    file = folder / remediation_id / row["output_name"]
    if datetime.now(UTC) >= expires or not file.is_file():
        shutil.rmtree(folder / remediation_id, ignore_errors=True)
        raise Problem(410, "the derivative has expired and was removed", title="Gone")
    return FileResponse(file, filename=row["output_name"], media_type="application/octet-stream")
