"""The command's threads share a few malloc arenas.

glibc gives each thread that allocates while another holds the lock an arena of its own,
up to eight per core, and an arena keeps what its thread freed for that thread's next
allocation. A large file is read in one thread, decoded and measured in another and
checked for leaks in three helpers, so five arenas each keep a batch's worth of freed
buffers: a check of 1,000,000 polygons peaked 25-35 MB higher than with three arenas
(bench/bench_check.py's memory row, 1.21x a plain read against 1.08-1.13x), for 2-3% of
its time spent waiting on the shared locks. On n cores no more than n threads allocate at
once, so n + 1 arenas are enough to keep them from waiting on each other for long.

Only the console entry point caps them, before it starts any thread: a library call
leaves its host process's allocator as it found it. Elsewhere than glibc nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["cap_malloc_arenas"]

_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def cap_malloc_arenas(cores: int | None = None) -> bool:
    """Cap glibc's arenas at ``cores`` + 1 (this machine's cores by default); whether the
    cap was set. An explicit ``MALLOC_ARENA_MAX`` in the environment is left to rule."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, (cores or _cores()) + 1))


def _cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux only
    return len(affinity(0)) if affinity else os.cpu_count() or 1
