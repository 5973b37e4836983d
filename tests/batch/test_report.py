"""The audit report: self-contained HTML, checked as text and in real headless Chromium."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.batch.report import render_report
from compliance.batch.results import AuditResult
from compliance.batch.run import audit
from tests.batch.fixtures import make_archive

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
COUNTS = {"total": 13, "allow": 7, "allow_with_conditions": 1, "review": 1, "deny": 1, "error": 3}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    archive = make_archive(root / "archive")
    out = root / "out"
    list(audit([archive.root], out=out, workers=0))
    return out / "report.html"


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the page may load nothing from anywhere
    for klass, n in COUNTS.items():
        assert f'id="count-{klass}"' in html and f'<span class="n">{n}</span>' in html


def test_report_escapes_file_names_and_errors() -> None:
    row = AuditResult(path="/data/<script>alert(1)</script>.tif", status="error",
                      error='bad "<b>" & worse', fingerprint="f")  # fmt: skip
    html = render_report([row])
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "&lt;b&gt;" in html


def test_report_without_footprints_says_so() -> None:
    row = AuditResult(path="/data/a.tif", status="error", error="unreadable", fingerprint="f")
    assert 'id="map-empty"' in render_report([row])


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium is not installed: CI must run the browser test (apt-get install -y chromium)"
            )
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.browser
def test_report_in_headless_chromium(browser: object, report: Path) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert problems == []
    assert requests == [report.as_uri()]  # nothing else was fetched
    for klass, n in COUNTS.items():
        assert page.locator(f"#count-{klass} .n").inner_text() == str(n)
    # Every located dataset is drawn, coloured by its verdict; zones are not drawn.
    assert page.locator("#map g.fp").count() == 10
    assert page.locator("#map g.fp.v-deny").count() == 1
    assert page.locator("#by-rule tbody tr", has_text="KR-IMAGERY-025M").count() == 1
    # Sorting by verdict puts errors last and deny just before them, then reverses.
    rows = page.locator("#files tbody tr")
    assert rows.count() == 13
    page.locator("#files th", has_text="verdict").click()
    verdicts = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(13)]
    assert verdicts[:7] == ["allow"] * 7 and verdicts[-4:] == ["deny", "error", "error", "error"]
    page.locator("#files th", has_text="verdict").click()
    assert rows.nth(0).locator("td").nth(1).inner_text() == "error"
    # The filter box hides the rows that do not match.
    page.fill("#filter", "ortho")
    assert [rows.nth(i).is_visible() for i in range(13)].count(True) == 1
    assert problems == []
    page.close()
