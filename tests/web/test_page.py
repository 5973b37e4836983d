"""The page at ``/`` in headless Chromium against real ``mapgate serve`` processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio
import pytest
import rasterio
from pyproj import CRS, Transformer
from rasterio.warp import transform_bounds

from tests.api.helpers import Server
from tests.web.fixtures import SAMPLE_VERDICTS, SAMPLES, WebPage, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Degrees; 1e-5 is about a metre: the footprint is drawn where the data lies, not nearby.
TOLERANCE_DEG = 1e-5


def true_bounds(path: Path) -> tuple[float, float, float, float] | None:
    """WGS84 bounds of a sample, read with rasterio or pyogrio and projected with pyproj."""
    if path.suffix == ".tif":
        with rasterio.open(path) as src:
            if src.crs is None:
                return None
            return transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=51)
    boxes = []
    for name, _ in pyogrio.list_layers(path):
        info = pyogrio.read_info(path, layer=name)
        if info["crs"] and info["total_bounds"] is not None:
            to_wgs84 = Transformer.from_crs(CRS(info["crs"]), "EPSG:4326", always_xy=True)
            boxes.append(to_wgs84.transform_bounds(*info["total_bounds"], densify_pts=51))
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def drawn(web: WebPage) -> dict[str, Any]:
    """What the Leaflet map shows: its view, the drawn overlay's bounds, the zones drawn."""
    return dict(
        web.page.evaluate(
            """() => {
              const {map, overlay, zones} = window.mapgateMap;
              const box = (b) => b.isValid() ? [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()] : null;
              return {view: box(map.getBounds()), drawn: box(overlay.getBounds()), zones,
                      paths: document.querySelectorAll('[data-testid=map] path.leaflet-interactive').length};
            }"""
        )
    )


@pytest.mark.parametrize("name", sorted(SAMPLE_VERDICTS))
def test_each_sample_shows_its_verdict_on_the_map(browser, keyed_server: Server, name: str) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    assert web.upload(SAMPLES / name) == SAMPLE_VERDICTS[name]
    web.screenshot(f"verdict-{Path(name).stem}")
    shown = drawn(web)
    truth = true_bounds(SAMPLES / name)
    if truth is None:
        assert shown["drawn"] is None and shown["paths"] == 0
        assert "could not be placed" in web.page.text_content("#map-note")
    else:
        assert shown["drawn"] == pytest.approx(truth, abs=TOLERANCE_DEG)
        west, south, east, north = shown["view"]
        assert west <= truth[0] and south <= truth[1] and east >= truth[2] and north >= truth[3]
        # Zoomed to the data, not the world: the view is at most a few times its size.
        assert east - west < 40 * max(truth[2] - truth[0], 1e-3)
    assert web.page.is_visible("[data-testid=findings]")
    assert web.page.is_visible("[data-testid=conditions]")
    assert web.outside == [] and web.errors == []


def test_location_unknown_is_one_finding_naming_the_rules_it_held(
    browser, keyed_server: Server
) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    assert web.upload(SAMPLES / "scan_no_crs.tif") == "review"
    cards = web.page.query_selector_all("[data-testid=findings] article")
    causes = [c for c in cards if "MAPGATE-LOCATION-UNKNOWN" in (c.text_content() or "")]
    assert len(causes) == 1
    held = (causes[0].get_attribute("data-held") or "").split()
    # Every pack rule that needed a fact the missing location hides sits in that one card.
    assert {"KR-SCALE-25K", "IN-HORIZONTAL-1M", "KR-SECURITY-ZONES-LARGE-SCALE"} <= set(held)
    for card in cards:
        if card is not causes[0]:
            assert not set(held) & set((card.text_content() or "").split())
    assert "Spatial Data Act Art. 16(1)" in (causes[0].text_content() or "")


def test_conditions_say_what_to_do(browser, keyed_server: Server) -> None:
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    assert web.upload(SAMPLES / "ortho_025m_israel.tif") == "allow_with_conditions"
    item = web.page.query_selector("[data-testid=conditions] li[data-condition=coarsen_resolution]")
    assert item is not None and "Resample" in (item.text_content() or "")
    facts = web.page.text_content("#facts") or ""
    assert "EPSG:2039" in facts and "0.250 m" in facts and "geodesic" in facts


def test_dev_mode_needs_no_key(browser, dev_server: Server) -> None:
    web = open_page(browser, dev_server)
    web.goto()
    web.page.wait_for_selector("#whoami:has-text('Acting as dev (auditor)')")
    assert web.upload(SAMPLES / "kr_50k_roads.gpkg") == "allow"
    assert web.outside == [] and web.errors == []


def test_the_key_stays_in_session_storage_and_out_of_urls(browser, keyed_server: Server) -> None:
    web = open_page(browser, keyed_server)
    requested: list[str] = []
    web.page.on("request", lambda r: requested.append(r.url))
    web.goto()
    web.use_key("bob")
    web.upload(SAMPLES / "kr_50k_roads.gpkg")
    secret = "bob-submitter-key"
    assert web.page.evaluate("sessionStorage.getItem('mapgate.key')") == secret
    assert web.page.evaluate("localStorage.length") == 0
    assert not [u for u in requested if secret in u] and secret not in web.page.url
    web.page.reload()  # the same tab keeps the key
    web.page.wait_for_selector("#whoami:has-text('Acting as bob')")
    web.page.click("#key-forget")
    web.page.wait_for_selector("#whoami:has-text('Enter an API key')")
    assert web.page.evaluate("sessionStorage.getItem('mapgate.key')") is None


# Browsers percent-encode double quotes in multipart file names, so these use none. The
# service keeps a name without its path, so the script tag's "/" cuts the second one.
HOSTILE_NAMES = [
    "<img src=x onerror=window.pwned=1>.geojson",
    "<script>window.pwned=1</script>.geojson",
    "<svg onload=window.pwned=1>.geojson",
    "<svg onload=window.pwned=1>&amp;.geojson",  # refused with 422: the error names it
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_file_name_is_shown_as_text(browser, keyed_server: Server, name: str) -> None:
    body = (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        b'"geometry":{"type":"Point","coordinates":[2.35,48.85]}}]}'
    )
    kept = name.rsplit("/", 1)[-1]
    web = open_page(browser, keyed_server)
    web.goto()
    web.use_key("alice")
    files = [{"name": name, "mimeType": "application/geo+json", "buffer": body}]
    web.page.set_input_files("[data-testid=upload]", files=files)
    web.page.click("#upload-button")
    done = "#status:has-text('Checked '), #status:has-text('The check failed')"
    web.page.wait_for_selector(done, timeout=120_000)
    checked = web.page.is_visible("#result")
    shown = web.page.text_content("#verdict-file" if checked else "#status") or ""
    assert kept in shown
    assert checked == ("&amp;" not in name)
    if checked:
        web.page.click("a[data-view-link=history]")
        web.page.wait_for_selector("#history tbody tr")
        assert kept in (web.page.text_content("#history tbody") or "")
    assert web.page.evaluate("window.pwned") is None
    assert web.page.query_selector("#main img[onerror], #main script, #main svg[onload]") is None
    assert [e for e in web.errors if "422" not in e] == []
