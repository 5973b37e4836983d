"""Audit workers settle glibc's allocator, so large buffers are reused, not re-mapped."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")

# Allocate and free a 4 MiB buffer 200 times and count the page faults it costs: each
# fresh mapping faults in its 1,024 pages, a reused heap block faults in none.
_PROBE = """
import resource, sys
if sys.argv[1] == "settled":
    from compliance.isolation.allocator import settle_allocator
    assert settle_allocator()
for _ in range(5):
    bytearray(4 * 1024 * 1024)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    bytearray(4 * 1024 * 1024)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    # Dask's nanny starts its workers with exactly this setting.
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout)


def test_settling_the_allocator_stops_buffers_being_remapped_under_dasks_setting() -> None:
    unsettled, settled = _faults("plain"), _faults("settled")
    assert unsettled > 100_000  # 200 buffers x 1,024 pages each, freshly mapped every time
    assert settled < unsettled / 20
