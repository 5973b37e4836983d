"""Settle glibc's allocator in audit worker processes.

A check allocates and frees buffers of a few hundred kilobytes to a few megabytes for
every batch it reads (Arrow arrays, WKB, coordinates). glibc normally learns from the
first such frees to keep buffers that size in the heap. Dask's nanny turns that off:
it starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, and glibc then hands every
buffer over 128 KiB back to the kernel when it is freed and maps fresh zeroed pages for
the next one. On a 200,000-point GeoPackage that costs ten times the page faults and
about a fifth more CPU per check. The thresholds set here are the ones glibc's own
learning ends at on 64-bit systems, so memory stays bounded (at most 64 MiB of free
heap is kept) and flat in the number of files checked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

__all__ = ["settle_allocator"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024**2  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD  # what glibc sets beside a learnt mmap threshold


def settle_allocator() -> bool:
    """Set glibc's mmap and trim thresholds for this process; False where there is no glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
