"""The ``mapgate audit`` command: exit codes, log lines, and a run killed and resumed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
import typer
from typer.testing import CliRunner

from compliance.cli.audit import audit_command, fail_on_exit_code
from tests.batch.fixtures import BUSAN, SEOUL, Archive, make_archive, write_raster, write_vector

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return make_archive(tmp_path_factory.mktemp("cli") / "archive")


def _invoke(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command()(audit_command)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_exit_code_is_zero_whatever_the_verdicts(archive: Archive, tmp_path: Path) -> None:
    code, output = _invoke(str(archive.root), "--out", str(tmp_path / "o"), "--workers", "2")
    assert code == 0, output
    # Not a terminal: one plain line per dataset, then a summary.
    lines = [line for line in output.splitlines() if line.startswith("[")]
    assert len(lines) == 13
    # "[ 9/13] deny  .../ortho.tif" or "[12/13] deny ...": the verdict follows the bracket.
    verdict_of = {line.rsplit("/", 1)[-1]: line.split("]", 1)[1].split()[0] for line in lines}
    assert verdict_of["ortho.tif"] == "deny"
    assert "audited 13 datasets" in output
    assert "allow 7 · allow_with_conditions 1 · review 1 · deny 1 · error 3" in output


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("deny", 30), ("review", 20), ("allow_with_conditions", 10)],
)
def test_fail_on_exits_with_the_thresholds_code(
    archive: Archive, tmp_path: Path, fail_on: str, code: int
) -> None:
    out = tmp_path / "o"
    args = [str(archive.root), "--out", str(out), "--workers", "0", "--fail-on", fail_on]
    assert _invoke(*args)[0] == code


def test_fail_on_is_not_triggered_below_the_threshold(tmp_path: Path) -> None:
    write_vector(tmp_path / "data" / "seoul.geojson", *SEOUL)  # allow
    write_raster(tmp_path / "data" / "aerial.tif", *BUSAN, res_deg=0.00001)  # review
    args = [str(tmp_path / "data"), "--out", str(tmp_path / "o"), "--workers", "0"]
    assert _invoke(*args, "--fail-on", "deny")[0] == 0
    assert _invoke(*args, "--fail-on", "review")[0] == 20


def test_fail_on_ignores_error_rows() -> None:
    assert fail_on_exit_code(Counter(error=5, allow=1), "allow_with_conditions") == 0
    assert fail_on_exit_code(Counter(deny=1), None) == 0


@pytest.mark.parametrize(
    "args",
    [["--fail-on", "maybe"], [], ["--pack", "no-such-pack"]],
    ids=["bad-fail-on", "no-paths", "unknown-pack"],
)
def test_unusable_arguments_exit_2(archive: Archive, tmp_path: Path, args: list[str]) -> None:
    paths = [] if args == [] else [str(archive.root)]
    code, output = _invoke(*paths, "--out", str(tmp_path / "o"), *args)
    assert code == 2, output
    assert not (tmp_path / "o" / "results.jsonl").exists()


def _many(root: Path, n: int) -> list[Path]:
    """``n`` files copied from three small originals (copying is faster than writing)."""
    seeds = [
        write_vector(root / "seed" / "a.geojson", *SEOUL),
        write_vector(root / "seed" / "b.gpkg", *BUSAN),
        write_raster(root / "seed" / "c.tif", *SEOUL),
    ]
    out = []
    for i in range(n):
        seed = seeds[i % 3]
        dst = root / "data" / f"d{i // 50:02d}" / f"f{i:04d}{seed.suffix}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        out.append(Path(shutil.copyfile(seed, dst)))
    return out


def _rows(out: Path) -> list[dict[str, object]]:
    path = out / "results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def test_killed_run_resumes_without_checking_a_file_twice(tmp_path: Path) -> None:
    files = _many(tmp_path, 450)
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "compliance.cli.audit", str(tmp_path / "data"), "--out", str(out),
           "--workers", "2"]  # fmt: skip
    with (tmp_path / "first.log").open("w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while len(_rows(out)) < 60 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done_before = [r["path"] for r in _rows(out)]
    assert 60 <= len(done_before) < len(files), "the run was not cut off midway"
    # The pool's processes notice the audit is gone and leave instead of lingering.
    _, alive = psutil.wait_procs(workers, timeout=15)
    for p in alive:
        p.kill()
    assert alive == []

    second = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("(done earlier)") == len(done_before)
    paths = [r["path"] for r in _rows(out)]
    assert len(paths) == len(set(paths)), "a file was checked twice"
    assert set(paths) == {str(f.resolve()) for f in files}, "a file was lost"
    assert paths[: len(done_before)] == done_before
    report = (out / "report.html").read_text()
    assert f'id="count-total"><span class="n">{len(files)}</span>' in report


def test_progress_bar_with_counts_and_eta_in_a_terminal(archive: Archive, tmp_path: Path) -> None:
    import pty
    import re

    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160", "TERM": "xterm"}
    cmd = [sys.executable, "-m", "compliance.cli.audit", str(archive.root), "--out",
           str(tmp_path / "o"), "--workers", "1"]  # fmt: skip
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert "13/13" in text and "ETA" in text
    assert "allow 7 · allow_with_conditions 1 · review 1 · deny 1 · error 3" in text
    assert "[ 1/13]" not in text  # a bar, not log lines


def test_unreachable_scheduler_stops_with_exit_1(archive: Archive, tmp_path: Path) -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, output = _invoke(str(archive.root / "kr"), "--out", str(tmp_path / "o"),
                               "--scheduler", "tcp://127.0.0.1:9")  # fmt: skip
    assert code == 1, output
    assert "mapgate audit: stopped:" in output and "rerun with --resume" in output
