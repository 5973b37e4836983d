"""Audits on a ``dask.distributed`` cluster: the same chunks, sent through a client.

``_cached_checker`` keeps one ``Checker`` per (packs, zones) and thread in each worker.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from compliance.batch.results import AuditResult
from compliance.batch.tasks import (
    IN_FLIGHT_PER_WORKER,
    CheckerSpec,
    Task,
    check_task,
    check_task_bounded,
    chunk_files,
    chunks,
    result_row,
    rows_from_json,
    usable_cpus,
)
from compliance.isolation.allocator import settle_allocator

if TYPE_CHECKING:
    from compliance.checker import Checker
    from compliance.isolation.pool import CheckLimits, CheckPool

__all__ = ["DASK_CHECKERS", "run_dask"]

# One Checker per (packs, zones) and executor thread of a Dask worker process: built on
# first use, then kept for every later task (the Checker is not shared across threads).
DASK_CHECKERS: dict[tuple[CheckerSpec, int], Checker] = {}
# With limits, each executor thread checks in a killable worker process of its own instead
# (a Dask worker cannot stop a task that hangs in native code).
DASK_POOLS: dict[tuple[CheckerSpec, CheckLimits, int], CheckPool] = {}


def _cached_checker(spec: CheckerSpec) -> Checker:
    key = (spec, threading.get_ident())
    checker = DASK_CHECKERS.get(key)
    if checker is None:
        if not DASK_CHECKERS:
            settle_allocator()  # Dask's nanny starts workers with a setting that slows checks
        checker = DASK_CHECKERS[key] = spec.build()
    return checker


def _cached_pool(spec: CheckerSpec, limits: CheckLimits) -> CheckPool:
    from compliance.isolation.pool import CheckPool

    key = (spec, limits, threading.get_ident())
    pool = DASK_POOLS.get(key)
    if pool is None:
        pool = DASK_POOLS[key] = CheckPool(spec.build, 1, limits,
                                           upload_only=spec.untrusted).start()  # fmt: skip
    return pool


def _dask_chunk(chunk: list[Task], spec: CheckerSpec, fingerprint: str,
                pending: frozenset[str], limits: CheckLimits | None = None) -> list[str]:  # fmt: skip
    if limits is not None and (limits.timeout_s or limits.memory_mb):
        pool = _cached_pool(spec, limits)
        rows = [check_task_bounded(pool, task, fingerprint, pending) for task in chunk]
        return [row.model_dump_json() for row in rows]
    checker = _cached_checker(spec)
    return [check_task(checker, task, fingerprint, pending).model_dump_json() for task in chunk]


def _cores_to_spare(client: Any) -> bool:
    """True when every host has more cores than Dask threads: only then may one check use
    helper threads without taking a core from another check."""
    try:
        workers = client.scheduler_info()["workers"]
        cpus = client.run(usable_cpus)
    except Exception:  # noqa: BLE001 - an old or odd cluster: keep the default
        return True
    threads: Counter[str] = Counter()
    cores: dict[str, int] = {}
    for address, info in workers.items():
        threads[info.get("host", address)] += int(info.get("nthreads", 1))
        cores[info.get("host", address)] = int(cpus.get(address, 0))
    return all(threads[host] < cores[host] for host in threads)


def run_dask(
    tasks: Sequence[Task], client: Any, spec: CheckerSpec, fingerprint: str,
    pending: frozenset[str], limits: CheckLimits | None = None,
) -> Iterator[AuditResult]:  # fmt: skip
    """Check on a ``dask.distributed`` cluster through ``client``, yielding as they finish.

    Dataset paths must be readable by the workers (a shared filesystem), and pack and
    zone files too; a worker whose packs hash differently returns error rows. With
    ``limits``, each Dask thread checks in a killable worker process (``CheckPool``).
    """
    from distributed import as_completed

    threads = sum(client.nthreads().values()) or 1
    spec = replace(spec, helper_threads=_cores_to_spare(client))
    shared: Any = client.scatter(pending, broadcast=True, hash=False) if pending else pending
    todo = chunks(tasks, files=chunk_files(len(tasks), threads * IN_FLIGHT_PER_WORKER))
    running: dict[Any, list[Task]] = {}
    serial = iter(range(1 << 62))

    def submit(chunk: list[Task]) -> Any:
        fut = client.submit(_dask_chunk, chunk, spec, fingerprint, shared, limits, pure=False,
                            key=f"mapgate-audit-{os.getpid()}-{next(serial)}")  # fmt: skip
        running[fut] = chunk
        return fut

    queue = as_completed(
        [submit(c) for c in itertools.islice(todo, threads * IN_FLIGHT_PER_WORKER)]
    )
    try:
        for fut in queue:
            chunk = running.pop(fut)
            try:
                rows = list(rows_from_json(fut.result()))
            except Exception as exc:  # noqa: BLE001 - a lost worker must not stop the run
                error = f"dask task failed {type(exc).__name__}: {exc}"
                rows = [
                    result_row(task, fingerprint, status="error", error=error) for task in chunk
                ]
            yield from rows
            nxt = next(todo, None)
            if nxt is not None:
                queue.add(submit(nxt))
    finally:
        client.cancel(list(running))
