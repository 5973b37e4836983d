"""Fixtures of the browser tests: real ``mapgate serve`` processes and headless Chromium.

Every test module under tests/web gets them through its conftest; the fixtures are
module-scoped, so each module starts its own servers and Playwright.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import (
    KEYS,
    REPO,
    Server,
    free_port,
    key_config,
    sqlite_url,
    stop_server,
    wait_ready,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = REPO / "build" / "screenshots"
SAMPLES = REPO / "sample_maps"
# README's sample table.
SAMPLE_VERDICTS = {
    "kr_50k_roads.gpkg": "allow",
    "ortho_025m_israel.tif": "allow_with_conditions",
    "sat_10m_korea.tif": "review",
    "scan_no_crs.tif": "review",
    "kr_5k_buildings.gpkg": "deny",
}


def _serve(root: Path, *, dev: bool) -> Server:
    """``mapgate serve`` with the built-in packs and zones, as a user starts it."""
    uploads = root / "uploads"
    uploads.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPGATE_")}
    env.update(
        MAPGATE_STORE_URL=sqlite_url(root / "store.sqlite"),
        MAPGATE_TMP_DIR=str(uploads),
        # Derivatives wait here for their download, apart from the upload spool that must
        # end empty.
        MAPGATE_REMEDIATION_DIR=str(root / "remediations"),
        MAPGATE_CHECK_BURST="200",  # the tests upload more than a person would in a minute
        MAPGATE_READ_BURST="2000",
        TMPDIR=str(uploads),
        PYTHONPATH=str(REPO),
    )
    if not dev:
        env["MAPGATE_KEYS"] = json.dumps(key_config())
    port = free_port()
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "compliance.cli.serve", "--host", "127.0.0.1", "--port", str(port),
             *(["--dev"] if dev else [])],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", port, log)
    wait_ready(server)
    return server


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("web-keys")
    server = _serve(root, dev=False)
    yield server
    stop_server(server)
    assert list((root / "uploads").iterdir()) == []


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("web-dev")
    server = _serve(root, dev=True)
    yield server
    stop_server(server)
    assert list((root / "uploads").iterdir()) == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: CI must run the browser tests")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class WebPage:
    """A tab on the service with every request off loopback blocked and recorded."""

    page: Any
    base_url: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    def goto(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    def use_key(self, name: str) -> None:
        self.page.fill("#key-input", KEYS[name][0])
        self.page.click("#key-form button[type=submit]")
        self.page.wait_for_selector(f"#whoami:has-text('Acting as {name}')")

    def upload(self, path: Path, destination: str = "", reveal: bool = False) -> str:
        """Upload through the form; the verdict word the page shows."""
        page = self.page
        page.set_input_files("[data-testid=upload]", str(path))
        page.fill("#destination", destination)
        if reveal:
            page.check("#reveal")
        page.click("#upload-button")
        page.wait_for_selector("#upload-button:not([disabled])", timeout=120_000)
        page.wait_for_selector("[data-testid=verdict]:not(:empty)")
        assert "failed" not in (page.text_content("#status") or ""), page.text_content("#status")
        return str(page.text_content("[data-testid=verdict]"))

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def overflows(self) -> bool:
        return bool(self.page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth"))


def _is_error(kind: str, text: str) -> bool:
    # Asking /v1/me without a key is how the page learns it needs one.
    return kind == "error" and "status of 401" not in text


def open_page(browser: Any, server: Server, width: int = 1280, height: int = 900) -> WebPage:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    web = WebPage(page, server.base_url)

    def guard(route: Any) -> None:
        if route.request.url.startswith(server.base_url + "/"):
            route.continue_()
        else:
            web.outside.append(route.request.url)
            route.abort()

    def keep_body(response: Any) -> None:
        if response.request.resource_type in {"fetch", "xhr"}:
            try:
                web.bodies.append(response.text())
            except Exception:  # noqa: BLE001 - a body the browser already dropped
                pass

    page.route("**/*", guard)
    page.on("response", keep_body)
    page.on("pageerror", lambda exc: web.errors.append(str(exc)))
    page.on("console", lambda m: _is_error(m.type, m.text) and web.errors.append(m.text))
    return web
