"""The audit report in headless Chromium, offline: a real ``mapgate audit`` over the samples
and over datasets generated in four CRSs, then the map, the filters, sorting, the detail
view and the layout checked as a reviewer would use them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.batch.report_fixtures import (
    Audited,
    audited,
    blocked_page,
    browser,
    drawn_bounds,
    row_index,
    screen_point,
    screenshot,
)

__all__ = ["audited", "browser"]  # fixtures, used by name

pytestmark = pytest.mark.browser
VERDICTS = {  # the samples' README table, and what the packs make of the generated files
    "kr_50k_roads.gpkg": "allow", "ortho_025m_israel.tif": "allow_with_conditions",
    "sat_10m_korea.tif": "review", "scan_no_crs.tif": "review", "kr_5k_buildings.gpkg": "deny",
    "utm52_busan.tif": "review", "merc_atlantic.gpkg": "allow", "tiny_delhi.gpkg": "allow",
}  # fmt: skip


@pytest.fixture
def report_page(browser: Any, audited: Audited) -> Any:
    opened = blocked_page(browser, audited.report)
    yield opened
    # Nothing but the file itself was asked for, and the page logged no error.
    assert opened.requests == [audited.report.as_uri()]
    assert opened.problems == []
    opened.page.context.close()


def _visible_paths(page: Any) -> list[str]:
    return page.locator("#files tbody tr td:first-child").all_inner_texts()


def _visible_verdicts(page: Any) -> list[str]:
    return page.locator("#files tbody tr td:nth-child(2)").all_inner_texts()


def test_the_basemap_and_every_placed_footprint_draw_where_the_data_is(
    report_page: Any, audited: Audited
) -> None:
    page = report_page.page
    # Natural Earth, drawn from the copy inside the file: hundreds of country shapes.
    assert page.locator("path.basemap-land").count() > 200
    assert page.locator("path.basemap-border").count() >= 1
    # Every dataset that could be placed has a footprint; the unplaced scan has none.
    assert page.locator("path.fp").count() == 8
    assert page.evaluate("window.mapgateReport.layers.size") == 8
    for name, truth in audited.placed.items():
        b = drawn_bounds(page, row_index(page, name))
        for side in ("west", "south", "east", "north"):
            assert b[side] == pytest.approx(getattr(truth, side), abs=2e-6), (name, side)
    screenshot(page, "overview")


def test_world_sized_footprints_are_outlines_under_the_small_ones(report_page: Any) -> None:
    page = report_page.page
    world = page.evaluate(
        "(i) => window.mapgateReport.layers.get(i).getLayers()[0].getElement().getAttribute('fill')",
        row_index(page, "world.gpkg"),
    )
    assert world == "none"
    # Drawn first, so each smaller footprint lies on top of it in the SVG.
    classes = page.eval_on_selector_all("path.fp", "ps => ps.map((p) => p.getAttribute('fill'))")
    assert classes[0] == "none" and "none" not in classes[1:]


def test_clicking_a_footprint_lists_only_its_file(report_page: Any, audited: Audited) -> None:
    page = report_page.page
    truth = audited.placed["merc_atlantic.gpkg"]
    page.evaluate(
        "([w, s, e, n]) => window.mapgateReport.map.fitBounds([[s, w], [n, e]])",
        [truth.west, truth.south, truth.east, truth.north],
    )
    # The first parcel's middle, computed from the file's own coordinates with pyproj.
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(3857, 4326, always_xy=True).transform(-3_299_750.0, 3_500_300.0)
    x, y = screen_point(page, lon, lat)
    page.mouse.click(x, y)
    assert _visible_paths(page) == ["generated/merc_atlantic.gpkg"]
    assert page.locator("#detail-title").inner_text() == "generated/merc_atlantic.gpkg"
    page.get_by_test_id("show-all").click()
    assert len(_visible_paths(page)) == 9


def test_a_tiny_footprint_is_a_dot_that_can_be_clicked(report_page: Any, audited: Audited) -> None:
    page = report_page.page
    page.evaluate("window.mapgateReport.map.setView([20, 80], 3)")
    lon, lat = audited.placed["tiny_delhi.gpkg"].centre
    assert page.locator("path.dot").count() >= 1
    x, y = screen_point(page, lon, lat)
    page.mouse.click(x, y)
    assert _visible_paths(page) == ["generated/tiny_delhi.gpkg"]


def test_verdict_cards_filter_the_table(report_page: Any) -> None:
    page = report_page.page
    for verdict in ("deny", "review", "allow"):
        page.get_by_test_id(f"card-{verdict}").click()
        shown = _visible_verdicts(page)
        expected = [n for n, v in VERDICTS.items() if v == verdict]
        assert shown == [verdict] * len(expected)
        assert page.get_by_test_id(f"card-{verdict}").get_attribute("aria-pressed") == "true"
        assert int(page.get_by_test_id(f"card-{verdict}").get_attribute("data-count") or 0) == len(
            shown
        )
    page.get_by_test_id("card-allow").click()  # again: every file
    assert len(_visible_paths(page)) == 9
    screenshot(page, "filtered")


def test_text_filter_and_sorting(report_page: Any) -> None:
    page = report_page.page
    page.get_by_test_id("filter").fill("KR_5K")  # any case
    assert _visible_paths(page) == ["samples/kr_5k_buildings.gpkg"]
    page.get_by_test_id("filter").fill("")
    page.locator("#files th button", has_text="scale").click()
    scales = page.locator("#files tbody tr td:nth-child(5)").all_inner_texts()
    numbers = [int(s.split(":")[1].replace(",", "")) for s in scales if s]
    assert numbers == sorted(numbers) and len(numbers) >= 7
    assert scales[len(numbers) :] == [""] * (len(scales) - len(numbers))  # unknown last
    assert page.locator("#files th[data-key=scale]").get_attribute("aria-sort") == "ascending"
    page.locator("#files th button", has_text="scale").click()
    again = page.locator("#files tbody tr td:nth-child(5)").all_inner_texts()
    assert [int(s.split(":")[1].replace(",", "")) for s in again if s] == numbers[::-1]
    page.locator("#files th button", has_text="verdict").click()
    assert _visible_verdicts(page)[-1] == "deny"


def test_the_detail_view_shows_findings_facts_and_the_footprint(report_page: Any) -> None:
    page = report_page.page
    page.get_by_role("button", name="details of samples/kr_5k_buildings.gpkg").click()
    detail = page.get_by_test_id("detail")
    assert detail.is_visible()
    finding = page.locator("#detail-findings li[data-rule=KR-SECURITY-ZONES-LARGE-SCALE]")
    assert "must be masked before any export" in finding.inner_text()
    assert "MOLIT Spatial Information Security Regulation" in finding.locator("cite").inner_text()
    facts = page.get_by_test_id("detail-facts").inner_text()
    assert "EPSG:5186" in facts and "1:3,127" in facts
    assert "outlined in blue" in page.locator("#detail-where").inner_text()
    # The map moved to the file: its footprint fills the view.
    bounds = page.evaluate("window.mapgateReport.map.getBounds().toBBoxString()")
    west, south, east, north = map(float, bounds.split(","))
    assert west < 127.0148 and east > 127.0417 and south < 37.4619 and north > 37.4643
    assert east - west < 0.2
    # The keyboard reaches the same view: focus moved to the detail's heading.
    assert page.evaluate("document.activeElement.id") == "detail-title"
    screenshot(page, "detail")


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 900, "desktop"), (390, 844, "phone")])
def test_no_sideways_overflow(
    browser: Any, audited: Audited, width: int, height: int, name: str
) -> None:
    opened = blocked_page(browser, audited.report, width, height)
    page = opened.page
    page.get_by_role("button", name="details of samples/ortho_025m_israel.tif").click()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(page, name)
    assert opened.problems == []
    page.context.close()


def test_keyboard_reaches_the_cards_and_the_sorting(report_page: Any) -> None:
    page = report_page.page
    page.get_by_test_id("card-deny").focus()
    page.keyboard.press("Enter")
    assert _visible_verdicts(page) == ["deny"]
    labels = page.eval_on_selector_all("input, select", "es => es.map((e) => e.labels.length)")
    assert labels and all(n == 1 for n in labels)
