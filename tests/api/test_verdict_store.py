"""The audit store on SQLite and on a real PostgreSQL server: save, read, page, concurrency."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.main import create_app
from api.verdict_store import BadCursor, VerdictStore, decode_cursor, encode_cursor
from compliance import Checker, Verdict
from compliance.disclosure import undisclosed_verdict
from tests.api.helpers import ApiData, TestClient, auth, make_settings, sqlite_url
from tests.api.store_race import open_stores_at_once


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "audit.sqlite")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[VerdictStore]:
    s = VerdictStore(store_url)
    yield s
    s.close()


@pytest.fixture(scope="module")
def verdict(api_data: ApiData, api_checker: Checker) -> Verdict:
    return api_checker.check(api_data.in_zone)


def variant(v: Verdict, minutes: int) -> Verdict:
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return v.model_copy(update={"id": str(uuid.uuid4()), "checked_at": at})


def test_backend_is_the_one_asked_for(store: VerdictStore, store_url: str) -> None:
    assert store.backend == ("sqlite" if store_url.startswith("sqlite") else "postgresql")
    assert store.ping()


def test_save_then_get(store: VerdictStore, verdict: Verdict) -> None:
    doc = verdict.model_dump_json()
    store.save(verdict, doc, "alice", "submitter")
    row = store.get(verdict.id)
    assert row is not None
    assert row.document == doc
    assert (row.caller, row.role, row.verdict) == ("alice", "submitter", "deny")
    assert row.input_sha256 == verdict.input.sha256
    assert row.input_name == verdict.input.name
    assert row.packs == [
        {"name": "api-test", "version": "1.2.3", "sha256": verdict.packs[0].sha256}
    ]
    assert row.checked_at == verdict.checked_at.astimezone(UTC).replace(tzinfo=None)
    assert store.get(verdict.id, caller="bob") is None
    assert store.get("missing") is None


def test_pages_are_newest_first_and_complete(store: VerdictStore, verdict: Verdict) -> None:
    saved = [variant(verdict, m) for m in range(7)]
    for v in saved:
        store.save(v, v.model_dump_json(), "alice" if int(v.id[0], 16) % 2 else "bob", "submitter")
    seen, cursor = [], None
    while True:
        rows, cursor = store.page(limit=3, cursor=cursor)
        seen += rows
        if cursor is None:
            break
    assert [r.id for r in seen] == [v.id for v in reversed(saved)]
    since = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    assert [r.id for r in store.page(since=since)[0]] == [saved[6].id, saved[5].id]
    assert store.page(verdict="allow")[0] == []
    alice = store.page(caller="alice")[0]
    assert all(r.caller == "alice" for r in alice)


def test_cursor_round_trip_and_rejection() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, 890)
    assert decode_cursor(encode_cursor(at, "abc")) == (at, "abc")
    for bad in ["", "!!", "e30", "WzEsMl0"]:
        with pytest.raises(BadCursor):
            decode_cursor(bad)


def test_concurrent_saves_lose_nothing(store: VerdictStore, verdict: Verdict) -> None:
    many = [variant(verdict, m) for m in range(200)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda v: store.save(v, v.model_dump_json(), "alice", "submitter"), many))
    rows, cursor = store.page(limit=500)
    assert cursor is None
    assert {r.id for r in rows} == {v.id for v in many}


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))
def test_workers_starting_at_once_all_open_the_store(store_url: str, attempt: int) -> None:
    # Each service worker creates the schema when it starts. Before, one could find the
    # table missing, lose the race to create it, and fail to start (6 of 10 rounds of six
    # processes on SQLite): `mapgate serve --workers 2` then died on a fresh store.
    outcome = open_stores_at_once(store_url, processes=6)
    assert outcome == ["ok"] * 6


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    VerdictStore(sqlite_url(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_app_round_trip(store_url: str, api_data: ApiData, api_checker: Checker) -> None:
    """POST, GET and the listing through the app, on each backend; then read the rows directly."""
    app = create_app(make_settings(store_url), checker=api_checker)
    with TestClient(app) as c:
        with api_data.in_zone.open("rb") as f:
            r = c.post("/v1/checks", files={"file": ("z.geojson", f)}, headers=auth("bob"))
        assert r.status_code == 200, r.text
        posted = r.json()
        assert c.get(f"/v1/checks/{posted['id']}", headers=auth("bob")).json() == posted
        items = c.get("/v1/checks", headers=auth("carol")).json()["items"]
        assert [i["id"] for i in items] == [posted["id"]]
        ready = c.get("/readyz").json()
        assert ready["store"] == ("sqlite" if store_url.startswith("sqlite") else "postgresql")
    fresh = VerdictStore(store_url)  # a new connection pool: the row is on disk / in the server
    row = fresh.get(posted["id"])
    fresh.close()
    # Stored whole; the submitter was answered with the zones withheld.
    assert row is not None and undisclosed_verdict(json.loads(row.document)) == posted
    assert row.caller == "bob"


@pytest.mark.postgres
def test_ci_postgres_script_reuses_a_running_server(pg_server_url: str) -> None:
    """.ci/postgres.sh is idempotent: with the server up it only prints the URL."""
    import subprocess

    from sqlalchemy.engine import make_url

    port = make_url(pg_server_url).port or 5432
    out = subprocess.run(
        ["bash", str(Path(__file__).resolve().parents[2] / ".ci" / "postgres.sh")],
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "MAPGATE_PG_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == f"postgresql://postgres@127.0.0.1:{port}/postgres"
    assert "already answers" in out.stderr
