"""Typed dependencies: settings, checker, store, metrics, and the calling API key."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from api.auth import DEV_CALLER_NAME, Caller, bearer_token, find_caller
from api.metrics import Metrics
from api.problems import Problem
from api.rate_limit import TokenBuckets, retry_after
from api.settings import Settings
from api.verdict_store import VerdictStore

__all__ = [
    "AuditorDep",
    "CallerDep",
    "CheckCallerDep",
    "CheckerDep",
    "MetricsDep",
    "ReadCallerDep",
    "Service",
    "ServiceDep",
    "SettingsDep",
    "StoreDep",
]

if TYPE_CHECKING:
    from compliance import Checker

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mapgate"'}

# Every dependency here is ``async def``: none blocks (state lookups, a key's hash, a token
# bucket under a lock held for microseconds), and FastAPI runs a plain ``def`` dependency
# in its thread pool, a hand-off to another thread and back for each, every request.
# None depends on another: FastAPI resolves each dependency of a dependency on every
# request, a fifth of the service's own CPU per upload when the upload routes had seven.


class Service:
    """The app's shared parts, typed, for a route that needs several: one dependency
    instead of one each."""

    __slots__ = ("_state",)

    def __init__(self, request: Request) -> None:
        self._state = request.app.state

    @property
    def settings(self) -> Settings:
        settings: Settings = self._state.settings
        return settings

    @property
    def checker(self) -> Checker:
        checker: Checker = self._state.checker
        return checker

    @property
    def store(self) -> VerdictStore:
        store: VerdictStore = self._state.store
        return store

    @property
    def metrics(self) -> Metrics:
        metrics: Metrics = self._state.metrics
        return metrics


async def get_service(request: Request) -> Service:
    return Service(request)


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_settings(request: Request) -> Settings:
    return Service(request).settings


async def get_checker(request: Request) -> Checker:
    return Service(request).checker


async def get_store(request: Request) -> VerdictStore:
    return Service(request).store


async def get_metrics(request: Request) -> Metrics:
    return Service(request).metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
CheckerDep = Annotated["Checker", Depends(get_checker)]
StoreDep = Annotated[VerdictStore, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` (and the test client's ``testclient``)."""
    if host in {"localhost", "testclient"}:
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _caller(request: Request) -> Caller:
    """The caller behind the request's bearer key; 401 when it is missing or unknown.

    In dev mode every loopback request acts as an auditor named ``dev``; others get 403.
    """
    settings = Service(request).settings
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        caller = find_caller(settings.keys, token)
        if caller is not None:
            return caller
        if not settings.dev:
            raise Problem(401, "the API key is not valid", headers=_CHALLENGE)
    if settings.dev:
        client = request.client.host if request.client else None
        if not is_loopback(client):
            raise Problem(403, "dev mode answers loopback clients only")
        return Caller(DEV_CALLER_NAME, "auditor")
    raise Problem(401, "send an API key as 'Authorization: Bearer <key>'", headers=_CHALLENGE)


async def get_caller(request: Request) -> Caller:
    """The caller behind the request's bearer key (``_caller``)."""
    return _caller(request)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def require_auditor(request: Request) -> Caller:
    """The caller, if it has the auditor role; 403 otherwise."""
    caller = _caller(request)
    if not caller.is_auditor:
        raise Problem(403, "this needs a key with the auditor role")
    return caller


AuditorDep = Annotated[Caller, Depends(require_auditor)]


def _rate_limited(request: Request, caller: Caller, bucket: str) -> Caller:
    """The caller, if its key's ``bucket`` has a token left; 429 with Retry-After if not.

    Submitter keys only: an auditor may already see every zone.
    """
    if caller.is_auditor:
        return caller
    buckets: TokenBuckets = getattr(request.app.state, f"{bucket}_limit")
    wait = buckets.take(caller.name)
    if wait > 0:
        request.app.state.metrics.rate_limited.labels(caller.name, bucket).inc()
        raise Problem(
            429,
            f"this key has used its {bucket} allowance; retry later",
            title="Too Many Requests",
            headers={"Retry-After": retry_after(wait)},
        )
    return caller


async def checks_caller(request: Request) -> Caller:
    """The caller of an upload, held to its key's check rate."""
    return _rate_limited(request, _caller(request), "checks")


async def reads_caller(request: Request) -> Caller:
    """The caller of a read (listing, verdict, packs), held to its key's read rate."""
    return _rate_limited(request, _caller(request), "reads")


CheckCallerDep = Annotated[Caller, Depends(checks_caller)]
ReadCallerDep = Annotated[Caller, Depends(reads_caller)]
