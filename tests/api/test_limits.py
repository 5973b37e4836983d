"""Bad input gets a clear answer, never a 500: long names, dates past the calendar, crafted
cursors, a store that is down, archives that unpack past their limit; and per-key rate
limits, on a real ``mapgate serve`` process."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.main import create_app
from api.settings import Settings
from compliance import Checker
from compliance.readers import InputLimits, materialize
from compliance.readers.archive import ArchiveLimits
from tests.api.helpers import (
    ApiData,
    TestClient,
    auth,
    key_config,
    make_settings,
    servers,
    sqlite_url,
)

KiB = 1024
PROBLEM = "application/problem+json"


def post_bytes(c, name: str, content: bytes, who: str = "carol"):
    return c.post("/v1/checks", files={"file": (name, content)}, headers=auth(who))


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status
    return body


# --- file names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "size"),
    [("가", 256), ("가", 300), ("🗺", 1000), ("a가🗺", 300), ("é", 1000)],
    ids=["hangul-256", "hangul-300", "emoji-1000", "mixed-300", "latin-1000"],
)
def test_long_names_are_cut_by_utf8_bytes(
    api_client: TestClient, api_data: ApiData, stem: str, size: int
) -> None:
    suffix = ".geojson"
    name = suffix
    while len(name.encode()) < size:
        name = stem + name
    assert len(name.encode()) >= size > 255
    r = post_bytes(api_client, name, api_data.clear.read_bytes())
    assert r.status_code == 200, r.text
    kept = r.json()["input"]["name"]
    kept_bytes = kept.encode("utf-8")  # a whole number of characters: it encodes back
    assert len(kept_bytes) <= 255
    assert kept.endswith(suffix) and name.endswith(kept)
    assert r.json()["verdict"] == "allow"


# --- dates and cursors ----------------------------------------------------------------


def _cursor(moment: object, id_: object = "x") -> str:
    return base64.urlsafe_b64encode(json.dumps([moment, id_]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "since",
    [
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:00:00-23:59",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:59:59+14:00",
    ],
)
@pytest.mark.parametrize("who", ["alice", "carol"])
def test_dates_out_of_range_are_422(api_client: TestClient, since: str, who: str) -> None:
    r = api_client.get("/v1/checks", params={"since": since}, headers=auth(who))
    assert "out of range" in _problem(r, 422)["detail"]


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("9999-12-31T23:59:59-01:00"),
        _cursor("0001-01-01T00:00:00+05:00"),
        _cursor("9999-12-31T23:59:59.999999-00:01", 7),
        _cursor(["2026-01-01"], {"a": 1}),
        _cursor(1e308),
        "A" * 500,
    ],
)
def test_crafted_cursors_are_422(api_client: TestClient, cursor: str) -> None:
    r = api_client.get("/v1/checks", params={"cursor": cursor}, headers=auth("carol"))
    assert _problem(r, 422)["title"] == "Invalid cursor"


def test_control_dates_in_range_answer(api_client: TestClient) -> None:
    for since in ("9999-12-31T23:59:59+01:00", "0001-01-01T00:00:00-01:00"):
        r = api_client.get("/v1/checks", params={"since": since}, headers=auth("carol"))
        assert r.status_code == 200, r.text


# --- the store being down --------------------------------------------------------------


def _requests(c: TestClient, api_data: ApiData) -> list[httpx.Response]:
    return [
        post_bytes(c, "clear.geojson", api_data.clear.read_bytes(), who="alice"),
        c.get("/v1/checks", headers=auth("carol")),
        c.get("/v1/checks", params={"since": "2026-01-01T00:00:00Z"}, headers=auth("alice")),
        c.get("/v1/checks/some-id", headers=auth("alice")),
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["dropped", "refusing"])
def test_store_down_is_503_on_every_route_that_needs_it(
    pg_url: str, api_data: ApiData, api_checker: Checker, how: str
) -> None:
    app = create_app(make_settings(pg_url), checker=api_checker)
    admin_url = make_url(pg_url).set(database="postgres")
    name = make_url(pg_url).database
    with TestClient(app) as c:
        assert post_bytes(c, "a.geojson", api_data.clear.read_bytes()).status_code == 200
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if how == "dropped":
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            else:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :d AND pid <> pg_backend_pid()"
                    ),
                    {"d": name},
                )
        try:
            for r in _requests(c, api_data):
                body = _problem(r, 503)
                assert body["detail"] == "the audit store does not answer; try again later"
                assert int(r.headers["retry-after"]) > 0
            assert c.get("/readyz").status_code == 503
        finally:
            if how == "refusing":
                with admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()


def test_sqlite_store_gone_is_503(tmp_path: Path, api_data: ApiData, api_checker) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    app = create_app(make_settings(sqlite_url(folder / "audit.sqlite")), checker=api_checker)
    with TestClient(app) as c:
        app.state.store.engine.dispose()  # no connection kept open on the old file
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        folder.write_text("a file where the store's folder was")
        for r in _requests(c, api_data):
            _problem(r, 503)


# --- archives --------------------------------------------------------------------------


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _text_padding(size: int) -> bytes:
    """Bytes that deflate about 3:1 to 6:1, like a table of numbers."""
    line = b"".join(b"%08d,%08d,%012.4f\n" % (i, i * 7919 % 99991, i * 0.37) for i in range(4096))
    return (line * (size // len(line) + 1))[:size]


@pytest.fixture
def small_limits(tmp_path: Path, api_data: ApiData, uploads: Path) -> Iterator[TestClient]:
    """Uploads up to 256 KiB: archives may then unpack to 512 KiB (2x), under ``uploads``."""
    settings = make_settings(
        sqlite_url(tmp_path / "audit.sqlite"),
        max_upload_bytes=256 * KiB,
        tmp_dir=uploads,
        packs=[str(api_data.pack)],
        zones=str(api_data.zones),
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"pad.bin": bytes(600 * KiB)}, "zeros, about 1000:1"),
        ({"pad.csv": _text_padding(600 * KiB)}, "text, about 5:1"),
        ({f"part{i}.bin": bytes(60 * KiB) for i in range(10)}, "ten members of 60 KiB"),
        ({"pad.bin": bytes(2 * 1024 * KiB)}, "zeros, 2 MiB"),
    ],
    ids=["zeros", "text", "many", "zeros-2m"],
)
def test_archives_unpack_to_at_most_twice_the_upload_limit(
    small_limits: TestClient, api_data: ApiData, uploads: Path, members: dict, why: str
) -> None:
    content = _zip({"data.geojson": api_data.clear.read_bytes(), **members})
    assert len(content) < 256 * KiB, why
    r = post_bytes(small_limits, "bundle.zip", content)
    body = _problem(r, 422)
    assert body["type"] == "urn:mapgate:problem:unsafe-archive"
    assert f"past {512 * KiB} bytes" in body["detail"]
    # Nothing of the upload is left; the running check workers keep folders of their own.
    assert [p for p in uploads.iterdir() if not p.name.startswith("mapgate-worker-")] == []


def test_control_an_archive_under_the_limit_is_checked(
    small_limits: TestClient, api_data: ApiData
) -> None:
    content = _zip({"data.geojson": api_data.clear.read_bytes(), "readme.txt": bytes(400 * KiB)})
    r = post_bytes(small_limits, "bundle.zip", content)
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "review"  # the extra member leaves unchecked


def test_the_default_unpack_limit_is_well_under_2_gib() -> None:
    settings = Settings(dev=True)
    assert settings.unpacked_bytes_limit == 2 * settings.max_upload_bytes < 2 * 1024**3
    assert Settings(dev=True, max_unpacked_bytes=5 * KiB).unpacked_bytes_limit == 5 * KiB


@pytest.mark.parametrize("kind", ["path", "bytes"])
def test_archives_unpack_under_the_configured_folder(
    tmp_path: Path, api_data: ApiData, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen, system = tmp_path / "chosen", tmp_path / "system"
    chosen.mkdir()
    system.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(system))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(_zip({"data.geojson": api_data.clear.read_bytes()}))
    limits = InputLimits(archive=ArchiveLimits(max_total_bytes=KiB * KiB), tmp_dir=chosen)
    source = archive if kind == "path" else archive.read_bytes()
    with materialize(source, name="bundle.zip", limits=limits) as local:
        assert local.path.is_relative_to(chosen)
        assert list(system.iterdir()) == []
    assert list(chosen.iterdir()) == []


# --- rate limits, on a real server ------------------------------------------------------


@pytest.fixture
def serve(tmp_path: Path, api_data: ApiData, uploads: Path) -> Iterator[object]:
    with servers(tmp_path, api_data, uploads) as start:
        yield start


def _post(base: str, api_data: ApiData, who: str) -> httpx.Response:
    files = {"file": ("clear.geojson", api_data.clear.read_bytes())}
    return httpx.post(f"{base}/v1/checks", files=files, headers=auth(who), timeout=60)


@pytest.mark.parametrize(("rate", "burst"), [(6, 3), (2, 1), (3, 5)])
def test_checks_are_limited_per_key(serve, api_data: ApiData, rate: int, burst: int) -> None:
    # Slow rates (a token per 10 to 30 s): the few requests below finish long before one
    # more token could come, however busy the machine.
    server = serve(MAPGATE_CHECK_RATE_PER_MINUTE=str(rate), MAPGATE_CHECK_BURST=str(burst))
    answers = [_post(server.base_url, api_data, "alice") for _ in range(burst + 2)]
    codes = [r.status_code for r in answers]
    assert codes[:burst] == [200] * burst and 429 in codes[burst:]
    refused = next(r for r in answers if r.status_code == 429)
    body = _problem(refused, 429)
    assert body["title"] == "Too Many Requests"
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 60 / rate + 1
    # Another key has its own bucket; an auditor is not limited.
    assert _post(server.base_url, api_data, "bob").status_code == 200
    assert all(_post(server.base_url, api_data, "carol").status_code == 200 for _ in range(3))
    metrics = httpx.get(f"{server.base_url}/metrics", headers=auth("carol")).text
    assert 'mapgate_rate_limited_total{bucket="checks",caller="alice"}' in metrics


def test_reads_are_limited_per_key(serve) -> None:
    server = serve(MAPGATE_READ_RATE_PER_MINUTE="6", MAPGATE_READ_BURST="4")
    paths = ["/v1/checks", "/v1/packs", "/v1/checks/none", "/v1/checks", "/v1/packs"]
    codes = [httpx.get(server.base_url + p, headers=auth("bob")).status_code for p in paths]
    assert codes == [200, 200, 404, 200, 429]
    assert httpx.get(f"{server.base_url}/v1/packs", headers=auth("alice")).status_code == 200


def test_workers_together_grant_no_more_than_the_limit(serve, api_data: ApiData) -> None:
    server = serve(MAPGATE_WORKERS="2", MAPGATE_CHECK_RATE_PER_MINUTE="2", MAPGATE_CHECK_BURST="4")
    # Each request on a new connection: the two workers share them as they come.
    codes = [_post(server.base_url, api_data, "alice").status_code for _ in range(10)]
    assert 1 <= codes.count(200) <= 4 and codes.count(429) >= 6, codes


def test_default_limits_are_on() -> None:
    settings = Settings(keys=key_config())
    assert settings.check_rate_per_minute > 0 and settings.read_rate_per_minute > 0


def test_a_bucket_refills_at_its_rate() -> None:
    from api.rate_limit import TokenBuckets

    buckets = TokenBuckets(per_minute=6, burst=2)  # a token every 10 s
    assert [buckets.take("k", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("k", now=0.0) == pytest.approx(10.0)
    assert buckets.take("k", now=4.0) == pytest.approx(6.0)  # refused: no token spent
    assert buckets.take("k", now=10.0) == 0.0
    assert buckets.take("other", now=10.0) == 0.0
    share = TokenBuckets.for_worker(30, 20, 4)
    assert (share.per_minute, share.burst) == (7.5, 5)
    assert TokenBuckets(per_minute=0, burst=1).take("k") == 0.0  # 0 turns it off
