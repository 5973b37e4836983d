"""/healthz, /readyz and /metrics; dev mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.main import create_app
from api.settings import Settings
from api.verdict_store import engine_for
from compliance import Checker
from tests.api.helpers import ApiData, TestClient, auth, make_settings, sqlite_url


def test_healthz_and_readyz_are_open(api_client: TestClient, api_checker: Checker) -> None:
    assert api_client.get("/healthz").json() == {"status": "ok"}
    r = api_client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "packs": ["api-test"],
        "zones": "loaded",
        "store": "sqlite",
    }
    assert str(api_checker.zones.source) not in r.text  # the source's name is for auditors


def test_readyz_is_503_when_the_store_is_gone(tmp_path: Path, api_checker: Checker) -> None:
    settings = make_settings(sqlite_url(tmp_path / "r.sqlite"))
    with TestClient(create_app(settings, checker=api_checker)) as c:
        assert c.get("/readyz").status_code == 200
        store = c.app.state.store
        store.engine.dispose()
        store.engine = engine_for(sqlite_url(tmp_path / "no-such-dir" / "x.sqlite"))
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"


def test_readyz_is_503_before_packs_are_loaded(tmp_path: Path) -> None:
    app = create_app(make_settings(sqlite_url(tmp_path / "n.sqlite")))
    with TestClient(app) as c:
        loaded = c.app.state.checker
        c.app.state.checker = None
        assert c.get("/readyz").status_code == 503
        c.app.state.checker = loaded
        assert c.get("/readyz").status_code == 200


def test_metrics_count_requests_verdicts_and_durations(
    api_client: TestClient, api_data: ApiData
) -> None:
    for path in (api_data.clear, api_data.in_zone, api_data.in_zone):
        with path.open("rb") as f:
            assert (
                api_client.post("/v1/checks", files={"file": f}, headers=auth("alice")).status_code
                == 200
            )
    api_client.post("/v1/checks", files={"file": ("x.geojson", b"nope")}, headers=auth("alice"))
    r = api_client.get("/metrics", headers=auth("carol"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'mapgate_verdicts_total{verdict="deny"} 2.0' in text
    assert 'mapgate_verdicts_total{verdict="allow"} 1.0' in text
    assert "mapgate_check_duration_seconds_count 4.0" in text
    assert 'mapgate_http_requests_total{method="POST",route="/v1/checks",status="200"} 3.0' in text
    assert 'mapgate_http_requests_total{method="POST",route="/v1/checks",status="422"} 1.0' in text


def test_dev_mode_needs_no_key_on_loopback(
    tmp_path: Path, api_checker: Checker, api_data: ApiData
) -> None:
    settings = Settings(store_url=sqlite_url(tmp_path / "d.sqlite"), dev=True)
    with TestClient(create_app(settings, checker=api_checker)) as c:
        with api_data.clear.open("rb") as f:
            r = c.post("/v1/checks", files={"file": f})
        assert r.status_code == 200, r.text
        items = c.get("/v1/checks").json()["items"]
        assert [(i["caller"], i["role"]) for i in items] == [("dev", "auditor")]


def test_dev_mode_refuses_other_hosts(tmp_path: Path, api_checker: Checker) -> None:
    settings = Settings(store_url=sqlite_url(tmp_path / "d.sqlite"), dev=True)
    app = create_app(settings, checker=api_checker)
    with TestClient(app, client=("203.0.113.7", 5000)) as c:
        r = c.get("/v1/packs")
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"


def test_keys_are_required_outside_dev_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no API keys"):
        Settings(store_url=sqlite_url(tmp_path / "k.sqlite"))


def test_openapi_documents_the_endpoints(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    assert {
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/packs",
        "/v1/checks",
        "/v1/checks/{check_id}",
    } <= set(spec["paths"])
    body = spec["paths"]["/v1/checks"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert body["schema"]["required"] == ["file"]
    assert set(body["schema"]["properties"]) == {
        "file",
        "packs",
        "destination",
        "purpose",
        "reveal_zones",
    }
    assert "413" in spec["paths"]["/v1/checks"]["post"]["responses"]
    assert api_client.get("/docs").status_code == 200
