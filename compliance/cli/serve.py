"""``mapgate serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["serve"]

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def serve(
    host: Annotated[
        str, typer.Option(envvar="MAPGATE_HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="MAPGATE_PORT", help="TCP port.")] = 8000,
    config: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads this annotation at run time
        typer.Option(help="Settings file (.toml, .yaml, .json); env MAPGATE_* wins over it."),
    ] = None,
    workers: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(min=1, help="Worker processes (default: MAPGATE_WORKERS or 1)."),
    ] = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="Development mode: no API keys, loopback only.")
    ] = False,
) -> None:
    """Start the mapgate HTTP service (FastAPI on uvicorn)."""
    import uvicorn

    from api.settings import CONFIG_ENV, Settings

    if dev and host not in LOOPBACK:
        raise typer.BadParameter("dev mode listens on loopback only", param_hint="--host")
    # Workers are separate processes that build the app from the environment: pass it there.
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    if dev:
        os.environ["MAPGATE_DEV"] = "true"
    try:
        settings = Settings()  # validate before forking workers
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if settings.dev and host not in LOOPBACK:
        raise typer.BadParameter("dev mode listens on loopback only", param_hint="--host")
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        log_level="info",
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    typer.run(serve)
