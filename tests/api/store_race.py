"""Child processes for the audit store's start-up race (a module of its own: each spawned
child imports it, and nothing heavier)."""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.synchronize import Barrier


def _open_store(url: str, barrier: Barrier, results: mp.Queue) -> None:
    from api.verdict_store import VerdictStore

    barrier.wait()  # every child creates the schema at the same moment, as workers do
    try:
        VerdictStore(url).close()
        results.put("ok")
    except Exception as exc:  # reported to the test, which shows it
        results.put(f"{type(exc).__name__}: {exc}"[:300])


def open_stores_at_once(url: str, processes: int) -> list[str]:
    """Open ``processes`` stores on ``url`` at once, each in a process of its own."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    children = [
        ctx.Process(target=_open_store, args=(url, barrier, results)) for _ in range(processes)
    ]
    for child in children:
        child.start()
    outcome = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=60)
    return outcome
