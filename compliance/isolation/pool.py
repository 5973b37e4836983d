"""Checks in warm worker processes that can be stopped: a time limit, a memory limit, SIGKILL.

A check is library code reading a stranger's file: GDAL or SQLite can loop for ever on
it (a GeoPackage view over a recursive query) or map memory until the machine swaps,
and neither can be interrupted from Python. So each check runs in a worker process of
this pool. A worker builds its ``Checker`` once, then checks one file at a time; past the
deadline it is killed (SIGKILL), its temporary folder removed, and a fresh worker takes
its slot. Its address space is capped (``RLIMIT_AS``) a fixed budget above what it holds
once warm, so a file that maps memory without end fails inside the worker.

The worker side is ``compliance.isolation.worker``. Workers are plain subprocesses (not
``multiprocessing`` children), so a pool also runs inside processes that may not have
children of their own, such as Dask's workers. They
die with the process that started them (``PR_SET_PDEATHSIG``), and their temporary
folders carry that process's id, so ``remove_stale_temp_dirs`` can tell whose are left.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from compliance.errors import UnreadableDataset

__all__ = [
    "CheckLimits", "CheckPool", "CheckStopped", "mark_temp_dir", "memory_message",
    "remove_stale_temp_dirs", "timeout_message",
]  # fmt: skip

log = logging.getLogger("mapgate.check_pool")

WORKER_TEMP_PREFIX = "mapgate-worker-"
# Folders made by (or for) a process are named ``<prefix><pid>-<random>``.
_MARKED = re.compile(r"^mapgate-[a-z]+-(\d+)-")
_POLL_S = 0.2  # how often a waiting check looks at the shutdown cut-off


def timeout_message(seconds: float) -> str:
    """What a submitter or an audit row is told about a check stopped at its time limit."""
    return (f"timed out: the check took longer than the limit of {seconds:g} s and was stopped;"
            " the file was not read to the end")  # fmt: skip


def memory_message(megabytes: int) -> str:
    """What a submitter or an audit row is told about a check over its memory limit."""
    return (f"the check needed more than the memory limit of {megabytes} MB and was stopped;"
            " the file was not read to the end")  # fmt: skip


@dataclass(frozen=True)
class CheckLimits:
    """How long one check may run, and how much memory it may add to a warm worker.

    ``None`` (or 0) means no limit of that kind.
    """

    timeout_s: float | None = 120.0
    memory_mb: int | None = 4096


class CheckStopped(UnreadableDataset):
    """The check was stopped before it finished: over its time or memory limit, its process
    died, or the service is shutting down. The file was not read to the end."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "timeout", "memory", "crashed" or "shutdown"


