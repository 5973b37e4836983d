"""Where the checks run: in this process, in a local process pool, or on a Dask cluster.

Each worker process builds its ``Checker`` once (packs and zones are loaded once per
worker, never per file) and keeps it: the pool's initializer stores it in ``_LOCAL``;
on Dask, ``_cached_checker`` keeps one per (packs, zones) and thread in the worker.
At most a few tasks per worker are in flight, so memory stays flat however many
files the audit holds.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.allocator import settle_allocator
from compliance.audit_store import AuditResult

if TYPE_CHECKING:
    from compliance.checker import Checker

__all__ = [
    "CheckerSpec", "Task", "WorkerStartError", "check_task", "chunk_files", "chunks", "run_dask",
    "run_inline", "run_pool", "warm_up_pool",
]  # fmt: skip

IN_FLIGHT_PER_WORKER = 3  # chunks queued per worker: enough to never leave one idle
# Small files travel in chunks, so the per-task cost of the pool or of Dask (pickling,
# queues, scheduler round trips: about 2.5 ms of the audit process's CPU per Dask task)
# is paid once per chunk rather than once per file. On 5,000 small files, chunks of 32
# rather than 8 made the pool 8-17% faster and Dask 10-22%.
CHUNK_FILES = 32
CHUNK_BYTES = 4 * 1024**2
# Never fork a process that may already hold GDAL state and threads: workers start clean.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


@dataclass(frozen=True)
class CheckerSpec:
    """How to build the Checker: what a worker needs, small enough to send anywhere."""

    packs: tuple[str, ...] | None = None
    zones: str | None = None

    def build(self) -> Checker:
        from compliance.checker import Checker

        packs: list[str | Path] | None = list(self.packs) if self.packs is not None else None
        return Checker(packs=packs, zones=self.zones)


@dataclass(frozen=True)
class Task:
    """One dataset to check; ``problem`` set means discovery already knows it cannot be."""

    path: str
    members: tuple[str, ...]
    stat: str | None
    problem: str | None = None
    size: int = 0


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


def _row(task: Task, fingerprint: str, **fields: Any) -> AuditResult:
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

    start = time.perf_counter()
    if task.problem:
        return _row(task, fingerprint, status="error", error=task.problem)
    if checker.fingerprint != fingerprint:
        error = f"worker packs/zones differ (fingerprint {checker.fingerprint} != {fingerprint})"
        return _row(task, fingerprint, status="error", error=error)
    try:
        if pending:
            sha = _content_hash(Path(task.path))
            if sha in pending:
                return _row(task, fingerprint, status="skipped", sha256=sha)
        verdict = checker.check(Path(task.path))
    except (ComplianceError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        return _row(task, fingerprint, status="error", error=error, duration_ms=_ms(start))
    except Exception as exc:  # noqa: BLE001 - a library bug on one file must not stop the run
        error = f"internal error {type(exc).__name__}: {exc}"
        return _row(task, fingerprint, status="error", error=error, duration_ms=_ms(start))
    return _row(
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


# --- local process pool -------------------------------------------------------------------

_LOCAL: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """Leave when the audit process is gone (killed), instead of lingering as an orphan."""
    ppid = os.getppid()
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        if os.getppid() != ppid:
            os._exit(1)


def _init_pool_worker(spec: CheckerSpec, fingerprint: str, pending: frozenset[str],
                      parent: int) -> None:  # fmt: skip
    settle_allocator()
    _LOCAL.update(checker=spec.build(), fingerprint=fingerprint, pending=pending)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _pool_task(task: Task) -> AuditResult:
    return check_task(_LOCAL["checker"], task, _LOCAL["fingerprint"], _LOCAL["pending"])


def _pool_chunk(fn: Callable[[Task], AuditResult], chunk: list[Task]) -> list[str]:
    return [fn(task).model_dump_json() for task in chunk]


def _rows(lines: list[str]) -> Iterator[AuditResult]:
    """Rows travel back from workers as JSON text: unpickling a verdict's many small objects
    costs the audit process several times more than parsing them, and it parses every
    row of every worker while the workers wait for new tasks."""
    return (AuditResult.model_validate_json(line) for line in lines)


def _crashed(task: Task, fingerprint: str) -> AuditResult:
    error = "the worker process died while checking this dataset (a crash in a native library?)"
    return _row(task, fingerprint, status="error", error=error)


def _ready() -> bool:
    return "checker" in _LOCAL


class WorkerStartError(RuntimeError):
    """The pool's worker processes cannot start (the Checker fails to build, or the calling
    script cannot be re-imported: guard it with ``if __name__ == "__main__":``)."""


def _timed_out(task: Task, fingerprint: str, seconds: float) -> AuditResult:
    return _row(task, fingerprint, status="error",
                error=f"timed out: the check took longer than {seconds:g} s; its worker was stopped")  # fmt: skip


def _context() -> Any:
    context = multiprocessing.get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        # The fork server imports the library once; workers fork from it ready to run.
        context.set_forkserver_preload(["compliance.audit_workers", "compliance.checker"])
    return context


def warm_up_pool() -> None:
    """Start the fork server in the background, so that its imports (about half a second)
    overlap the audit's discovery instead of delaying the first worker."""
    if _START_METHOD != "forkserver":
        return
    from multiprocessing import forkserver

    _context()
    threading.Thread(
        target=forkserver.ensure_running, name="mapgate-forkserver", daemon=True
    ).start()


