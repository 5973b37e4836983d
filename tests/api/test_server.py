"""A real ``mapgate serve`` process on loopback: streaming, cut-off, kill -9, concurrency."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from api.verdict_store import VerdictStore
from tests.api.helpers import (
    REPO,
    ApiData,
    Server,
    auth,
    free_port,
    point_geojson,
    servers,
    sqlite_url,
    stop_server,
    wait_ready,
)
from tests.builders import GMT_POINT

pytestmark = pytest.mark.slow

BOUNDARY = "mapgate-test-boundary"
MiB = 1024 * 1024


def multipart_stream(filename: str, size: int, chunk: int = MiB) -> Iterator[bytes]:
    """A multipart body whose ``file`` part is ``size`` bytes, made on the fly."""
    yield (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = b"\x00mapgate" * (chunk // 8)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _spooled(uploads: Path) -> list[Path]:
    """Upload folders under the spool (check workers keep folders of their own there)."""
    return [p for p in uploads.iterdir() if p.name.startswith("mapgate-upload-")]


@pytest.fixture
def serve(tmp_path: Path, api_data: ApiData, uploads: Path) -> Iterator[object]:
    with servers(tmp_path, api_data, uploads) as start:
        yield start
    assert list(uploads.iterdir()) == [], "temporary files were left behind"


def test_big_upload_streams_with_flat_memory(serve, uploads: Path) -> None:
    server = serve(MAPGATE_MAX_UPLOAD_BYTES=str(2048 * MiB))
    proc = psutil.Process(server.process.pid)
    httpx.get(f"{server.base_url}/healthz")
    baseline = proc.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        r = httpx.post(
            f"{server.base_url}/v1/checks",
            content=multipart_stream("big.bin", 400 * MiB),
            headers=auth("alice") | {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            timeout=120,
        )
    finally:
        done.set()
        sampler.join()
    assert r.status_code == 422, r.text  # read in full, then found not to be geodata
    assert r.headers["content-type"] == "application/problem+json"
    growth = (peak - baseline) / MiB
    assert growth < 64, f"server RSS grew by {growth:.0f} MiB for a 400 MiB upload"
    assert _spooled(uploads) == []


def _raw_request(port: int, head: str, body_chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send a request chunk by chunk until the server answers; returns (answer, body bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head.encode())
    sent = 0
    answer = b""
    sock.setblocking(False)
    try:
        for chunk in body_chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            try:
                sock.setblocking(True)
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            finally:
                sock.setblocking(False)
            sent += len(chunk)
            time.sleep(0.002)
        sock.setblocking(True)
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    finally:
        sock.close()
    return answer, sent


def _post_head(key: str, length_header: str) -> str:
    """The head of a raw multipart POST /v1/checks, framed by ``length_header``."""
    return (
        "POST /v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"{length_header}\r\n\r\n"
    )


def test_upload_is_cut_off_as_soon_as_it_passes_the_limit(serve, uploads: Path) -> None:
    server = serve(MAPGATE_MAX_UPLOAD_BYTES=str(MiB))
    key = auth("alice")["Authorization"]
    head = _post_head(key, "Transfer-Encoding: chunked")
    answer, sent = _raw_request(server.port, head, multipart_stream("x.tif", 200 * MiB, 64 * 1024))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert sent < 8 * MiB, f"the server read {sent / MiB:.0f} MiB before refusing"
    time.sleep(0.2)
    assert _spooled(uploads) == []


def test_content_length_over_the_limit_is_refused_before_the_body(serve) -> None:
    server = serve(MAPGATE_MAX_UPLOAD_BYTES=str(MiB))
    key = auth("alice")["Authorization"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_post_head(key, f"Content-Length: {100 * MiB}").encode())
        answer = sock.recv(65536)  # no body byte was sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_verdict_survives_kill_9_right_after_the_answer(
    serve, request: pytest.FixtureRequest, tmp_path: Path, api_data: ApiData, backend: str
) -> None:
    store_url = (
        sqlite_url(tmp_path / "kill.sqlite")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    server = serve(store_url)
    with api_data.in_zone.open("rb") as f:
        r = httpx.post(
            f"{server.base_url}/v1/checks",
            files={"file": ("z.geojson", f)},
            headers=auth("alice"),
            timeout=30,
        )
    os.kill(server.process.pid, signal.SIGKILL)
    assert r.status_code == 200, r.text
    server.process.wait(timeout=10)
    store = VerdictStore(store_url)
    row = store.get(r.json()["id"])
    store.close()
    assert row is not None
    assert row.verdict == "deny" and row.caller == "alice"
    serve(store_url)  # a restart removes the folders the killed server left behind


def test_other_requests_go_on_while_a_check_runs(serve, tmp_path: Path) -> None:
    server = serve()
    big = tmp_path / "many.geojson"
    big.write_bytes(point_geojson(10.5, 10.5, 200_000))
    result: dict[str, object] = {}

    def slow_post() -> None:
        t0 = time.monotonic()
        with big.open("rb") as f:
            result["r"] = httpx.post(
                f"{server.base_url}/v1/checks",
                files={"file": ("many.geojson", f)},
                headers=auth("alice"),
                timeout=120,
            )
        result["elapsed"] = time.monotonic() - t0

    worker = threading.Thread(target=slow_post)
    worker.start()
    latencies = []
    with httpx.Client(base_url=server.base_url) as c:
        while worker.is_alive():
            t0 = time.monotonic()
            assert c.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - t0)
            time.sleep(0.02)
    worker.join()
    r = result["r"]
    assert isinstance(r, httpx.Response) and r.status_code == 200, r
    assert float(result["elapsed"]) > 0.5  # the check really took a while
    assert len(latencies) >= 10
    assert max(latencies) < 0.5, f"health check waited {max(latencies):.2f} s behind the check"


def test_several_workers(serve, api_data: ApiData) -> None:
    server = serve(MAPGATE_WORKERS="2")
    ids = set()
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        for _ in range(6):
            r = c.post(
                "/v1/checks",
                files={"file": ("c.geojson", api_data.clear.read_bytes())},
                headers=auth("bob"),
            )
            assert r.status_code == 200, r.text
            ids.add(r.json()["id"])
        listed = {i["id"] for i in c.get("/v1/checks", headers=auth("carol")).json()["items"]}
    assert listed == ids
    assert len(psutil.Process(server.process.pid).children()) >= 2


def test_dev_server_checks_the_sample_maps(tmp_path: Path, uploads: Path) -> None:
    """`mapgate serve --dev` with the built-in packs and zones, as the README shows it."""
    from compliance import Checker

    samples = sorted(
        p for p in (REPO / "sample_maps").iterdir() if p.suffix in {".gpkg", ".tif", ".geojson"}
    )
    assert samples, "no sample maps"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPGATE_")}
    env.update(
        MAPGATE_STORE_URL=sqlite_url(tmp_path / "dev.sqlite"),
        TMPDIR=str(uploads),
        PYTHONPATH=str(REPO),
    )
    port = free_port()
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from compliance.cli.main import main; main()", "serve", "--dev",
         "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    server = Server(process, f"http://127.0.0.1:{port}", port, tmp_path / "dev.log")
    try:
        wait_ready(server)
        checker = Checker()
        with httpx.Client(base_url=server.base_url, timeout=60) as c:
            for path in samples:
                r = c.post("/v1/checks", files={"file": (path.name, path.read_bytes())})
                assert r.status_code == 200, (path.name, r.text)
                assert r.json()["verdict"] == checker.check(path).verdict, path.name
                assert r.json()["input"]["name"] == path.name
            listed = c.get("/v1/checks").json()["items"]
        assert len(listed) == len(samples)
        assert {i["caller"] for i in listed} == {"dev"}
    finally:
        stop_server(server)
    assert list(uploads.iterdir()) == []


def test_client_leaving_mid_upload_leaves_no_file(serve, uploads: Path) -> None:
    server = serve()
    key = auth("alice")["Authorization"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_post_head(key, f"Content-Length: {10 * MiB}").encode())
        body = multipart_stream("half.tif", 10 * MiB, 256 * 1024)
        sock.sendall(next(body))  # the part's headers
        sock.sendall(next(body))  # one chunk of data, then the client goes away
        deadline = time.monotonic() + 5
        while not _spooled(uploads) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _spooled(uploads), "the upload never reached the disk"
    deadline = time.monotonic() + 5  # the socket is closed: the server must clean up
    while _spooled(uploads) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _spooled(uploads) == []
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_the_server_keeps_only_the_drivers_uploads_may_be_read_with(serve, api_data) -> None:
    # GMT text is harmless but off the upload list. Checked in a process of its own (the
    # tests' in-process apps), GDAL opens it and the check refuses it by its driver's name;
    # the server has unregistered that driver when it started, so GDAL never opens it.
    server = serve()
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        r = c.post("/v1/checks", files={"file": ("pins.gmt", GMT_POINT)}, headers=auth("alice"))
        assert r.status_code == 422, r.text
        assert "accepted as an upload" in r.json()["detail"]
        assert "OGR_GMT" not in r.json()["detail"]
        ok = c.post(
            "/v1/checks",
            files={"file": ("c.geojson", api_data.clear.read_bytes())},
            headers=auth("alice"),
        )
        assert ok.status_code == 200, ok.text


def test_a_pbf_upload_is_looked_through_in_a_capped_worker(serve, tmp_path: Path) -> None:
    # libosmium is loaded before the worker's address space is capped, as every reader.
    import numpy as np
    import osmium
    from osmium.osm import mutable

    rng = np.random.default_rng(62)
    precise = np.array([126.978, 37.566]) + rng.uniform(-0.003, 0.003, (30, 2))
    path = tmp_path / "upload.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    for i, (x, y) in enumerate(np.round(precise, 3).tolist()):
        writer.add_node(mutable.Node(id=i + 1, location=(x, y), tags={"amenity": "bench"}))
    for i, (x, y) in enumerate(precise.tolist()):
        writer.add_node(mutable.Node(id=1001 + i, location=(x, y), tags={}))
    writer.close()
    server = serve()
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        r = c.post("/v1/checks", files={"file": (path.name, path.read_bytes())},
                   headers=auth("alice"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert "MAPGATE-UNREAD-GEOMETRIES" in {f["rule_id"] for f in r.json()["findings"]}
    assert r.json()["verdict"] == "review"
