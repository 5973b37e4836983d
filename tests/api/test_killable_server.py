"""A real ``mapgate serve`` process against uploads that hang or exhaust a check.

Every check runs in a worker process that is killed past its time or memory limit; the
slot is freed, the submitter gets a 422 problem, /readyz is 503 only while every slot is
stuck, SIGTERM stops stuck checks, and folders of killed processes are removed at start.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.api.helpers import ApiData, Server, auth, servers
from tests.api.killable_files import HANGS, PLACES, hanging_gpkg, memory_gpkg, plain_gpkg

pytestmark = pytest.mark.slow

LIMIT_S = 4  # the time limit these servers run with


@pytest.fixture
def serve(tmp_path: Path, api_data: ApiData, uploads: Path) -> Iterator[object]:
    limits = {"MAPGATE_CHECK_CONCURRENCY": "2", "MAPGATE_CHECK_TIMEOUT_S": str(LIMIT_S)}
    with servers(tmp_path, api_data, uploads, stop_timeout=30, **limits) as start:
        yield start
    assert list(uploads.iterdir()) == [], "temporary folders were left behind"


def _post(server: Server, path: Path, timeout: float = 120) -> httpx.Response:
    with path.open("rb") as f:
        return httpx.post(f"{server.base_url}/v1/checks", files={"file": (path.name, f)},
                          headers=auth("alice"), timeout=timeout)  # fmt: skip


def _in_background(server: Server, paths: list[Path]) -> tuple[list[threading.Thread], dict]:
    answers: dict[str, httpx.Response | BaseException] = {}

    def post(path: Path) -> None:
        try:
            answers[path.name] = _post(server, path)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            answers[path.name] = exc

    threads = [threading.Thread(target=post, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    return threads, answers


def _stopped(r: object, reason: str) -> None:
    assert isinstance(r, httpx.Response), r
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:mapgate:problem:check-stopped"
    assert reason in body["detail"], body


def _uploads_in(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith("mapgate-upload-")]


@pytest.mark.parametrize("kind", sorted(HANGS))
def test_two_hanging_uploads_are_stopped_and_the_slots_freed(
    serve, tmp_path: Path, uploads: Path, api_data: ApiData, kind: str
) -> None:
    files = [hanging_gpkg(tmp_path / f"hang{i}.gpkg", kind, PLACES[i]) for i in range(2)]
    assert all(f.stat().st_size < 256 * 1024 for f in files)
    server = serve()
    threads, answers = _in_background(server, files)
    seen = set()
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        while any(t.is_alive() for t in threads):
            seen.add(c.get("/readyz").status_code)
            assert c.get("/healthz").status_code == 200
            time.sleep(0.05)
        for t in threads:
            t.join()
        for name in ("hang0.gpkg", "hang1.gpkg"):
            _stopped(answers[name], f"longer than the limit of {LIMIT_S} s")
        # Both slots were stuck at once: readiness said so, and says ready again after.
        deadline = time.monotonic() + 60
        while c.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            seen.add(503)
            time.sleep(0.1)
        assert seen == {200, 503}, seen
        assert c.get("/readyz").status_code == 200
        # Normal uploads are answered again, by fresh workers.
        ok = _post(server, api_data.in_zone)
        assert ok.status_code == 200 and ok.json()["verdict"] == "deny", ok.text
        control = _post(server, plain_gpkg(tmp_path / "plain.gpkg", PLACES[1]))
        assert control.status_code == 200, control.text
        metrics = c.get("/metrics", headers=auth("carol")).text
    assert 'mapgate_checks_stopped_total{reason="timeout"} 2.0' in metrics
    assert _uploads_in(uploads) == []
    assert "stopped (timeout)" in server.log.read_text()
    assert _stopped_rows(tmp_path) == [
        ("alice", name, size, "timeout")
        for name, size in sorted((f.name, f.stat().st_size) for f in files)
    ]


def _stopped_rows(tmp_path: Path) -> list[tuple]:
    """The audit store's record of stopped checks, read with SQLite directly."""
    with sqlite3.connect(tmp_path / "audit.sqlite") as db:
        rows = db.execute(
            "SELECT caller, input_name, input_size, reason FROM mapgate_stopped_checks"
            " ORDER BY input_name"
        ).fetchall()
    return [tuple(r) for r in rows]


def test_one_hanging_upload_leaves_the_other_slot_ready(
    serve, tmp_path: Path, api_data: ApiData
) -> None:
    server = serve()
    threads, answers = _in_background(server, [hanging_gpkg(tmp_path / "h.gpkg", "recursive-cte")])
    seen = set()
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        served = 0
        while threads[0].is_alive():
            seen.add(c.get("/readyz").status_code)
            if served < 3:  # the free slot answers while the other is stuck
                r = _post(server, api_data.clear)
                assert r.status_code == 200 and r.json()["verdict"] == "allow", r.text
                served += 1
            time.sleep(0.05)
    threads[0].join()
    _stopped(answers["h.gpkg"], "longer than the limit")
    assert served == 3
    assert seen == {200}


