"""What ``mapgate audit`` tells a person: the zones source (fictional for the demo zones)
in its summary and report header, and a "by rule" table of rules that fired, not of
rules a MAPGATE-* cause held."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys

import geopandas as gpd
import shapely

from tests.builders import SAMPLES

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]


def _audit(folder, out, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAPGATE, "audit", str(folder), "--out", str(out), "--workers", "0", *extra],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _by_rule(report: str) -> dict[tuple[str, str], int]:
    table = report.split('id="by-rule"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>.*?</td><td class=\"num\">(\d+)</td></tr>", table
    )
    return {(html.unescape(pack), html.unescape(rule)): int(n) for pack, rule, n in rows}


def _header_zones(report: str) -> str:
    return html.unescape(report.split('<span id="zones-source">', 1)[1].split("</span>", 1)[0])


def test_held_rules_are_not_counted_as_fired_and_the_demo_zones_are_named(tmp_path):
    data = tmp_path / "delivery"
    data.mkdir()
    for name in ("scan_no_crs.tif", "kr_5k_buildings.gpkg"):
        shutil.copy(SAMPLES / name, data / name)
    # A second unplaced scan: two files held by the same cause.
    shutil.copy(SAMPLES / "scan_no_crs.tif", data / "scan_copy_b.tif")
    (data / "scan_copy_b.tif").write_bytes((data / "scan_copy_b.tif").read_bytes() + b"\0")
    result = _audit(data, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    summary = " ".join(result.stderr.split())
    assert "zones: demo_zones.geojson: FICTIONAL demo zones, not real sensitive areas" in summary
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert _header_zones(report).startswith("demo_zones.geojson: FICTIONAL demo zones")
    counts = _by_rule(report)
    assert counts[("mapgate", "MAPGATE-LOCATION-UNKNOWN")] == 2
    # KR-SCALE-25K fired for the buildings only; the scans' holds are not hits.
    assert counts[("kr", "KR-SCALE-25K")] == 1
    assert counts[("kr", "KR-SECURITY-ZONES-LARGE-SCALE")] == 1
    for rule in ("IN-HORIZONTAL-1M", "IN-SENSITIVE-ATTRIBUTES", "KR-IMAGERY-025M"):
        assert not [key for key in counts if key[1] == rule]
    # A rule that fired on the unplaced scans (it asks for measured accuracy) still counts.
    assert counts[("in", "IN-UNMEASURED")] == 2


def test_real_zones_are_named_in_the_summary_and_the_report(tmp_path):
    zones = tmp_path / "agency_sites.gpkg"
    gpd.GeoDataFrame(
        {"zone_id": ["x"], "zone_class": ["military"]},
        geometry=[shapely.box(127.02, 37.46, 127.04, 37.475)],
        crs=4326,
    ).to_file(zones)
    data = tmp_path / "delivery"
    data.mkdir()
    shutil.copy(SAMPLES / "kr_50k_roads.gpkg", data / "roads.gpkg")
    result = _audit(data, tmp_path / "out", "--zones", str(zones))
    assert result.returncode == 0, result.stderr
    assert "zones: agency_sites.gpkg\n" in result.stderr and "FICTIONAL" not in result.stderr
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert _header_zones(report) == "agency_sites.gpkg"