def mark_temp_dir(prefix: str, parent: Path | None = None) -> Path:
    """A new private folder named after this process, so a later start can tell it is stale."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def remove_stale_temp_dirs(parent: Path | None = None) -> list[Path]:
    """Remove the ``mapgate-*-<pid>-*`` folders under ``parent`` whose process is gone.

    A process killed with SIGKILL never removes its upload and worker folders; the next
    start does. Folders of processes still running (other service workers) are kept.
    """
    root = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    removed = []
    for entry in root.iterdir() if root.is_dir() else ():
        match = _MARKED.match(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection
    tmp: Path
    started: float | None = None  # monotonic time the running check started

    def kill(self) -> None:
        """SIGKILL the process, reap it, and remove everything it wrote."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.conn.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class CheckPool:
    """``size`` warm workers, each with a Checker made by ``build`` (picklable, e.g. a
    ``functools.partial`` of ``Checker`` or a ``CheckerSpec.build``).

    ``run(fn, *args)`` calls ``fn(checker, *args)`` in a free worker (``fn`` must be
    importable by name) and returns its result, or raises what it raised, or
    ``CheckStopped``. ``upload_only`` restricts each worker's drivers as the service's
    own process is (``restrict_process_to_upload_drivers``).
    """

    def __init__(
        self, build: Callable[[], Any], size: int, limits: CheckLimits, *,
        tmp_dir: Path | None = None, upload_only: bool = False,
    ) -> None:  # fmt: skip
        self.build = build
        self.size = max(1, size)
        self.limits = limits
        self.tmp_dir = tmp_dir
        self.upload_only = upload_only
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._busy: set[_Worker] = set()
        self._replacing = 0
        self._lock = threading.Lock()
        self._cutoff = float("inf")  # a shutdown's deadline for every running check
        self._closed = False
        # Every worker is started from this one long-lived thread: PR_SET_PDEATHSIG fires
        # when the *thread* that started a child exits, not only the process.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mapgate-spawn")

    def start(self) -> CheckPool:
        """Start every worker and wait until each has built its Checker.

        Folders that workers of killed processes left in the same place (a service or an
        audit stopped with SIGKILL) are removed first, whoever starts a pool: an audit
        as much as the service."""
        remove_stale_temp_dirs(self.tmp_dir)
        starting = [self._spawner.submit(self._spawn) for _ in range(self.size)]
        for future in starting:
            self._idle.put(self._await_ready(future.result()))
        return self

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        tmp = mark_temp_dir(WORKER_TEMP_PREFIX, self.tmp_dir)
        env = dict(os.environ, TMPDIR=str(tmp), CPL_TMPDIR=str(tmp), SQLITE_TMPDIR=str(tmp))
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        code = "from compliance.isolation.worker import serve_worker; serve_worker()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(theirs.fileno()), str(os.getpid())],
            env=env, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
        )  # fmt: skip
        theirs.close()
        conn = Connection(ours.detach())
        memory = self.limits.memory_mb or 0
        conn.send((self.build, memory, str(tmp), self.upload_only))
        return _Worker(process, conn, tmp)

    def _await_ready(self, worker: _Worker) -> _Worker:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            message = ("died", None)
        if message[0] != "ready":
            worker.kill()
            detail = f": {message[1]!r}" if message[1] is not None else ""
            raise RuntimeError(f"a check worker could not start{detail}")
        return worker

    def _replace(self) -> None:
        """Start a worker for a freed slot in the background; the caller answers at once."""
        with self._lock:
            self._replacing += 1

        def spawn() -> None:
            try:
                while not self._closed:
                    try:
                        self._idle.put(self._await_ready(self._spawn()))
                        return
                    except Exception:  # noqa: BLE001 - keep the slot: retry, logged
                        log.exception("a check worker failed to start; retrying")
                        time.sleep(1.0)
            finally:
                with self._lock:
                    self._replacing -= 1

        self._spawner.submit(spawn)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(checker, *args)`` in a free worker under the pool's limits.

        Raises
        ------
        CheckStopped
            The check ran past its time limit, over its memory limit, its process died,
            or the pool is shutting down; the worker is replaced.
        """
        worker = self._take()
        healthy = False
        try:
            with self._lock:
                worker.started = time.monotonic()
                self._busy.add(worker)
            worker.conn.send((fn, args))
            self._wait(worker)
            kind, value = self._receive(worker)
            healthy = kind != "memory"
        finally:
            with self._lock:
                self._busy.discard(worker)
                worker.started = None
            if healthy:
                self._idle.put(worker)
            else:
                worker.kill()
                if not self._closed:
                    self._replace()
        if kind == "memory":
            raise CheckStopped(memory_message(self.limits.memory_mb or 0), "memory")
        if kind == "error":
            raise value
        return value

    def _take(self) -> _Worker:
        """A free worker, waiting for one; none once the pool is closing."""
        while not self._closed:
            try:
                return self._idle.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        raise CheckStopped("the service is shutting down; the check was not run", "shutdown")

    def _wait(self, worker: _Worker) -> None:
        """Until the worker answers; past the deadline (or a shutdown's cut-off), stop it."""
        assert worker.started is not None
        timeout = self.limits.timeout_s
        deadline = worker.started + timeout if timeout else float("inf")
        while not worker.conn.poll(_POLL_S):
            now = time.monotonic()
            if now >= self._cutoff:
                worker.kill()
                raise CheckStopped("the service is shutting down; the check was stopped",
                                   "shutdown")  # fmt: skip
            if now >= deadline:
                worker.kill()
                raise CheckStopped(timeout_message(timeout or 0), "timeout")

    def _receive(self, worker: _Worker) -> tuple[str, Any]:
        try:
            kind, value = worker.conn.recv()
            return str(kind), value
        except (EOFError, OSError):
            pass
        code = worker.process.wait()
        if code == -signal.SIGKILL and self.limits.memory_mb:
            # Nobody here killed it: the kernel's OOM killer, most likely.
            return "memory", None
        raise CheckStopped(
            f"the check's process died (exit status {code}); the file was not read to the end",
            "crashed",
        )

    def stuck(self) -> bool:
        """True when no slot can take a check: each is busy past the time limit, or is
        being restarted after a check was stopped."""
        timeout = self.limits.timeout_s
        now = time.monotonic()
        with self._lock:
            over = sum(
                1 for w in self._busy
                if timeout and w.started is not None and now - w.started >= timeout
            )  # fmt: skip
            return over + self._replacing >= self.size

    def stop_running(self, grace_s: float) -> None:
        """Give every running check at most ``grace_s`` more seconds (a shutdown began)."""
        self._cutoff = min(self._cutoff, time.monotonic() + grace_s)

    def close(self) -> None:
        """Kill every worker, running or idle, and remove their temporary folders."""
        self._closed = True
        self._cutoff = time.monotonic()
        self._spawner.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            busy = list(self._busy)
        for worker in busy:
            worker.kill()
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
