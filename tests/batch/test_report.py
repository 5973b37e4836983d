"""The audit report as a file: self-contained, escaped, and no more about the zones than a
report ever showed (the browser tests are in ``test_report_browser.py``)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from pathlib import Path

import pytest

from compliance.batch.report import render_report
from compliance.batch.results import AuditResult, slim
from compliance.batch.run import audit
from compliance.verdict import Effect
from tests.batch.fixtures import make_archive

COUNTS = {"total": 13, "allow": 7, "allow_with_conditions": 1, "review": 1, "deny": 1, "error": 3}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    archive = make_archive(root / "archive")
    out = root / "out"
    list(audit([archive.root], out=out, workers=0))
    return out / "report.html"


def _scripts(html: str) -> list[str]:
    """The page's executable scripts (not its JSON data blocks)."""
    return re.findall(r"<script(?: type=\"module\")?>(.*?)</script>", html, flags=re.S)


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_report_is_one_file_that_loads_nothing(report: Path) -> None:
    html = report.read_text()
    # The markup links nowhere. (Leaflet's code holds a link for its credit line, which the
    # report turns off; the browser tests see that nothing is requested.)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "@import" not in html
    assert set(re.findall(r"url\(([a-z]*)", markup)) <= {"data"}  # Leaflet's images, inlined
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert found
    policy = unescape(found.group(1))
    assert "default-src 'none'" in policy
    # Only the page's own scripts may run, each by its hash; an injected one would not.
    script_src = re.search(r"script-src ([^;]+)", policy)
    assert script_src and "unsafe" not in script_src.group(1)
    allowed = set(script_src.group(1).split())
    scripts = _scripts(html)
    assert len(scripts) == 3  # Leaflet, topojson-client, the report's module
    for s in scripts:
        digest = base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    for klass, n in COUNTS.items():
        assert f'id="count-{klass}"' in html
        assert re.search(rf'id="count-{klass}"[^>]*>(?:<span class="n">){n}</span>', html)


def test_report_data_carries_the_new_columns(report: Path) -> None:
    data = _data(report.read_text())
    by_path = {r["path"]: r for r in data["rows"]}
    ortho = by_path["kr/busan/deep/ortho.tif"]
    assert ortho["verdict"] == "deny" and ortho["reason"].startswith("KR-")
    assert ortho["resolution_m"] == pytest.approx(0.1, rel=0.15)
    assert by_path["kr/roads/roads.shp"]["conditions"]
    assert by_path["broken/junk.tif"]["reason"] == by_path["broken/junk.tif"]["error"]
    assert len(data["shapes"]) == 10
    areas = [s["km2"] for s in data["shapes"]]
    assert areas == sorted(areas, reverse=True)  # largest first: small ones drawn on top


def test_file_names_and_errors_are_text_never_markup() -> None:
    row = AuditResult(path="/data/<script>alert(1)</script>.tif", status="error",
                      error='bad "<b>" & worse </script><script>alert(2)</script>',
                      fingerprint="f")  # fmt: skip
    html = render_report([row])
    assert "<script>alert" not in html
    assert "</script><script>" not in html.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert _data(html)["rows"][0]["error"].startswith('bad "<b>"')


def test_report_without_footprints_says_so() -> None:
    row = AuditResult(path="/data/a.tif", status="error", error="unreadable", fingerprint="f")
    html = render_report([row])
    assert 'id="map-empty"' in html and 'id="map"' not in html


