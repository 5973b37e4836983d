"""A report of 20,000 files: bounded in size, and its page loads, pages and filters in
Chromium (the table is drawn a page at a time, the footprints on a canvas)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compliance.batch.report import write_report
from compliance.batch.results import AuditResult, ResultsWriter, read_rows, slim
from compliance.verdict import Effect
from tests.batch.report_fixtures import blocked_page, browser, screenshot

__all__ = ["browser"]  # a fixture, used by name

N = 20_000
RING = 200  # points per footprint ring before the report thins them
VERDICTS = [Effect.allow, Effect.allow_with_conditions, Effect.review, Effect.deny]


def _document(i: int, rng: np.random.Generator) -> dict[str, Any]:
    lon, lat = float(rng.uniform(-170, 170)), float(rng.uniform(-60, 70))
    r = float(rng.uniform(0.001, 0.05))
    angles = np.linspace(0, 2 * np.pi, RING)
    ring = [[lon + r * float(np.cos(a)), lat + r * float(np.sin(a))] for a in angles]
    ring[-1] = ring[0]
    verdict = VERDICTS[i % 4].value
    findings = [] if verdict == "allow" else [{
        "rule_id": f"RULE-{i % 7}", "pack": "p", "effect": verdict,
        "message": f"message of rule {i % 7}", "reference": "Act 1", "conditions": [],
        "facts": {"dataset.resolution_m": 0.5 + i % 5},
    }]  # fmt: skip
    return {
        "verdict": verdict,
        "profile": {"bounds_wgs84": [lon - r, lat - r, lon + r, lat + r],
                    "footprint_wgs84": {"type": "Polygon", "coordinates": [ring]},
                    "resolution_m": 0.5 + i % 5, "scale_denominator": 1000.0 * (1 + i % 5),
                    "crs": "EPSG:4326", "area_km2": 3.1 * (r * 111) ** 2},
        "findings": findings,
        "conditions": ["mask_zones"] if verdict == "allow_with_conditions" else [],
        "packs": [{"name": "p", "version": "1", "outcome": verdict}],
    }  # fmt: skip


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("large-report")
    rng = np.random.default_rng(20_000)
    with ResultsWriter(out, append=False) as writer:
        for i in range(N):
            errored = i % 97 == 0
            writer.write(AuditResult(
                path=f"/archive/batch_{i // 1000:02d}/sheet_{i:05d}.tif",
                status="error" if errored else "checked",
                verdict=None if errored else VERDICTS[i % 4],
                error="unreadable: not a TIFF" if errored else None,
                fingerprint="f", size=1000 + i, duration_ms=float(i % 300),
                document=None if errored else _document(i, rng),
            ))  # fmt: skip
    rows = [slim(r) for r in read_rows(out / "results.jsonl")]
    return write_report(out / "report.html", rows, {"packs": ["p"]})


def test_large_report_stays_bounded(large_report: Path) -> None:
    html = large_report.read_text()
    assert len(html) < 25 * 1024**2  # about 1 kB a file: the table is data, not markup
    assert html.count("<tr") < 100  # only the summary tables are markup
    found = re.search(r'id="report-data">(.*?)</script>', html, re.S)
    assert found
    data = json.loads(found.group(1))
    assert len(data["rows"]) == N
    points = sum(len(ring) for s in data["shapes"] for ring in s["geometry"]["coordinates"])
    assert points <= 450_000  # footprints thinned to a budget for the whole audit
    assert len(data["findings"]) <= 7 * 3  # each distinct finding text sent once


@pytest.mark.browser
def test_large_report_loads_pages_and_filters_in_chromium(browser: Any, large_report: Path) -> None:
    opened = blocked_page(browser, large_report)
    page = opened.page
    errors = len(range(0, N, 97))
    assert page.locator("#files tbody tr").count() == 100
    assert page.get_by_test_id("page").inner_text() == f"page 1 of {N // 100}"
    assert page.evaluate("window.mapgateReport.layers.size") == N - errors
    assert page.locator("#map canvas").count() >= 1  # many footprints: drawn on a canvas
    page.get_by_test_id("next").click()
    assert page.get_by_test_id("page").inner_text() == f"page 2 of {N // 100}"
    assert page.locator("#files tbody tr").first.get_attribute("data-row") == "100"
    page.get_by_test_id("filter").fill("sheet_12345")
    assert page.locator("#files tbody tr td:first-child").all_inner_texts() == [
        "batch_12/sheet_12345.tif"
    ]
    page.get_by_test_id("filter").fill("")
    page.get_by_test_id("card-deny").click()
    denied = len([i for i in range(N) if i % 4 == 3 and i % 97])
    assert page.get_by_test_id("status").inner_text().startswith(f"Showing {denied:,} of {N:,}")
    assert set(page.locator("#files tbody tr td:nth-child(2)").all_inner_texts()) == {"deny"}
    page.get_by_test_id("card-error").click()
    assert page.get_by_test_id("status").inner_text().startswith(f"Showing {errors} of {N:,}")
    screenshot(page, "large")
    assert opened.problems == []
    assert opened.requests == [large_report.as_uri()]
    page.context.close()
