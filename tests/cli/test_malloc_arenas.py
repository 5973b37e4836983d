"""The console command caps glibc's malloc arenas at its cores + 1 before any thread
starts; a library import leaves the allocator as it was.

Each case runs in a fresh interpreter, starts eight threads that each allocate, and
counts the arenas glibc reports through ``malloc_info``.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import box

from tests.builders import write_vector

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

# Eight threads, all alive at once (an exiting thread hands its arena to the next), each
# allocate; the arenas glibc then holds are written to the file named by the argument.
_ARENAS = (
    "import ctypes, sys, threading\n"
    "def arenas(out):\n"
    "    libc = ctypes.CDLL('libc.so.6')\n"
    "    libc.fopen.restype = ctypes.c_void_p\n"
    "    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]\n"
    "    libc.fclose.argtypes = [ctypes.c_void_p]\n"
    "    together = threading.Barrier(8)\n"
    "    def work():\n"
    "        kept = [bytearray(4096) for _ in range(64)]\n"
    "        together.wait()\n"
    "        del kept\n"
    "    threads = [threading.Thread(target=work) for _ in range(8)]\n"
    "    for t in threads: t.start()\n"
    "    for t in threads: t.join()\n"
    "    f = libc.fopen(out.encode(), b'w')\n"
    "    libc.malloc_info(0, f)\n"
    "    libc.fclose(f)\n"
)


def _heaps(report: Path) -> int:
    return len(re.findall(r'<heap nr="\d+">', report.read_text()))


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _environment(**extra: str) -> dict[str, str]:
    """This environment without a setting of the arenas of its own, and ``extra``."""
    return {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | extra


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=_environment(**(env or {})),
    )
    assert done.returncode in (0, 10, 20, 30), done.stderr


def test_without_a_cap_each_thread_takes_an_arena(tmp_path):
    # The control: what the cap is for, and that the count below can fail.
    report = tmp_path / "arenas.xml"
    _python(_ARENAS + "arenas(sys.argv[1])\n", str(report))
    assert _heaps(report) >= min(9, 8 * _cores())


def test_a_check_runs_with_cores_plus_one_arenas(tmp_path):
    data = write_vector(tmp_path / "a.gpkg", [box(126.97, 37.55, 126.98, 37.56)], 4326)
    report = tmp_path / "arenas.xml"
    spy = (
        _ARENAS + "out, sys.argv = sys.argv[1], ['mapgate', *sys.argv[2:]]\n"
        "from compliance.checker import Checker\n"
        "check = Checker.check\n"
        "def spy(self, *a, **k):\n"
        "    arenas(out)\n"
        "    return check(self, *a, **k)\n"
        "Checker.check = spy\n"
        "from compliance.cli.main import main\n"
        "main()\n"
    )
    _python(spy, str(report), "check", str(data), "--format", "json")
    assert 1 <= _heaps(report) <= _cores() + 1


def test_the_cap_follows_the_cores_it_is_given(tmp_path):
    report = tmp_path / "arenas.xml"
    code = (
        _ARENAS + "from compliance.cli.malloc_arenas import cap_malloc_arenas\n"
        "assert cap_malloc_arenas(cores=1)\n"
        "arenas(sys.argv[1])\n"
    )
    _python(code, str(report))
    assert _heaps(report) == 2


def test_an_explicit_setting_in_the_environment_rules(tmp_path):
    report = tmp_path / "arenas.xml"
    code = (
        _ARENAS + "from compliance.cli.malloc_arenas import cap_malloc_arenas\n"
        "assert not cap_malloc_arenas(cores=1)\n"
        "arenas(sys.argv[1])\n"
    )
    _python(code, str(report), env={"MALLOC_ARENA_MAX": "6"})
    assert _heaps(report) == 6


def test_a_library_import_leaves_the_allocator_alone(tmp_path):
    report = tmp_path / "arenas.xml"
    code = _ARENAS + "import compliance.checker, compliance.cli.main\narenas(sys.argv[1])\n"
    _python(code, str(report))
    assert _heaps(report) >= min(9, 8 * _cores())
