"""The worker side of ``compliance.isolation.pool``: a process that builds a Checker once and
then runs one check per message, with its address space capped.

Started by ``CheckPool`` as ``python -c "...serve_worker()" FD PARENT_PID``; ``FD`` is its
end of a socket pair to the pool.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import shutil
import signal
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["check_path", "limit_memory", "out_of_memory", "remediate_path", "serve_worker"]

_PR_SET_PDEATHSIG = 1
_MEMORY_LIMIT_MB: list[int] = []  # set once this process's address space is capped
# How SQLite, GDAL and the loader say that an allocation or a mapping failed.
_ALLOCATION_FAILED = ("out of memory", "cannot allocate memory", "failed to map segment")


def _die_with_parent(parent: int) -> None:
    """Be killed as soon as the process that started this one is gone, even mid-check."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the end of the socket still stops idlers
        pass
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the signal was armed


def _address_space() -> int:
    """Bytes of address space this process holds now (VmSize)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


def _load_readers() -> None:
    """Load every library a check may load lazily, so that the warm size includes them: a
    shared library mapped under the cap could fail to load, midway through some check."""
    import importlib
    import pkgutil

    import compliance.readers

    for package in ("compliance", "compliance.readers"):
        path = importlib.import_module(package).__path__
        for module in pkgutil.iter_modules(path):
            if not module.name.startswith(("audit", "cli", "check_")):
                importlib.import_module(f"{package}.{module.name}")
    for name in ("rasterio", "rasterio.env", "rasterio.errors", "rasterio.io",
                 "rasterio.transform", "rasterio.warp", "pyarrow.parquet", "pyogrio",
                 "osmium", "osmium.index"):  # fmt: skip
        importlib.import_module(name)
    del compliance.readers


def limit_memory(budget_mb: int) -> None:
    """Cap the address space at what the warm worker holds plus ``budget_mb``.

    The cap counts address space, not resident memory: GDAL, PROJ and numpy already
    reserve several hundred MB they never touch, which is why the budget is added to the
    warm size rather than being the whole cap.
    """
    import resource

    _load_readers()
    try:
        limit = _address_space() + budget_mb * 1024 * 1024
    except OSError:
        return  # no /proc: no cap rather than a wrong one
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _MEMORY_LIMIT_MB[:] = [budget_mb]


def check_path(checker: Any, path: Path, options: dict[str, Any]) -> Any:
    """The service's task: ``checker.check(path, **options)``, the Verdict sent back whole."""
    return checker.check(path, **options)


def remediate_path(checker: Any, path: Path, folder: Path, options: dict[str, Any]) -> Any:
    """The service's remediation: ``checker.remediate(path, folder, **options)`` into a new
    ``folder``, removed again when the remediation fails (a killed worker's folder is
    removed by the caller), the report sent back whole."""
    folder.mkdir()
    try:
        return checker.remediate(path, folder, **options)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def out_of_memory(exc: BaseException | None) -> int | None:
    """This process's memory limit (MB) when ``exc`` says an allocation failed under it (a
    MemoryError, or a reader's error: SQLite and GDAL say "out of memory"), else None."""
    if not _MEMORY_LIMIT_MB:
        return None
    while exc is not None:
        text = str(exc).lower()
        if isinstance(exc, MemoryError) or any(s in text for s in _ALLOCATION_FAILED):
            return _MEMORY_LIMIT_MB[0]
        exc = exc.__cause__ or exc.__context__
    return None


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure: send a stand-in
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def serve_worker() -> None:
    """A worker's life: set up from the first message, then run one check per message."""
    conn = Connection(int(sys.argv[1]))
    _die_with_parent(int(sys.argv[2]))
    build, memory_mb, tmp, upload_only = conn.recv()
    tempfile.tempdir = tmp
    try:
        from compliance.isolation.allocator import settle_allocator

        settle_allocator()
        checker = build()
        if upload_only:
            from compliance.readers.upload_guard import restrict_process_to_upload_drivers

            restrict_process_to_upload_drivers()
        if memory_mb:
            limit_memory(memory_mb)
    except Exception as exc:  # noqa: BLE001 - reported to the pool, which refuses to start
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return  # the pool is gone
        try:
            conn.send(("ok", fn(checker, *args)))
        except Exception as exc:  # noqa: BLE001 - the caller decides what an error means
            if out_of_memory(exc):
                # The heap may be left in pieces: report, and let the pool start a fresh one.
                conn.send(("memory", None))
                return
            conn.send(("error", _portable(exc)))
