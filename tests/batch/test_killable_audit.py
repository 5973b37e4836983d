"""Audits over files that hang or exhaust a check: every mode is bounded.

``mapgate audit`` with ``--workers 0, 1, 2`` and an audit on a real local Dask cluster
give an ``error`` row for each hostile GeoPackage and the usual verdicts for the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from compliance.batch.run import audit
from tests.api.killable_files import PLACES, hanging_gpkg, memory_gpkg, sleep_then_answer
from tests.batch.fixtures import EXPECTED, Archive, make_archive

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 8
MEMORY_MB = 256
HOSTILE = {
    "hostile/endless.gpkg": f"longer than the limit of {LIMIT_S} s",
    "hostile/cross.gpkg": f"longer than the limit of {LIMIT_S} s",
    "hostile/huge.gpkg": f"memory limit of {MEMORY_MB} MB",
}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    a = make_archive(tmp_path / "archive")
    hanging_gpkg(a.root / "hostile" / "endless.gpkg", "recursive-cte", PLACES[0])
    hanging_gpkg(a.root / "hostile" / "cross.gpkg", "cross-join", PLACES[1])
    memory_gpkg(a.root / "hostile" / "huge.gpkg", 700, PLACES[2])
    return a


def _by_rel(root: Path, rows: list) -> dict[str, dict]:
    base = root.resolve()
    return {Path(r["path"]).resolve().relative_to(base).as_posix(): r for r in rows}


def _assert_rows(root: Path, rows: list[dict]) -> None:
    by = _by_rel(root, rows)
    for rel, reason in HOSTILE.items():
        assert by[rel]["status"] == "error", by[rel]
        assert reason in by[rel]["error"], by[rel]["error"]
        assert by[rel]["verdict"] is None
    verdicts = {rel: r["verdict"] for rel, r in by.items() if r["status"] == "checked"}
    errors = {rel: r["error"] for rel, r in by.items() if r["status"] == "error"}
    assert verdicts == EXPECTED, errors
    assert sum(r["status"] == "error" for r in rows) == 3 + len(HOSTILE)


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_mapgate_audit_stops_the_hostile_files(
    archive: Archive, tmp_path: Path, workers: int
) -> None:
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "compliance.cli.audit", str(archive.root), "--out", str(out),
         "--workers", str(workers), "--timeout", str(LIMIT_S), "--memory-mb", str(MEMORY_MB)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    _assert_rows(archive.root, rows)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("mapgate-worker-")]


def test_dask_audit_stops_the_hostile_files(client: object, archive: Archive) -> None:
    rows = list(audit([archive.root], scheduler=client, timeout=LIMIT_S, memory_mb=MEMORY_MB))
    _assert_rows(archive.root, [r.model_dump(mode="json") for r in rows])


def test_the_pool_kills_and_replaces_a_worker_past_its_deadline(tmp_path: Path) -> None:
    from functools import partial

    from compliance import Checker
    from compliance.isolation.pool import CheckLimits, CheckPool, CheckStopped

    before = _children()
    pool = CheckPool(partial(Checker), 1, CheckLimits(timeout_s=5, memory_mb=None),
                     tmp_dir=tmp_path).start()  # fmt: skip
    try:
        first = _children() - before
        assert pool.run(sleep_then_answer, 0) == "done"
        with pytest.raises(CheckStopped) as stopped:
            pool.run(sleep_then_answer, 30)
        assert stopped.value.reason == "timeout"
        assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
                       for p in first)  # fmt: skip
        assert pool.run(sleep_then_answer, 0) == "done"  # a fresh worker
    finally:
        pool.close()
    assert list(tmp_path.iterdir()) == []


def test_an_audit_removes_folders_its_killed_predecessor_left(tmp_path: Path) -> None:
    # A process killed with SIGKILL never removes its workers' folders: an audit's next run
    # does, whichever ran before, and keeps those of processes still running.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(gone.stdout)
    assert not psutil.pid_exists(dead_pid)
    stale = tmp_path / f"mapgate-worker-{dead_pid}-abc123"
    (stale / "spill").mkdir(parents=True)
    (stale / "spill" / "part.tmp").write_bytes(b"x" * 1000)
    alive = tmp_path / f"mapgate-worker-{os.getpid()}-def456"
    alive.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    (data / "roads.gpkg").write_bytes((REPO / "sample_maps" / "kr_50k_roads.gpkg").read_bytes())
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "compliance.cli.audit", str(data), "--out", str(tmp_path / "out"),
         "--workers", "0", "--timeout", str(LIMIT_S)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert not stale.exists()
    assert alive.is_dir()