class _Pool:
    """A process pool that survives a worker dying or hanging: the culprit becomes an error row.

    A watchdog notices when no work has finished for ``timeout`` seconds: the workers are
    stopped, and the tasks they held are re-run one at a time, each with that timeout.
    """

    def __init__(
        self, spec: CheckerSpec, fingerprint: str, pending: frozenset[str], workers: int,
        fn: Callable[[Task], AuditResult] | None = None, timeout: float | None = None,
    ) -> None:  # fmt: skip
        self.args = (spec, fingerprint, pending, os.getpid())
        self.fingerprint = fingerprint
        self.workers = workers
        self.fn = fn or _pool_task
        self.timeout = timeout
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        """A fresh pool, proven able to start a worker before any dataset is sent to it."""
        context = _context()
        executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context,
            initializer=_init_pool_worker, initargs=self.args,
        )  # fmt: skip
        try:
            executor.submit(_ready).result()
        except BrokenProcessPool as exc:
            executor.shutdown(wait=False, cancel_futures=True)
            raise WorkerStartError(WorkerStartError.__doc__) from exc
        return executor

    def restart(self, kill: bool = False) -> None:
        if kill:
            # A hung check never returns: stop its process, or shutdown would wait for it.
            for process in list(getattr(self.executor, "_processes", {}).values()):
                process.kill()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new()

    def isolated(self, suspects: list[Task]) -> Iterator[AuditResult]:
        """Re-run the tasks that were in flight when a worker died or hung, one at a time."""
        for task in suspects:
            try:
                yield self.executor.submit(self.fn, task).result(timeout=self.timeout)
            except BrokenProcessPool:
                yield _crashed(task, self.fingerprint)
                self.restart()
            except TimeoutError:
                yield _timed_out(task, self.fingerprint, self.timeout or 0)
                self.restart(kill=True)

    def run(self, tasks: Sequence[Task]) -> Iterator[AuditResult]:
        limit = self.workers * IN_FLIGHT_PER_WORKER
        todo = chunks(tasks, files=chunk_files(len(tasks), limit))
        running: dict[Future[list[str]], list[Task]] = {}
        try:
            while True:
                suspects: list[Task] = []
                while not suspects and len(running) < limit and (chunk := next(todo, None)):
                    try:
                        running[self.executor.submit(_pool_chunk, self.fn, chunk)] = chunk
                    except BrokenProcessPool:
                        suspects += chunk
                if not running and not suspects:
                    return
                done, _ = wait(
                    running, return_when=FIRST_COMPLETED, timeout=0 if suspects else self.timeout
                )
                stalled = not done and not suspects
                for fut in done:
                    chunk = running.pop(fut)
                    if isinstance(fut.exception(), BrokenProcessPool):
                        suspects += chunk
                    else:
                        yield from _rows(fut.result())
                if suspects or stalled:
                    suspects += [t for c in running.values() for t in c]
                    running.clear()
                    self.restart(kill=stalled)
                    yield from self.isolated(suspects)
        finally:
            self.executor.shutdown(wait=True, cancel_futures=True)


def run_pool(
    tasks: Sequence[Task], spec: CheckerSpec, fingerprint: str, pending: frozenset[str],
    workers: int, fn: Callable[[Task], AuditResult] | None = None, timeout: float | None = None,
) -> Iterator[AuditResult]:  # fmt: skip
    """Check in a local pool of ``workers`` processes (forkserver), yielding as they finish.

    ``fn`` replaces the per-task function run in the workers (it must be importable by
    name); it defaults to checking with the worker's Checker. ``timeout`` (seconds) bounds
    one dataset's check; a dataset over it becomes an ``error`` row.
    """
    yield from _Pool(spec, fingerprint, pending, workers, fn, timeout).run(tasks)


# --- Dask ---------------------------------------------------------------------------------

# One Checker per (packs, zones) and executor thread of a Dask worker process: built on
# first use, then kept for every later task (the Checker is not shared across threads).
DASK_CHECKERS: dict[tuple[CheckerSpec, int], Checker] = {}


def _cached_checker(spec: CheckerSpec) -> Checker:
    key = (spec, threading.get_ident())
    checker = DASK_CHECKERS.get(key)
    if checker is None:
        if not DASK_CHECKERS:
            settle_allocator()  # Dask's nanny starts workers with a setting that slows checks
        checker = DASK_CHECKERS[key] = spec.build()
    return checker


def _dask_chunk(chunk: list[Task], spec: CheckerSpec, fingerprint: str,
                pending: frozenset[str]) -> list[str]:  # fmt: skip
    checker = _cached_checker(spec)
    return [check_task(checker, task, fingerprint, pending).model_dump_json() for task in chunk]


def run_dask(
    tasks: Sequence[Task], client: Any, spec: CheckerSpec, fingerprint: str,
    pending: frozenset[str],
) -> Iterator[AuditResult]:  # fmt: skip
    """Check on a ``dask.distributed`` cluster through ``client``, yielding as they finish.

    Dataset paths must be readable by the workers (a shared filesystem), and pack and
    zone files too; a worker whose packs hash differently returns error rows.
    """
    from distributed import as_completed

    threads = sum(client.nthreads().values()) or 1
    shared: Any = client.scatter(pending, broadcast=True, hash=False) if pending else pending
    todo = chunks(tasks, files=chunk_files(len(tasks), threads * IN_FLIGHT_PER_WORKER))
    running: dict[Any, list[Task]] = {}
    serial = iter(range(1 << 62))

    def submit(chunk: list[Task]) -> Any:
        fut = client.submit(_dask_chunk, chunk, spec, fingerprint, shared, pure=False,
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
                rows = list(_rows(fut.result()))
            except Exception as exc:  # noqa: BLE001 - a lost worker must not stop the run
                error = f"dask task failed {type(exc).__name__}: {exc}"
                rows = [_row(task, fingerprint, status="error", error=error) for task in chunk]
            yield from rows
            nxt = next(todo, None)
            if nxt is not None:
                queue.add(submit(nxt))
    finally:
        client.cancel(list(running))
