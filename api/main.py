"""The application factory: settings in, a FastAPI app with routes, handlers and state out."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from fastapi import FastAPI

from api.errors import add_exception_handlers
from api.metrics import Metrics, MetricsMiddleware
from api.probing import ZoneProbeWatch
from api.rate_limit import TokenBuckets
from api.routes import attestations, checks, health, packs, remediations, schema, session
from api.settings import Settings, get_settings
from api.signing import build_signer
from api.verdict_store import VerdictStore
from api.web.pages import add_web
from compliance.isolation.pool import CheckLimits, CheckPool, remove_stale_temp_dirs

__all__ = ["build_checker", "create_app"]

if TYPE_CHECKING:
    from compliance import Checker

log = logging.getLogger("mapgate.api")


def checker_factory(settings: Settings) -> partial[Checker]:
    """How to build the service's Checker: packs and zones, the upload limits as input limits.

    The packs are the policy packs (every built-in pack by default) and then the optional
    ones, which run only when a submitter asks for them. A ``partial`` of ``Checker``, so
    that worker processes can build their own.
    """
    from compliance import Checker
    from compliance.readers import InputLimits
    from compliance.readers.archive import ArchiveLimits
    from compliance.rules.packs import builtin_pack_paths

    pack_list: list[str | Path] | None = list(settings.packs) if settings.packs else None
    if settings.optional_packs:
        policy = pack_list or [p.stem for p in builtin_pack_paths()]
        pack_list = [*policy, *settings.optional_packs]
    limits = InputLimits(
        max_bytes=settings.max_upload_bytes,
        archive=ArchiveLimits(max_total_bytes=settings.unpacked_bytes_limit),
        tmp_dir=settings.tmp_dir,
    )
    return partial(Checker, packs=pack_list, zones=settings.zones, limits=limits)


def build_checker(settings: Settings) -> Checker:
    """Load packs and zones once, as ``checker_factory`` says."""
    return checker_factory(settings)()


def start_check_pool(settings: Settings, size: int, upload_only: bool) -> CheckPool:
    """Warm worker processes that run the checks, each with a Checker built as above."""
    build = checker_factory(settings)
    limits = CheckLimits(timeout_s=settings.check_timeout_s, memory_mb=settings.check_memory_mb)
    pool = CheckPool(build, size, limits, tmp_dir=settings.tmp_dir, upload_only=upload_only)
    return pool.start()


def stop_checks_on_sigterm(pool: CheckPool, grace_s: float) -> None:
    """On SIGTERM, give running checks ``grace_s`` more seconds before they are killed.

    uvicorn waits for running requests before it shuts the app down; without this, a
    check stuck in a native library would hold the shutdown until its own time limit.
    uvicorn's handler (installed before the app starts) still runs after this one.
    """
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> Any:
        pool.stop_running(grace_s)
        if callable(previous):
            return previous(signum, frame)
        return None

    signal.signal(signal.SIGTERM, handler)


def policy_packs(settings: Settings, checker: Checker) -> list[str]:
    """Names of the packs every check runs: all loaded packs but the optional ones."""
    from compliance.rules.packs import load_packs

    optional = {p.name for p in load_packs(list(settings.optional_packs))}
    return [p.name for p in checker.packs if p.name not in optional]


def create_app(
    settings: Settings, *, checker: Checker | None = None, owns_process: bool = False
) -> FastAPI:
    """Build the service. ``checker`` may be passed in to share one between apps (tests).

    Packs, zones and the store are opened when the app starts (its lifespan), so a
    misconfiguration stops the server before it accepts a request. An app that
    ``owns_process`` (a server process that reads nothing but uploads) then unregisters
    every GDAL vector driver an upload may not be read with; the zones, already loaded,
    may be in any format.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Upload and worker folders of processes killed with SIGKILL: theirs, not ours.
        for stale in remove_stale_temp_dirs(settings.tmp_dir):
            log.warning("removed %s, left behind by a process that is gone", stale)
        app.state.signer = await anyio.to_thread.run_sync(build_signer, settings)
        app.state.store = await anyio.to_thread.run_sync(
            VerdictStore, settings.store_url, app.state.signer.sign
        )
        try:
            app.state.checker = checker or await anyio.to_thread.run_sync(build_checker, settings)
            app.state.policy_packs = policy_packs(settings, app.state.checker)
            if checker is None:
                # Checks run in worker processes that can be killed; a passed-in checker
                # (shared between in-process test apps) runs them on threads instead.
                app.state.check_pool = await anyio.to_thread.run_sync(
                    start_check_pool, settings, int(app.state.check_limiter.total_tokens),
                    owns_process,
                )  # fmt: skip
            if owns_process:
                from compliance.readers.upload_guard import restrict_process_to_upload_drivers

                restrict_process_to_upload_drivers()
                if app.state.check_pool is not None:
                    stop_checks_on_sigterm(app.state.check_pool, settings.shutdown_grace_s)
            yield
        finally:
            if app.state.check_pool is not None:
                await anyio.to_thread.run_sync(app.state.check_pool.close)
            app.state.store.close()

    app = FastAPI(
        title="mapgate",
        summary="Upload a map file, get an export verdict, keep an audit trail.",
        version="0.1.0",
        lifespan=lifespan,
        # /docs and /redoc come from api.web, with files that ship with the package; no
        # OAuth2 redirect page, which nothing here uses.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.checker = None
    app.state.check_pool = None
    app.state.metrics = Metrics()
    # By default the worker processes share the CPUs: more checks at once than that only
    # contend for the GIL and stretch every request's latency.
    app.state.check_limiter = anyio.CapacityLimiter(
        settings.check_concurrency or max(1, (os.cpu_count() or 1) // settings.workers)
    )
    app.state.checks_limit = TokenBuckets.for_worker(
        settings.check_rate_per_minute, settings.check_burst, settings.workers
    )
    app.state.reads_limit = TokenBuckets.for_worker(
        settings.read_rate_per_minute, settings.read_burst, settings.workers
    )
    app.state.probe_watch = ZoneProbeWatch(settings.probe_window_s, settings.probe_threshold)
    app.state.policy_packs = []
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    add_exception_handlers(app)
    for routes in (health, packs, checks, remediations, attestations, session, schema):
        app.include_router(routes.router)
    add_web(app)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from ``MAPGATE_*`` and ``MAPGATE_CONFIG``."""
    return create_app(get_settings(), owns_process=True)
