"""The page's secrecy, history, docs, keyboard use and layout in headless Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import mapping

from tests.api.helpers import Server, auth, point_geojson
from tests.web.fixtures import SAMPLES, WebPage, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET_MARKERS = ("geometry_wkt", "POLYGON", "zone_id", "overlap_km2")


def listing(server: Server, key: str, **params: str) -> list[dict[str, Any]]:
    """Every item of the audit listing, read from the API directly."""
    items: list[dict[str, Any]] = []
    cursor = None
    with httpx.Client(base_url=server.base_url, headers=auth(key), timeout=30) as c:
        while True:
            query = params | ({"cursor": cursor} if cursor else {})
            page = c.get("/v1/checks", params=query | {"limit": "500"}).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


def table_ids(web: WebPage) -> list[str]:
    return list(
        web.page.eval_on_selector_all("#history tbody tr", "rows => rows.map(r => r.dataset.id)")
    )


def rows_are(web: WebPage, n: int) -> None:
    # A function, not a string: the page's CSP forbids eval, and a string would need it.
    web.page.wait_for_function(
        "n => document.querySelectorAll('#history tbody tr').length === n", arg=n
    )


def test_a_submitter_never_sees_zone_geometry(browser, keyed_server: Server) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    assert not web.page.is_visible("#reveal")
    assert web.upload(SAMPLES / "kr_5k_buildings.gpkg") == "deny"
    web.page.reload()  # the verdict's own page, read back from the store
    web.page.wait_for_selector("[data-testid=verdict]:has-text('deny')")
    assert web.page.evaluate("window.mapgateMap.zones") == 0
    html = web.page.content()
    for marker in SECRET_MARKERS:
        assert marker not in html
        assert not [b for b in web.bodies if marker in b], marker
    assert "military" in (web.page.text_content("#facts") or "")  # the classes it may know


def test_a_submitter_who_forces_the_reveal_box_gets_no_zones(browser, keyed_server: Server) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    # The exporter edits the page: shows the auditors' box and ticks it.
    web.page.evaluate("document.getElementById('reveal-row').hidden = false")
    web.page.check("#reveal")
    web.page.set_input_files("[data-testid=upload]", str(SAMPLES / "kr_5k_buildings.gpkg"))
    web.page.click("#upload-button")
    web.page.wait_for_selector("#status:has-text('The check failed')", timeout=120_000)
    assert "only auditors may reveal zones" in (web.page.text_content("#status") or "")
    assert web.page.is_hidden("#result")
    for marker in SECRET_MARKERS:
        assert not [b for b in web.bodies if marker in b], marker


def test_an_auditor_who_reveals_sees_the_zones_drawn(browser, keyed_server: Server) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("carol")
    assert web.upload(SAMPLES / "kr_5k_buildings.gpkg", reveal=True) == "deny"
    web.screenshot("verdict-auditor-revealed")
    check_id = web.page.url.rsplit("/", 1)[1]
    with httpx.Client(base_url=keyed_server.base_url, headers=auth("carol")) as c:
        hits = c.get(f"/v1/checks/{check_id}").json()["zones"]["hits"]
    zones = [shapely.from_wkt(h["geometry_wkt"]) for h in hits]
    assert zones and web.page.evaluate("window.mapgateMap.zones") == len(zones)
    drawn = web.page.evaluate(
        """() => { const b = window.mapgateMap.overlay.getBounds();
                   return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"""
    )
    everything = shapely.union_all(zones).bounds
    assert drawn[0] <= everything[0] + 1e-9 and drawn[1] <= everything[1] + 1e-9
    assert drawn[2] >= everything[2] - 1e-9 and drawn[3] >= everything[3] - 1e-9


@pytest.mark.parametrize(
    "wkt",
    [
        "POLYGON ((127 37, 127.1 37, 127.1 37.1, 127 37.1, 127 37), (127.02 37.02, 127.05 37.02, 127.05 37.05, 127.02 37.02))",
        "MULTIPOLYGON (((10 10, 11 10, 11 11, 10 10)), ((-71.5 42.1, -71.4 42.1, -71.4 42.2, -71.5 42.1), (-71.45 42.12, -71.42 42.12, -71.42 42.15, -71.45 42.12)), ((179.5 -17, 180 -17, 180 -16.5, 179.5 -17)))",
        "POLYGON Z ((34.78 32.07 5, 34.79 32.07 6, 34.79 32.08 7, 34.78 32.07 5))",
    ],
)
def test_the_page_reads_zone_wkt_as_shapely_does(browser, keyed_server: Server, wkt: str) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    parsed = web.page.evaluate(
        "async (wkt) => (await import('/static/js/wkt.js')).wktToGeoJson(wkt)", wkt
    )
    expected = json.loads(json.dumps(mapping(shapely.force_2d(shapely.from_wkt(wkt)))))
    assert parsed == expected
    for bad in ["POINT (1 2)", "GEOMETRYCOLLECTION EMPTY", "not wkt", None]:
        assert (
            web.page.evaluate(
                "async (w) => (await import('/static/js/wkt.js')).wktToGeoJson(w)", bad
            )
            is None
        )


def test_history_filters_and_pages_like_the_api(browser, keyed_server: Server) -> None:
    with httpx.Client(base_url=keyed_server.base_url, headers=auth("bob"), timeout=60) as c:
        for i in range(27):
            files = {"file": (f"points-{i}.geojson", point_geojson(2.0 + i / 100, 48.0))}
            assert c.post("/v1/checks", files=files).status_code == 200
        c.post(
            "/v1/checks",
            files={"file": ("kr.gpkg", (SAMPLES / "kr_5k_buildings.gpkg").read_bytes())},
        )
    web = open_page(browser, keyed_server)
    web.goto("/#/checks")
    web.use_key("carol")
    web.page.wait_for_selector("#history tbody tr")
    assert web.page.is_visible("#filter-caller")
    web.page.fill("#filter-caller", "bob")
    web.page.click("#history-filters button[type=submit]")
    rows_are(web, 25)
    bobs = [i["id"] for i in listing(keyed_server, "carol", caller="bob")]
    assert table_ids(web) == bobs[:25]
    web.page.click("#history-more")
    rows_are(web, min(len(bobs), 50))
    assert table_ids(web) == bobs[:50]
    web.screenshot("history-auditor")
    web.page.fill("#filter-caller", "")
    web.page.select_option("#filter-verdict", "deny")
    web.page.click("#history-filters button[type=submit]")
    denied = [i["id"] for i in listing(keyed_server, "carol", verdict="deny")]
    rows_are(web, min(len(denied), 25))
    assert table_ids(web) == denied[:25]
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    web.page.fill("#filter-since", tomorrow)
    web.page.click("#history-filters button[type=submit]")
    web.page.wait_for_selector("#history-status:has-text('No checks match')")
    assert table_ids(web) == []
    assert web.outside == [] and web.errors == []


def test_a_submitter_history_is_its_own_and_links_to_each_verdict(
    browser, keyed_server: Server
) -> None:
    with httpx.Client(base_url=keyed_server.base_url, headers=auth("bob"), timeout=60) as c:
        c.post(
            "/v1/checks",
            files={"file": ("roads.gpkg", (SAMPLES / "kr_50k_roads.gpkg").read_bytes())},
        )
    web = open_page(browser, keyed_server)
    web.goto("/#/checks")
    web.use_key("bob")
    web.page.wait_for_selector("#history tbody tr")
    assert not web.page.is_visible("#filter-caller")
    callers = web.page.eval_on_selector_all(
        "#history tbody tr td:nth-child(4)", "c => c.map(x => x.textContent)"
    )
    assert set(callers) == {"bob"}
    first = table_ids(web)[0]
    web.page.click(f"#history tbody tr[data-id='{first}'] a")
    web.page.wait_for_selector("[data-testid=verdict]:not(:empty)")
    assert web.page.url.endswith(f"#/checks/{first}")
    word = web.page.text_content("[data-testid=verdict]")
    web.page.reload()  # the permanent link opens the same verdict
    web.page.wait_for_selector("[data-testid=verdict]:not(:empty)")
    assert web.page.text_content("[data-testid=verdict]") == word
    assert web.page.get_attribute("#permalink", "href") == f"#/checks/{first}"


@pytest.mark.parametrize(
    "path, ready",
    [("/docs", ".opblock"), ("/redoc", "h2:has-text('List stored verdicts, newest first')")],
)
def test_api_docs_render_with_the_network_blocked(
    browser, keyed_server: Server, path: str, ready: str
) -> None:
    web = open_page(browser, keyed_server)
    web.goto(path)
    web.page.wait_for_selector(ready, timeout=30_000)
    web.screenshot(f"docs-{path.strip('/')}")
    assert web.outside == [] and web.errors == []


def _tab_to(web: WebPage, element_id: str) -> None:
    for _ in range(30):
        web.page.keyboard.press("Tab")
        if web.page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def _open_file_chooser_by_key(web: WebPage) -> Any:
    """Space on the focused file input, pressed again if headless Chromium missed it.

    Headless Chromium now and then drops the chooser a key press opens; a person would
    press again too.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for key in ("Space", "Space", "Enter"):
        try:
            with web.page.expect_file_chooser(timeout=5_000) as chooser:
                web.page.keyboard.press(key)
            return chooser.value
        except PlaywrightTimeout:
            assert web.page.evaluate("document.activeElement.id") == "file-input"
    raise AssertionError("the file input never opened a chooser from the keyboard")


def test_upload_works_with_the_keyboard_alone(browser, keyed_server: Server) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    _tab_to(web, "key-input")
    web.page.keyboard.type("alice-submitter-key")
    web.page.keyboard.press("Enter")
    web.page.wait_for_selector("#whoami:has-text('Acting as alice')")
    _tab_to(web, "file-input")
    _open_file_chooser_by_key(web).set_files(str(SAMPLES / "ortho_025m_israel.tif"))
    _tab_to(web, "destination")
    web.page.keyboard.type("us")
    _tab_to(web, "upload-button")
    web.page.keyboard.press("Enter")
    web.page.wait_for_selector("[data-testid=verdict]:not(:empty)", timeout=120_000)
    assert web.page.text_content("[data-testid=verdict]") == "allow_with_conditions"
    assert web.page.evaluate("document.activeElement.id") == "verdict"  # read out next
    assert web.page.input_value("#destination") == "US"


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_no_view_scrolls_sideways(browser, keyed_server: Server, width: int, height: int) -> None:
    web = open_page(browser, keyed_server, width, height)
    web.goto()
    assert not web.overflows()
    web.screenshot(f"start-{width}")
    web.use_key("carol")
    web.upload(SAMPLES / "scan_no_crs.tif")
    assert not web.overflows()
    web.upload(SAMPLES / "kr_5k_buildings.gpkg", reveal=True)
    assert not web.overflows()
    web.screenshot(f"verdict-{width}")
    web.page.click("a[data-view-link=history]")
    web.page.wait_for_selector("#history tbody tr")
    assert not web.overflows()
    web.screenshot(f"history-{width}")
