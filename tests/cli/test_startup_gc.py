"""The console command pauses the garbage collector while it sets up, and every command
runs with it back on, its start-up objects frozen out of the collector's walks.

Each case runs as the console script does (``main()`` with ``sys.argv``) in a fresh
interpreter, which reports the collector's state where it matters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shapely.geometry import box

from tests.builders import write_vector

# Reports the collector's state while the checker is built and when a check or a profile
# runs (they leave through os._exit, so the report is written as it goes).
_SPY = (
    "import gc, json, sys\n"
    "out, sys.argv = sys.argv[1], ['mapgate', *sys.argv[2:]]\n"
    "seen = {}\n"
    "def note(key):\n"
    "    seen[key] = {'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}\n"
    "    with open(out, 'w') as f:\n"
    "        json.dump(seen, f)\n"
    "from compliance.checker import Checker\n"
    "built, check, inspect = Checker.__init__, Checker.check, Checker.inspect\n"
    "def spy_init(self, *a, **k):\n"
    "    note('building the checker')\n"
    "    built(self, *a, **k)\n"
    "def spy_check(self, *a, **k):\n"
    "    note('checking')\n"
    "    return check(self, *a, **k)\n"
    "def spy_inspect(self, *a, **k):\n"
    "    note('inspecting')\n"
    "    return inspect(self, *a, **k)\n"
    "Checker.__init__, Checker.check, Checker.inspect = spy_init, spy_check, spy_inspect\n"
    "import atexit\n"
    "atexit.register(note, 'at exit')\n"
    "from compliance.cli.main import main\n"
    "main()\n"
)


def _run(tmp_path: Path, *args: str) -> dict[str, dict[str, int | bool]]:
    out = tmp_path / "seen.json"
    done = subprocess.run(
        [sys.executable, "-c", _SPY, str(out), *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 10, 20, 30), done.stderr
    return json.loads(out.read_text())


def test_a_check_builds_its_checker_unwalked_and_checks_with_collection_on(tmp_path):
    data = write_vector(tmp_path / "a.gpkg", [box(126.97, 37.55, 126.98, 37.56)], 4326)
    seen = _run(tmp_path, "check", str(data), "--format", "json")
    assert seen["building the checker"]["enabled"] is False
    assert seen["checking"]["enabled"] is True
    # The modules, packs and zones loaded so far are frozen: tens of thousands of objects.
    assert int(seen["checking"]["frozen"]) > 10_000


def test_profile_does_the_same(tmp_path):
    data = write_vector(tmp_path / "a.gpkg", [box(126.97, 37.55, 126.98, 37.56)], 4326)
    seen = _run(tmp_path, "profile", str(data), "--format", "json")
    assert seen["building the checker"]["enabled"] is False
    assert seen["inspecting"]["enabled"] is True
    assert int(seen["inspecting"]["frozen"]) > 10_000


def test_other_commands_run_with_collection_on(tmp_path):
    for args in (("packs", "list"), ("packs", "validate"), ("conditions",)):
        seen = _run(tmp_path, *args)
        assert seen["at exit"]["enabled"] is True, args
