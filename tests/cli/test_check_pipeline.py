"""``mapgate check`` as a pipeline step: several paths, stdin, --fail-on, --quiet,
--version and shell completion."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.version import ENGINE_VERSION
from tests.builders import SAMPLES

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]
ALLOW = SAMPLES / "kr_50k_roads.gpkg"
CONDITIONS = SAMPLES / "ortho_025m_israel.tif"
REVIEW = SAMPLES / "sat_10m_korea.tif"
DENY = SAMPLES / "kr_5k_buildings.gpkg"


def run(*args: str | Path, stdin: bytes | None = None, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    return subprocess.run([*MAPGATE, *map(str, args)], input=stdin, capture_output=True,
                          timeout=300, cwd=cwd, env=env)  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_several_paths_give_one_json_line_each_in_order_and_the_worst_code():
    result = run("check", ALLOW, REVIEW, DENY, CONDITIONS, "--format", "json")
    assert result.returncode == 30, result.stderr
    lines = result.stdout.decode().splitlines()
    docs = [json.loads(line) for line in lines]
    assert [d["verdict"] for d in docs] == ["allow", "review", "deny", "allow_with_conditions"]
    assert [d["input"]["sha256"] for d in docs] == [
        _sha256(p) for p in (ALLOW, REVIEW, DENY, CONDITIONS)
    ]


@pytest.mark.parametrize(
    ("files", "fail_on", "code"),
    [
        ((ALLOW, REVIEW), "deny", 0),
        ((ALLOW, REVIEW), "review", 20),
        ((CONDITIONS, REVIEW), "allow_with_conditions", 20),
        ((CONDITIONS,), "review", 0),
        ((ALLOW, DENY), "deny", 30),
        ((CONDITIONS, DENY), "review", 30),
    ],
)
def test_fail_on_counts_only_verdicts_at_or_above_it(files, fail_on, code):
    result = run("check", *files, "--fail-on", fail_on, "--quiet")
    assert result.returncode == code, result.stderr
    assert result.stdout == b""


def test_an_unreadable_file_among_others_is_never_a_pass(tmp_path: Path):
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + b"\x00" * 64)
    missing = tmp_path / "missing.gpkg"
    result = run("check", ALLOW, broken, missing, "--fail-on", "deny", "--format", "json")
    assert result.returncode == 3
    assert [json.loads(line)["verdict"] for line in result.stdout.decode().splitlines()] == [
        "allow"
    ]
    stderr = result.stderr.decode()
    assert "broken.tif" in stderr and "missing.gpkg" in stderr and "Traceback" not in stderr
    # A deny among them still gives the deny's own code.
    assert run("check", missing, DENY, "-q").returncode == 30


def test_stdin_is_checked_like_the_file_and_leaves_no_temporary_file(tmp_path: Path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    result = run("check", "-", "--format", "json", stdin=DENY.read_bytes(), env=env)
    assert result.returncode == 30, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "deny" and doc["input"]["sha256"] == _sha256(DENY)
    assert doc["input"]["size"] == DENY.stat().st_size
    assert list(scratch.iterdir()) == []
    # stdin beside files, with a name for the annotations.
    mixed = run("check", ALLOW, "-", "--stdin-name", "roads.tif", "--format", "github",
                stdin=REVIEW.read_bytes(), env=env)  # fmt: skip
    assert mixed.returncode == 20
    assert "::warning file=roads.tif," in mixed.stdout.decode()
    assert list(scratch.iterdir()) == []


def test_stdin_that_is_not_a_map_is_an_error_not_a_verdict():
    result = run("check", "-", stdin=b"not a map at all\n" * 100)
    assert result.returncode == 3
    assert b"Traceback" not in result.stderr and result.stdout == b""
    assert result.stderr.startswith(b"mapgate: cannot read input: stdin: not a raster or vector")


def test_stdin_may_be_given_once():
    result = run("check", "-", "-", stdin=b"")
    assert result.returncode == 2 and b"once" in result.stderr


def test_quiet_prints_nothing_but_keeps_the_code():
    result = run("check", DENY, "-q")
    assert (result.returncode, result.stdout) == (30, b"")


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == ENGINE_VERSION


def _completion(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "from compliance.cli.main import app; app(prog_name='mapgate')"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)  # fmt: skip


def test_shell_completion_script_and_answers():
    # The shell is named, not detected from the parent processes (which vary by runner).
    script = _completion({"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
                         "--show-completion", "bash")  # fmt: skip
    assert "_MAPGATE_COMPLETE=complete_bash" in script.stdout, script.stderr
    words = _completion({"_MAPGATE_COMPLETE": "complete_bash", "COMP_WORDS": "mapgate ch",
                         "COMP_CWORD": "1"})  # fmt: skip
    assert "check" in words.stdout.split()
    options = _completion({"_MAPGATE_COMPLETE": "complete_bash",
                           "COMP_WORDS": "mapgate check --fail", "COMP_CWORD": "2"})  # fmt: skip
    assert "--fail-on" in options.stdout.split()
