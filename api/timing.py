"""Server-Timing: how long each stage of a request took, sent back in a response header."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ServerTiming"]


class ServerTiming:
    """Collects ``name;dur=ms`` entries (W3C Server-Timing) for one request."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, float]] = []

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.parts.append((name, (time.perf_counter() - start) * 1000))

    def add(self, name: str, ms: float) -> None:
        """A stage timed elsewhere (in a worker thread)."""
        self.parts.append((name, ms))

    def header(self) -> str:
        return ", ".join(f"{name};dur={ms:.2f}" for name, ms in self.parts)
