"""The application factory: settings in, a FastAPI app with routes, handlers and state out."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from fastapi import FastAPI

from api.errors import add_exception_handlers
from api.metrics import Metrics, MetricsMiddleware
from api.routes import attestations, checks, health, packs
from api.settings import Settings, get_settings
from api.signing import build_signer
from api.store import AuditStore

if TYPE_CHECKING:
    from compliance import Checker


def build_checker(settings: Settings) -> Checker:
    """Load packs and zones once, with the upload limit as the input limit."""
    from compliance import Checker
    from compliance.readers import InputLimits

    pack_list: list[str | Path] | None = list(settings.packs) if settings.packs else None
    return Checker(
        packs=pack_list,
        zones=settings.zones,
        limits=InputLimits(max_bytes=settings.max_upload_bytes),
    )


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
        app.state.signer = await anyio.to_thread.run_sync(build_signer, settings)
        app.state.store = await anyio.to_thread.run_sync(
            AuditStore, settings.store_url, app.state.signer.sign
        )
        try:
            app.state.checker = checker or await anyio.to_thread.run_sync(build_checker, settings)
            if owns_process:
                from compliance.readers.upload_guard import restrict_process_to_upload_drivers

                restrict_process_to_upload_drivers()
            yield
        finally:
            app.state.store.close()

    app = FastAPI(
        title="mapgate",
        summary="Upload a map file, get an export verdict, keep an audit trail.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.checker = None
    app.state.metrics = Metrics()
    # By default the worker processes share the CPUs: more checks at once than that only
    # contend for the GIL and stretch every request's latency.
    app.state.check_limiter = anyio.CapacityLimiter(
        settings.check_concurrency or max(1, (os.cpu_count() or 1) // settings.workers)
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(packs.router)
    app.include_router(checks.router)
    app.include_router(attestations.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from ``MAPGATE_*`` and ``MAPGATE_CONFIG``."""
    return create_app(get_settings(), owns_process=True)
