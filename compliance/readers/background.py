"""The process's helper threads: work on a dataset's bytes that no stage waits for until
the end (its hash, its free space), run beside the read."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

__all__ = ["helper_pool"]

_POOL: tuple[int, ThreadPoolExecutor] | None = None


def helper_pool() -> ThreadPoolExecutor:
    """The pool, made on first use in each process: a pool inherited through fork has no
    threads behind it."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="mapgate-help"))
    return _POOL[1]
