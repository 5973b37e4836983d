"""What every way of running an audit shares: tasks, their chunks, and checking one.

The checks run in this process (``run_inline``), in a local process pool
(``compliance.batch.local_pool``) or on a Dask cluster (``compliance.batch.dask_cluster``). Each worker
process builds its ``Checker`` once (packs and zones are loaded once per worker, never
per file) and keeps it. At most a few chunks per worker are in flight, so memory stays
flat however many files the audit holds.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.batch.results import AuditResult

if TYPE_CHECKING:
    from compliance.checker import Checker
    from compliance.isolation.pool import CheckLimits, CheckPool

__all__ = [
    "IN_FLIGHT_PER_WORKER", "CheckerSpec", "Task", "check_task", "check_task_bounded",
    "chunk_files", "chunks", "result_row", "rows_from_json", "run_bounded", "run_inline",
    "usable_cpus",
]  # fmt: skip

IN_FLIGHT_PER_WORKER = 3  # chunks queued per worker: enough to never leave one idle
# Small files travel in chunks, so the per-task cost of the pool or of Dask (pickling,
# queues, scheduler round trips: about 2.5 ms of the audit process's CPU per Dask task)
# is paid once per chunk rather than once per file. On 5,000 small files, chunks of 32
# rather than 8 made the pool 8-17% faster and Dask 10-22%.
CHUNK_FILES = 32
CHUNK_BYTES = 4 * 1024**2


@dataclass(frozen=True)
class CheckerSpec:
    """How to build the Checker: what a worker needs, small enough to send anywhere."""

    packs: tuple[str, ...] | None = None
    zones: str | None = None
    helper_threads: bool = True  # see Checker: off where every core runs a worker already
    untrusted: bool = False  # see Checker: third-party data, read as uploads are

    def build(self) -> Checker:
        from compliance.checker import Checker

        if not self.helper_threads:
            _one_reader_thread()
        packs: list[str | Path] | None = list(self.packs) if self.packs is not None else None
        return Checker(
            packs=packs,
            zones=self.zones,
            helper_threads=self.helper_threads,
            untrusted=self.untrusted,
        )


def _one_reader_thread() -> None:
    """Every core already runs a worker: GDAL must not read GeoPackages on threads of its
    own either (up to 4 by default). A lone check gains from them, but two workers on two
    cores with them ran the large-file archive's 25 GeoPackages 5-10% slower each than
    without, where without them each ran as fast as one worker alone."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_GPKG_NUM_THREADS": "1"})


@dataclass(frozen=True)
class Task:
    """One dataset to check; ``problem`` set means discovery already knows it cannot be."""

    path: str
    members: tuple[str, ...]
    stat: str | None
    problem: str | None = None
    size: int = 0


def usable_cpus() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def chunk_files(tasks: int, slots: int) -> int:
    """Files per chunk: ``CHUNK_FILES``, fewer when the audit is too small to keep every
    slot (worker thread) busy with chunks that large."""
    return max(1, min(CHUNK_FILES, -(-tasks // (2 * slots))))


def chunks(tasks: Iterable[Task], files: int = CHUNK_FILES,
           nbytes: int = CHUNK_BYTES) -> Iterator[list[Task]]:  # fmt: skip
    """Group tasks into chunks of at most ``files`` files and about ``nbytes`` bytes."""
    chunk: list[Task] = []
    size = 0
    for task in tasks:
        if chunk and (len(chunk) >= files or size + task.size > nbytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(task)
        size += task.size
    if chunk:
        yield chunk


def _content_hash(path: Path) -> str:
    """The dataset hash the library puts in ``verdict.input.sha256``."""
    from compliance.readers.inputs import dataset_digest

    return dataset_digest(path)[0]


def result_row(task: Task, fingerprint: str, **fields: Any) -> AuditResult:
    names = [Path(m).name for m in task.members]
    return AuditResult(path=task.path, members=names, stat=task.stat, fingerprint=fingerprint,
                       worker=f"{socket.gethostname()}:{os.getpid()}", **fields)  # fmt: skip


def check_task(
    checker: Checker, task: Task, fingerprint: str, pending: frozenset[str] = frozenset()
) -> AuditResult:
    """Check one dataset; every failure becomes an ``error`` row, never an exception.

    When ``pending`` holds content hashes a previous run already checked under another
    path, the dataset is hashed first and, on a match, returned as ``skipped``.
    """
    from compliance.errors import ComplianceError
    from compliance.isolation.pool import memory_message
    from compliance.isolation.worker import out_of_memory

    start = time.perf_counter()
    if task.problem:
        return result_row(task, fingerprint, status="error", error=task.problem)
    if checker.fingerprint != fingerprint:
        error = f"worker packs/zones differ (fingerprint {checker.fingerprint} != {fingerprint})"
        return result_row(task, fingerprint, status="error", error=error)
    try:
        if pending:
            sha = _content_hash(Path(task.path))
            if sha in pending:
                return result_row(task, fingerprint, status="skipped", sha256=sha)
        verdict = checker.check(Path(task.path))
    except Exception as exc:  # noqa: BLE001 - a library bug on one file must not stop the run
        limit = out_of_memory(exc)
        if limit is not None:
            error = memory_message(limit)
        elif isinstance(exc, ComplianceError | OSError):
            error = f"{type(exc).__name__}: {exc}"
        else:
            error = f"internal error {type(exc).__name__}: {exc}"
        return result_row(task, fingerprint, status="error", error=error, duration_ms=_ms(start))
    return result_row(
        task, fingerprint, status="checked", verdict=verdict.verdict,
        sha256=verdict.input.sha256, size=verdict.input.size, duration_ms=_ms(start),
        document=verdict.model_dump(mode="json"),
    )  # fmt: skip


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def run_inline(
    tasks: Iterable[Task], checker: Checker, fingerprint: str, pending: frozenset[str]
) -> Iterator[AuditResult]:
    """Check in this process, one after the other (``workers=0``)."""
    for task in tasks:
        yield check_task(checker, task, fingerprint, pending)


def check_task_bounded(
    pool: CheckPool, task: Task, fingerprint: str, pending: frozenset[str]
) -> AuditResult:
    """``check_task`` in a worker of ``pool``: one that overruns its limits is an error row."""
    from compliance.isolation.pool import CheckStopped

    if task.problem:
        return result_row(task, fingerprint, status="error", error=task.problem)
    start = time.perf_counter()
    try:
        row: AuditResult = pool.run(check_task, task, fingerprint, pending)
    except CheckStopped as exc:
        return result_row(task, fingerprint, status="error", error=str(exc),
                          duration_ms=_ms(start))  # fmt: skip
    return row


def run_bounded(
    tasks: Iterable[Task], spec: CheckerSpec, limits: CheckLimits, fingerprint: str,
    pending: frozenset[str],
) -> Iterator[AuditResult]:  # fmt: skip
    """Check one after the other in a single worker process that is killed (and replaced)
    when a check passes ``limits`` (``workers=0`` with limits)."""
    from compliance.isolation.pool import CheckPool

    pool = CheckPool(spec.build, 1, limits, upload_only=spec.untrusted).start()
    try:
        for task in tasks:
            yield check_task_bounded(pool, task, fingerprint, pending)
    finally:
        pool.close()


def rows_from_json(lines: list[str]) -> Iterator[AuditResult]:
    """Rows travel back from workers as JSON text: unpickling a verdict's many small objects
    costs the audit process several times more than parsing them, and it parses every
    row of every worker while the workers wait for new tasks."""
    return (AuditResult.model_validate_json(line) for line in lines)
