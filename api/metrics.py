"""Prometheus metrics: requests, verdicts by outcome, check duration; one registry per app."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "MetricsMiddleware"]

DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """The service's collectors, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mapgate_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.verdicts = Counter(
            "mapgate_verdicts",
            "Verdicts returned, by outcome.",
            ["verdict"],
            registry=self.registry,
        )
        self.check_duration = Histogram(
            "mapgate_check_duration_seconds",
            "Time spent in the library's check, per upload.",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.checks_stopped = Counter(
            "mapgate_checks_stopped",
            "Checks stopped before they finished, by reason (timeout, memory, crashed, shutdown).",
            ["reason"],
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "mapgate_http_request_duration_seconds",
            "Time from request start to the response's first byte, by route template.",
            ["route"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )

        self.rate_limited = Counter(
            "mapgate_rate_limited",
            "Requests refused with 429, by key name and bucket (checks or reads).",
            ["caller", "bucket"],
            registry=self.registry,
        )
        self.zone_probing = Counter(
            "mapgate_zone_probing",
            "Times one key's uploads came near one sensitive zone more often than the "
            "probe threshold allows within the window, by key name and zone class.",
            ["caller", "zone_class"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware (does not buffer bodies) that counts each HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                route = _route_of(scope)
                self.metrics.request_duration.labels(route).observe(time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(scope["method"], _route_of(scope), str(status)).inc()


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
