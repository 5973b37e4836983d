"""The service decides which packs run; a submitter can add packs, never leave one out.
And the routes open without a key are exactly the ones docs/api.md names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Mount, Route

from api.main import build_checker, create_app
from compliance import Checker
from tests.api.helpers import TestClient, auth, make_settings, sqlite_url
from tests.rules.test_pack_policy import KOREA, buildings, custom_pack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def optional_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return custom_pack(tmp_path_factory.mktemp("packs"), "in", name="extra")


@pytest.fixture(scope="module")
def builtin_checker() -> Checker:
    """Every built-in pack and the demo zones: what the service loads by default."""
    return build_checker(make_settings("sqlite://"))


@pytest.fixture
def client(tmp_path: Path, builtin_checker: Checker) -> Iterator[TestClient]:
    settings = make_settings(sqlite_url(tmp_path / "audit.sqlite"))
    with TestClient(create_app(settings, checker=builtin_checker)) as c:
        yield c


@pytest.fixture
def client_with_extra(tmp_path: Path, optional_pack: Path) -> Iterator[TestClient]:
    """The built-in packs, and one optional pack a submitter may add."""
    settings = make_settings(
        sqlite_url(tmp_path / "audit.sqlite"), optional_packs=[str(optional_pack)]
    )
    with TestClient(create_app(settings)) as c:
        yield c


def post(c: TestClient, path: Path, packs: str | None, who: str = "alice"):
    with path.open("rb") as f:
        return c.post(
            "/v1/checks",
            files={"file": (path.name, f, "application/octet-stream")},
            data={"packs": packs} if packs is not None else {},
            headers=auth(who),
        )


@pytest.mark.parametrize("packs", ["in", "us-kba", "in,us-kba", "extra", " us-kba , extra "])
@pytest.mark.parametrize("place", KOREA, ids=lambda p: p[2])
def test_a_submitters_packs_cannot_leave_kr_out(
    request: pytest.FixtureRequest, tmp_path: Path, packs: str, place: tuple[float, float, str]
) -> None:
    client = request.getfixturevalue("client_with_extra" if "extra" in packs else "client")
    path = buildings(tmp_path / "houses.gpkg", *place)
    r = post(client, path, packs)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "deny"
    assert {"KR-SCALE-25K", "KR-SECURITY-ZONES-LARGE-SCALE"} <= {
        f["rule_id"] for f in body["findings"]
    }
    ran = [p["name"] for p in body["packs"]]
    assert ran[:3] == ["in", "kr", "us-kba"]  # the service's packs, always
    assert ("extra" in ran) == ("extra" in packs)  # the optional one only when asked for
    # The audit trail records what was answered.
    items = client.get("/v1/checks", headers=auth("carol")).json()["items"]
    assert [(i["id"], i["verdict"]) for i in items] == [(body["id"], "deny")]
    assert [p["name"] for p in items[0]["packs"]] == ran


def test_control_without_a_packs_field(client: TestClient, tmp_path: Path) -> None:
    path = buildings(tmp_path / "houses.gpkg", *KOREA[0])
    body = post(client, path, None).json()
    assert body["verdict"] == "deny"
    assert [p["name"] for p in body["packs"]] == ["in", "kr", "us-kba"]


def test_an_unknown_pack_is_a_bad_form_value(client: TestClient, tmp_path: Path) -> None:
    path = buildings(tmp_path / "houses.gpkg", *KOREA[0])
    r = post(client, path, "in,nope")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_packs_endpoint_says_which_packs_are_optional(client_with_extra: TestClient) -> None:
    packs = client_with_extra.get("/v1/packs", headers=auth("alice")).json()["packs"]
    assert {p["name"]: p["optional"] for p in packs} == {
        "in": False,
        "kr": False,
        "us-kba": False,
        "extra": True,
    }


def _documented_open_paths() -> set[str]:
    """The paths docs/api.md says answer without a key."""
    text = (REPO / "docs" / "api.md").read_text()
    (sentence,) = re.findall(r"Only ((?:`[^`]+`(?:, | and )?)+) are open", text)
    return set(re.findall(r"`([^`]+)`", sentence))


def _every_route(routes: list, prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path template, methods) of every route, also inside included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI keeps an included router whole
            yield from _every_route(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, Route):
            yield prefix + route.path, set(route.methods or {"GET"})
        elif isinstance(route, Mount):  # the page's static files: any path under it
            yield prefix + route.path + "/{path}", {"GET"}
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")


def test_open_routes_are_exactly_the_documented_ones(tmp_path: Path, api_checker: Checker) -> None:
    documented = _documented_open_paths()
    assert documented == {
        "/",
        "/static/{path}",
        "/static/vendor/{path}",
        "/healthz",
        "/readyz",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/v1/schema",
        "/v1/keys",
    }
    app = create_app(make_settings(sqlite_url(tmp_path / "a.sqlite")), checker=api_checker)
    opened = set()
    with TestClient(app) as c:
        routes = list(_every_route(app.routes))
        assert len(routes) >= 9
        for template, methods in routes:
            path = re.sub(r"\{[^}]+\}", "x", template)
            for method in sorted(methods - {"HEAD"}):
                r = c.request(method, path)
                if r.status_code != 401:
                    opened.add(template)
                else:
                    assert r.headers["content-type"] == "application/problem+json"
        assert opened == documented
        assert c.get("/docs/oauth2-redirect").status_code == 404