@pytest.mark.parametrize(("megabytes", "place"), [(600, PLACES[0]), (900, PLACES[1]),
                                                  (750, PLACES[2])])  # fmt: skip
def test_a_memory_blow_up_is_stopped(
    serve, tmp_path: Path, api_data: ApiData, megabytes: int, place: tuple
) -> None:
    path = memory_gpkg(tmp_path / "huge.gpkg", megabytes, place)
    assert path.stat().st_size < 256 * 1024
    server = serve(MAPGATE_CHECK_MEMORY_MB="256", MAPGATE_CHECK_TIMEOUT_S="60")
    r = _post(server, path)
    _stopped(r, "memory limit of 256 MB")
    assert _stopped_rows(tmp_path) == [("alice", path.name, path.stat().st_size, "memory")]
    again = _post(server, api_data.in_zone)  # a fresh worker took the slot
    assert again.status_code == 200 and again.json()["verdict"] == "deny", again.text
    control = _post(server, plain_gpkg(tmp_path / "plain.gpkg", place))
    assert control.status_code == 200, control.text


def _workers_of(server: Server) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children(recursive=True)


def _wait_for_upload(uploads: Path) -> None:
    deadline = time.monotonic() + 30
    while not _uploads_in(uploads) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uploads_in(uploads), "the upload never reached the disk"
    time.sleep(0.5)  # and the check started on it


def test_sigterm_during_a_stuck_check(serve, tmp_path: Path, uploads: Path) -> None:
    server = serve(MAPGATE_CHECK_TIMEOUT_S="600", MAPGATE_SHUTDOWN_GRACE_S="1")
    workers = _workers_of(server)
    assert len(workers) >= 2
    threads, answers = _in_background(server, [hanging_gpkg(tmp_path / "h.gpkg", "cross-join")])
    _wait_for_upload(uploads)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=25)  # the grace period and shutdown, not the 600 s limit
    threads[0].join(timeout=10)
    r = answers["h.gpkg"]
    assert isinstance(r, httpx.Response) and r.status_code == 503, r
    assert "shutting down" in r.json()["detail"]
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    assert list(uploads.iterdir()) == []


def test_kill_9_then_restart_removes_stale_folders(serve, tmp_path: Path, uploads: Path) -> None:
    server = serve(MAPGATE_CHECK_TIMEOUT_S="600")
    workers = _workers_of(server)
    threads, _ = _in_background(server, [hanging_gpkg(tmp_path / "h.gpkg", "recursive-cte")])
    _wait_for_upload(uploads)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    threads[0].join(timeout=30)
    psutil.wait_procs(workers, timeout=10)  # they die with the service, even mid-check
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    left = sorted(p.name for p in uploads.iterdir())
    assert any(n.startswith(f"mapgate-upload-{server.process.pid}-") for n in left), left
    assert any(n.startswith(f"mapgate-worker-{server.process.pid}-") for n in left), left
    # A folder of a live process (this test) is not stale and must stay.
    live = uploads / f"mapgate-upload-{os.getpid()}-keep"
    live.mkdir()
    serve()
    assert sorted(p.name for p in uploads.iterdir() if not p.name.startswith(
        "mapgate-worker-")) == [live.name]  # fmt: skip
    live.rmdir()


def _remediate(server: Server, path: Path, timeout: float = 120) -> httpx.Response:
    with path.open("rb") as f:
        return httpx.post(f"{server.base_url}/v1/remediations", files={"file": (path.name, f)},
                          headers=auth("alice"), timeout=timeout)  # fmt: skip


@pytest.mark.parametrize("kind", ["recursive-cte", "cross-join"])
def test_a_hanging_remediation_is_stopped_like_a_check(
    serve, tmp_path: Path, api_data: ApiData, kind: str
) -> None:
    # A remediation reads the upload as a check does: the same hostile file must be stopped
    # at the same limit, its slot freed and nothing of it left on disk.
    derivatives = tmp_path / "derivatives"
    server = serve(MAPGATE_REMEDIATION_DIR=str(derivatives))
    started = time.monotonic()
    r = _remediate(server, hanging_gpkg(tmp_path / "h.gpkg", kind, PLACES[0]))
    _stopped(r, "longer than the limit")
    assert time.monotonic() - started < 60  # the limit is 4 s; never the hang itself
    assert list(derivatives.iterdir()) == []
    ok = _remediate(server, api_data.clear)
    assert ok.status_code == 200, ok.text
    assert ok.json()["verdict"]["verdict"] == "allow"
