"""POST/GET /v1/checks through the real app (TestClient): verdicts, roles, the audit listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from compliance import Checker
from tests.api.helpers import ApiData, TestClient, auth

VOLATILE = {"id", "checked_at", "duration_ms"}


def post_file(
    c: TestClient, path, who: str = "alice", data: dict | None = None, params: dict | None = None
):
    with path.open("rb") as f:
        return c.post(
            "/v1/checks",
            files={"file": (path.name, f, "application/octet-stream")},
            data=data or {},
            params=params or {},
            headers=auth(who),
        )


@pytest.mark.parametrize(
    ("sample", "expected"),
    [("clear", "allow"), ("in_zone", "deny"), ("raster", "allow_with_conditions")],
)
def test_post_returns_the_library_verdict(
    api_client: TestClient, api_data: ApiData, api_checker: Checker, sample: str, expected: str
) -> None:
    path = getattr(api_data, sample)
    r = post_file(api_client, path, who="carol")  # an auditor: submitters see less of the zones
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["verdict"] == expected
    direct = api_checker.check(path, name=path.name).model_dump(mode="json")
    assert set(body) == set(direct)
    for key in set(direct) - VOLATILE:
        assert body[key] == direct[key], key
    assert body["input"]["name"] == path.name


def test_server_timing_names_each_stage(api_client: TestClient, api_data: ApiData) -> None:
    r = post_file(api_client, api_data.clear, who="carol")  # stage times: auditors only
    parts = dict(p.strip().split(";dur=") for p in r.headers["server-timing"].split(","))
    assert list(parts) == ["upload", "check", "cleanup", "store"]
    assert float(parts["check"]) >= r.json()["duration_ms"] * 0.9


def test_form_fields_reach_the_check(api_client: TestClient, api_data: ApiData) -> None:
    form = {"destination": "KR", "purpose": "research", "packs": "api-test"}
    r = post_file(api_client, api_data.clear, data=form)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["request"]["destination"] == "KR"
    assert body["request"]["purpose"] == "research"
    assert [p["name"] for p in body["packs"]] == ["api-test"]


def test_stored_verdict_is_the_returned_one(api_client: TestClient, api_data: ApiData) -> None:
    posted = post_file(api_client, api_data.in_zone).json()
    r = api_client.get(f"/v1/checks/{posted['id']}", headers=auth("alice"))
    assert r.status_code == 200
    assert r.json() == posted


def test_submitter_never_sees_zone_ids(api_client: TestClient, api_data: ApiData) -> None:
    r = post_file(api_client, api_data.in_zone, who="alice")
    assert r.status_code == 200
    assert "mil-001" not in r.text
    assert r.json()["zones"] == {"touched": True, "classes": ["military"]}
    again = api_client.get(f"/v1/checks/{r.json()['id']}", headers=auth("alice"))
    assert "mil-001" not in again.text


@pytest.mark.parametrize("how", ["query", "form"])
def test_auditor_may_reveal_zones(api_client: TestClient, api_data: ApiData, how: str) -> None:
    kwargs = (
        {"params": {"reveal_zones": "true"}}
        if how == "query"
        else {"data": {"reveal_zones": "true"}}
    )
    r = post_file(api_client, api_data.in_zone, who="carol", **kwargs)
    assert r.status_code == 200, r.text
    zones = r.json()["zones"]
    assert zones["revealed"] is True
    assert [h["zone_id"] for h in zones["hits"]] == ["mil-001"]


@pytest.mark.parametrize("how", ["query", "form"])
def test_submitter_may_not_reveal_zones(
    api_client: TestClient, api_data: ApiData, how: str
) -> None:
    kwargs = (
        {"params": {"reveal_zones": "true"}}
        if how == "query"
        else {"data": {"reveal_zones": "true"}}
    )
    r = post_file(api_client, api_data.in_zone, who="alice", **kwargs)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "mil-001" not in r.text
    listing = api_client.get("/v1/checks", headers=auth("carol")).json()
    assert listing["items"] == []  # refused before anything was checked or stored


def test_submitter_reads_only_its_own(api_client: TestClient, api_data: ApiData) -> None:
    mine = post_file(api_client, api_data.clear, who="alice").json()["id"]
    theirs = post_file(api_client, api_data.clear, who="bob").json()["id"]
    assert api_client.get(f"/v1/checks/{theirs}", headers=auth("alice")).status_code == 404
    assert api_client.get(f"/v1/checks/{mine}", headers=auth("alice")).status_code == 200
    ids = [i["id"] for i in api_client.get("/v1/checks", headers=auth("alice")).json()["items"]]
    assert ids == [mine]


def test_auditor_reads_everything(api_client: TestClient, api_data: ApiData) -> None:
    a = post_file(api_client, api_data.clear, who="alice").json()["id"]
    b = post_file(api_client, api_data.in_zone, who="bob").json()["id"]
    items = api_client.get("/v1/checks", headers=auth("carol")).json()["items"]
    assert {i["id"] for i in items} == {a, b}
    by_id = {i["id"]: i for i in items}
    assert by_id[a]["caller"] == "alice" and by_id[b]["caller"] == "bob"
    assert by_id[b]["verdict"] == "deny"
    assert by_id[b]["packs"] == [
        {"name": "api-test", "version": "1.2.3", "sha256": by_id[b]["packs"][0]["sha256"]}
    ]
    assert len(by_id[b]["input_sha256"]) == 64
    assert api_client.get(f"/v1/checks/{a}", headers=auth("carol")).status_code == 200


def test_listing_filters_and_pages(api_client: TestClient, api_data: ApiData) -> None:
    posted = [post_file(api_client, api_data.clear).json() for _ in range(5)]
    denied = post_file(api_client, api_data.in_zone).json()
    h = auth("carol")
    only_deny = api_client.get("/v1/checks", params={"verdict": "deny"}, headers=h).json()
    assert [i["id"] for i in only_deny["items"]] == [denied["id"]]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api_client.get("/v1/checks", params=params, headers=h).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and set(seen) == {p["id"] for p in posted} | {denied["id"]}
    items = api_client.get("/v1/checks", headers=h).json()["items"]
    times = [datetime.fromisoformat(i["checked_at"]) for i in items]
    assert times == sorted(times, reverse=True)

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api_client.get("/v1/checks", params={"since": future}, headers=h).json()["items"] == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(api_client.get("/v1/checks", params={"since": past}, headers=h).json()["items"]) == 6


def test_packs_lists_loaded_packs(api_client: TestClient, api_checker: Checker) -> None:
    r = api_client.get("/v1/packs", headers=auth("alice"))
    assert r.status_code == 200
    body = r.json()
    assert body["packs"] == [
        {
            "name": "api-test",
            "version": "1.2.3",
            "sha256": api_checker.packs[0].sha256,
            "title": "API test pack",
            "jurisdiction": "nowhere",
            "optional": False,
        }
    ]
    assert body["fingerprint"] is None and body["zones"] is None  # auditors only
    body = api_client.get("/v1/packs", headers=auth("carol")).json()
    assert body["fingerprint"] == api_checker.fingerprint
    assert body["zones"]["source"] == str(api_checker.zones.source)


@pytest.mark.parametrize("crs", ["IAU_2015:30100", "EPSG:32760"])
def test_rasters_on_the_moon_or_across_the_antimeridian_get_a_verdict_not_a_500(
    api_client: TestClient, tmp_path, crs: str
) -> None:
    # A lunar CRS (PROJ refuses to relate it to WGS84) raised inside the check; a UTM zone
    # 60 raster reaching past 180° is answered with a footprint in one piece.
    from rasterio.transform import from_origin

    from tests.builders import write_raster

    origin = (10.0, 10.0, 0.001) if crs.startswith("IAU") else (766_875.0, 8_175_000.0, 500.0)
    path = write_raster(tmp_path / "r.tif", crs, from_origin(*origin, origin[2]), 200, 200)
    r = post_file(api_client, path)
    assert r.status_code == 200, r.text
    body = r.json()
    if crs.startswith("IAU"):
        assert body["verdict"] == "review"  # cannot be placed on the Earth
    else:
        west, _, east, _ = body["profile"]["bounds_wgs84"]
        assert east - west < 1.0
