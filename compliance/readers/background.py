"""The process's helper threads: work that no stage waits for until the end (a dataset's
hash, its free space) or that only gives the scan a head start (zone indexes grown over a
layer's declared extent), run beside the read. One thread for each, so that the head start
is not queued behind the other two."""

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
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=3, thread_name_prefix="mapgate-help"))
    return _POOL[1]