def _verdict_touching_a_zone() -> dict:
    """A verdict as the checker writes it for data over a zone, with its ids revealed."""
    return {
        "verdict": "deny",
        "profile": {"bounds_wgs84": [127.0, 37.4, 127.1, 37.5], "crs": "EPSG:5186",
                    "resolution_m": 1.5, "scale_denominator": 3000.0},
        "zones": {"source": "secret_sites.geojson", "count": 2, "classes": ["military"],
                  "by_class": {"military": {"zones": 2, "features": 9, "overlap_km2": 0.0213}},
                  "revealed": True,
                  "hits": [{"zone_id": "BASE-7731", "zone_class": "military", "features": 9,
                            "overlap_km2": 0.0213,
                            "geometry_wkt": "POLYGON ((127.01 37.41, 127.02 37.41, 127.02 37.42, 127.01 37.41))"}]},
        "findings": [{"rule_id": "KR-SECURITY-ZONES-LARGE-SCALE", "pack": "kr", "effect": "deny",
                      "message": "mask first", "reference": "MOLIT", "conditions": ["mask_zones"],
                      "facts": {"zones.count": 2, "zones.classes": ["military"],
                                "zones.by_class.military.overlap_km2": 0.0213,
                                "dataset.scale_denominator": 3000.0}}],
        "conditions": ["mask_zones"],
        "packs": [{"name": "kr", "version": "1", "outcome": "deny"}],
    }  # fmt: skip


@pytest.mark.parametrize("slimmed", [False, True])
def test_the_report_shows_no_more_of_the_zones_than_it_did(slimmed: bool) -> None:
    row = AuditResult(path="/data/a.gpkg", status="checked", verdict=Effect.deny, fingerprint="f",
                      document=_verdict_touching_a_zone())  # fmt: skip
    html = render_report([slim(row) if slimmed else row], {"zones": "secret_sites.geojson"})
    for secret in ("BASE-7731", "127.01 37.41", "0.0213", "zones.count", "zones.classes",
                   "by_class", "overlap_km2", "geometry_wkt", '"military"'):  # fmt: skip
        assert secret not in html, secret
    # What it always showed: the zones source the audit was given, and the rule that fired.
    assert 'zones: <span id="zones-source">secret_sites.geojson</span>' in html
    finding = _data(html)["findings"][0]
    assert finding["rule"] == "KR-SECURITY-ZONES-LARGE-SCALE" and finding["message"] == "mask first"
    assert _data(html)["rows"][0]["finding_facts"] == [{"dataset.scale_denominator": 3000.0}]


def _strict(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the report's JSON")

    return json.loads(text, parse_constant=refuse)


def test_numbers_that_are_not_finite_never_break_the_page() -> None:
    nan, inf = float("nan"), float("inf")
    document = {
        "profile": {"bounds_wgs84": [10.0, 20.0, 10.5, 20.5], "area_km2": nan,
                    "resolution_m": inf, "scale_denominator": nan,
                    "footprint_wgs84": {"type": "Polygon",
                                        "coordinates": [[[10, 20], [nan, 20], [10, 21], [10, 20]]]}},
        "findings": [{"rule_id": "R", "pack": "p", "effect": "review", "message": "m",
                      "facts": {"dataset.resolution_m": inf}}],
    }  # fmt: skip
    row = AuditResult(path="/d/a.tif", status="checked", verdict=Effect.review, fingerprint="f",
                      document=document)  # fmt: skip
    html = render_report([row])
    m = re.search(r'id="report-data">(.*?)</script>', html, re.S)
    assert m
    data = _strict(m.group(1))
    # The footprint with a NaN is replaced by the dataset's bounds, drawn as a box.
    assert data["shapes"][0]["geometry"]["coordinates"] == [
        [[10.0, 20.0], [10.5, 20.0], [10.5, 20.5], [10.0, 20.5], [10.0, 20.0]]
    ]
    assert data["rows"][0]["finding_facts"] == [{"dataset.resolution_m": None}]
    assert data["rows"][0]["resolution_m"] is None and "area_km2" not in data["rows"][0]["facts"]


def test_the_reports_own_files_ship_in_the_package() -> None:
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    config = tomllib.loads((repo / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["compliance.batch"]
    package = repo / "compliance" / "batch"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    assert shipped == set((package / "templates").iterdir())
    assert {p.name for p in shipped} == {"report.html.j2", "report.js", "report.css"}
