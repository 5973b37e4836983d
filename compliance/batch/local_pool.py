"""Audits on a local process pool (forkserver), which survives a worker dying or hanging.

The pool's initializer builds each worker's ``Checker`` once and keeps it in ``_LOCAL``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from compliance.batch.results import AuditResult
from compliance.batch.tasks import (
    IN_FLIGHT_PER_WORKER,
    CheckerSpec,
    Task,
    check_task,
    chunk_files,
    chunks,
    result_row,
    rows_from_json,
    usable_cpus,
)
from compliance.isolation.allocator import settle_allocator

__all__ = ["WorkerStartError", "run_pool", "warm_up_pool"]

# Never fork a process that may already hold GDAL state and threads: workers start clean.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

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
                      parent: int, memory_mb: int | None) -> None:  # fmt: skip
    settle_allocator()
    _LOCAL.update(checker=spec.build(), fingerprint=fingerprint, pending=pending)
    if spec.untrusted:
        # A worker of the pool reads nothing but the third party's files: it keeps only
        # the drivers uploads may be read with, as the service does.
        from compliance.readers.upload_guard import restrict_process_to_upload_drivers

        restrict_process_to_upload_drivers()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if memory_mb:
        # As the service's check workers: a fixed budget above the warm worker's size.
        from compliance.isolation.worker import limit_memory

        limit_memory(memory_mb)


def _pool_task(task: Task) -> AuditResult:
    return check_task(_LOCAL["checker"], task, _LOCAL["fingerprint"], _LOCAL["pending"])


def _pool_chunk(fn: Callable[[Task], AuditResult], chunk: list[Task]) -> list[str]:
    return [fn(task).model_dump_json() for task in chunk]


def _crashed(task: Task, fingerprint: str) -> AuditResult:
    error = "the worker process died while checking this dataset (a crash in a native library?)"
    return result_row(task, fingerprint, status="error", error=error)


def _ready() -> bool:
    return "checker" in _LOCAL


class WorkerStartError(RuntimeError):
    """The pool's worker processes cannot start (the Checker fails to build, or the calling
    script cannot be re-imported: guard it with ``if __name__ == "__main__":``)."""


def _timed_out(task: Task, fingerprint: str, seconds: float) -> AuditResult:
    from compliance.isolation.pool import timeout_message

    return result_row(task, fingerprint, status="error",
                      error=timeout_message(seconds))  # fmt: skip


def _context() -> Any:
    context = multiprocessing.get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        # The fork server imports the library once; workers fork from it ready to run.
        context.set_forkserver_preload(["compliance.batch.local_pool", "compliance.checker"])
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
        memory_mb: int | None = None,
    ) -> None:  # fmt: skip
        self.args = (spec, fingerprint, pending, os.getpid(), memory_mb)
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
                        yield from rows_from_json(fut.result())
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
    memory_mb: int | None = None,
) -> Iterator[AuditResult]:  # fmt: skip
    """Check in a local pool of ``workers`` processes (forkserver), yielding as they finish.

    ``fn`` replaces the per-task function run in the workers (it must be importable by
    name); it defaults to checking with the worker's Checker. ``timeout`` (seconds) bounds
    one dataset's check; a dataset over it becomes an ``error`` row. ``memory_mb`` caps
    what a check may add to its warm worker (``compliance.isolation.pool.limit_memory``).
    """
    # With a worker on every core, a check's helper threads only contend for the cores:
    # 2 workers on 2 cores checked large files 10-15% faster without them.
    spec = replace(spec, helper_threads=workers < usable_cpus())
    yield from _Pool(spec, fingerprint, pending, workers, fn, timeout, memory_mb).run(tasks)
