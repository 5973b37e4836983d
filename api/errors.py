"""One table from library exceptions to HTTP statuses, and the handlers that apply it."""

from __future__ import annotations

import logging
import re

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.problems import Problem, problem_response
from compliance import (
    ComplianceError,
    InputTooLarge,
    RulePackError,
    UnknownRulePack,
    UnreadableDataset,
    UnsafeArchive,
    UnsupportedFormat,
    ZonesError,
)

__all__ = ["STATUS_CODES", "add_exception_handlers", "status_for"]

log = logging.getLogger("mapgate.api")

# The most specific class in an exception's MRO decides. UnknownRulePack can only come from a
# request's ``packs`` form field (configured packs are loaded at start-up), so it is a bad form
# value: 422. RulePackError and ZonesError at request time mean the server is misconfigured.
STATUS_CODES: dict[type[ComplianceError], int] = {
    UnsupportedFormat: 422,
    UnsafeArchive: 422,
    InputTooLarge: 413,
    UnreadableDataset: 422,
    UnknownRulePack: 422,
    RulePackError: 500,
    ZonesError: 500,
    ComplianceError: 500,
}

# SQLAlchemy's errors for a database that cannot be reached or used right now.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
)

TITLES: dict[type[ComplianceError], str] = {
    UnsupportedFormat: "Unsupported format",
    UnsafeArchive: "Unsafe archive",
    InputTooLarge: "Upload too large",
    UnreadableDataset: "Unreadable dataset",
    UnknownRulePack: "Unknown rule pack",
}


def status_for(exc: ComplianceError) -> tuple[int, type[ComplianceError]]:
    """The status of ``exc`` and the table entry that gave it."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls], cls
    return 500, ComplianceError


def _type_uri(cls: type) -> str:
    return "urn:mapgate:problem:" + re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()


# A directory part of an absolute path: GDAL quotes the file it failed on with its folder
# (the upload's spool folder on this server), which a caller has no business seeing.
_FOLDERS = re.compile(r"(?<![\w.~])/(?:[^\s/:;'\"()]+/)+")


def without_folders(message: str) -> str:
    """``message`` with the folders of absolute paths removed (file names stay)."""
    return _FOLDERS.sub("", message)


async def _compliance_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ComplianceError)
    status, cls = status_for(exc)
    if status >= 500:
        log.error("check failed on the server side", exc_info=exc)
        return problem_response(status, "Server misconfigured", "the check could not run")
    detail = without_folders(str(exc))
    return problem_response(status, TITLES.get(cls, cls.__name__), detail, type_=_type_uri(cls))


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    problem = Problem(exc.status_code, str(exc.detail) if exc.detail else None)
    return problem_response(
        problem.status, problem.title, problem.detail, headers=getattr(exc, "headers", None)
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return problem_response(422, "Invalid request", "; ".join(parts) or None)


async def _disconnected(request: Request, exc: Exception) -> Response:
    # The client went away mid-upload; the upload was already removed. Nobody reads this.
    log.info("client disconnected during the upload")
    return problem_response(400, "Client disconnected", "the upload ended before it was complete")


async def _store_unavailable(request: Request, exc: Exception) -> Response:
    # The audit store does not answer (down, unreachable, out of connections): no verdict
    # may be answered that was not stored, and the client should try again later.
    log.error("audit store unavailable", exc_info=exc)
    return problem_response(
        503,
        "Service Unavailable",
        "the audit store does not answer; try again later",
        headers={"Retry-After": "30"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return problem_response(500, "Internal Server Error", "an unexpected error occurred")


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into ``application/problem+json``."""
    app.add_exception_handler(ComplianceError, _compliance_error)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _disconnected)
    for store_error in STORE_UNAVAILABLE:
        app.add_exception_handler(store_error, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)
