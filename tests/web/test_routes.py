"""The page's routes without a browser: what they send, who may list what, what ships."""

from __future__ import annotations

import re
import tomllib

from tests.api.fixtures import *  # noqa: F403 - fixtures
from tests.api.helpers import REPO, ApiData, TestClient, auth

MB = 1024 * 1024
WEB = REPO / "api" / "web"
ASSETS_PKG = "compliance.web_assets"
ASSETS = REPO / "compliance" / "web_assets"


def test_the_page_is_open_and_runs_only_its_own_files(api_client: TestClient) -> None:
    r = api_client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "unsafe" not in policy
    for testid in ("upload", "verdict", "findings", "conditions", "map", "history"):
        assert f'data-testid="{testid}"' in r.text
    assert "<script>" not in r.text  # no inline script: the policy would refuse it
    for url in re.findall(r'(?:src|href)="([^"#]+)"', r.text):
        assert url.startswith("/"), url
        assert api_client.get(url).status_code == 200, url


def test_docs_load_nothing_from_elsewhere(api_client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = api_client.get(path).text
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)
        assert urls and all(u.startswith("/") for u in urls), (path, urls)
        for url in urls:
            assert api_client.get(url).status_code == 200, url
    assert '"validatorUrl": null' in api_client.get("/docs").text


def test_me_names_the_key_and_its_role(api_client: TestClient) -> None:
    assert api_client.get("/v1/me", headers=auth("carol")).json() == {
        "name": "carol",
        "role": "auditor",
    }
    assert api_client.get("/v1/me", headers=auth("alice")).json() == {
        "name": "alice",
        "role": "submitter",
    }
    assert api_client.get("/v1/me").status_code == 401


def test_only_auditors_list_by_caller(api_client: TestClient, api_data: ApiData) -> None:
    for key in ("alice", "bob"):
        files = {"file": ("clear.geojson", api_data.clear.read_bytes())}
        assert api_client.post("/v1/checks", files=files, headers=auth(key)).status_code == 200
    by_alice = api_client.get("/v1/checks", params={"caller": "alice"}, headers=auth("carol"))
    assert {i["caller"] for i in by_alice.json()["items"]} == {"alice"}
    everyone = api_client.get("/v1/checks", headers=auth("carol")).json()["items"]
    assert {i["caller"] for i in everyone} == {"alice", "bob"}
    assert (
        api_client.get("/v1/checks", params={"caller": "bob"}, headers=auth("alice")).status_code
        == 403
    )
    own = api_client.get("/v1/checks", params={"caller": "alice"}, headers=auth("alice")).json()
    assert {i["caller"] for i in own["items"]} == {"alice"}


def test_every_web_file_ships_in_the_package_and_the_vendored_ones_are_recorded() -> None:
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    for root, patterns in ((WEB, package_data["api.web"]), (ASSETS, package_data[ASSETS_PKG])):
        files = {p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        code = {p for p in files if p.suffix in {".py", ".sh"}}
        assert {p for pat in patterns for p in root.glob(pat) if p.is_file()} == files - code
    vendor = [p for p in (ASSETS / "vendor").rglob("*") if p.is_file()]
    assert all(p.stat().st_size < 5 * MB for p in vendor)
    assert sum(p.stat().st_size for p in vendor) < 4 * MB
    readme = (ASSETS / "README.md").read_text()
    for folder in {p.relative_to(ASSETS / "vendor").parts[0] for p in vendor}:
        assert f"`{folder}/" in readme, folder
        assert (ASSETS / "vendor" / folder / "LICENSE").exists(), folder
