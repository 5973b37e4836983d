"""Fixtures of the report tests: generated datasets with their true lon/lat extents, a real
``mapgate audit`` run over them, and headless Chromium with the network cut off."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import CRS, Transformer

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_maps"
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

__all__ = [
    "CHROMIUM", "SCREENSHOTS", "Audited", "BlockedPage", "Placed", "audited", "blocked_page",
    "browser", "csv_rows", "drawn_bounds", "jsonl", "make_placed", "row_index", "run_audit",
    "screen_point", "screenshot",
]  # fmt: skip


@dataclass(frozen=True)
class Placed:
    """A generated dataset and its extent in lon/lat, computed here with pyproj."""

    name: str
    west: float
    south: float
    east: float
    north: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.west + self.east) / 2, (self.south + self.north) / 2


def _lonlat_bounds(crs: str, bounds: tuple[float, float, float, float]) -> tuple[float, ...]:
    to_wgs84 = Transformer.from_crs(CRS(crs), CRS("EPSG:4326"), always_xy=True)
    return tuple(to_wgs84.transform_bounds(*bounds, densify_pts=101))


def _raster(path: Path, crs: str, x0: float, y0: float, pixel: float, size: int) -> Placed:
    data = (np.arange(size * size) % 251).astype(np.uint8).reshape(size, size)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "uint8",
               "crs": crs, "transform": Affine(pixel, 0, x0, 0, -pixel, y0)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return Placed(path.name, *_lonlat_bounds(crs, (x0, y0 - size * pixel, x0 + size * pixel, y0)))


def _vector(path: Path, crs: str, boxes: list[tuple[float, float, float, float]]) -> Placed:
    geometry = shapely.to_wkb(shapely.box(*np.array(boxes).T))
    pyogrio.raw.write(
        str(path), geometry=np.asarray(geometry, dtype=object), field_data=[np.arange(len(boxes))],
        fields=["id"], crs=crs, geometry_type="Polygon", driver=None,
    )  # fmt: skip
    xs = [b[0] for b in boxes] + [b[2] for b in boxes]
    ys = [b[1] for b in boxes] + [b[3] for b in boxes]
    return Placed(path.name, *_lonlat_bounds(crs, (min(xs), min(ys), max(xs), max(ys))))


def make_placed(folder: Path) -> dict[str, Placed]:
    """Datasets in four CRSs and places, from a city block to most of the world."""
    folder.mkdir(parents=True, exist_ok=True)
    placed = [
        # 2 m pixels in UTM 52N over Busan: an orthophoto finer than Korea allows.
        _raster(folder / "utm52_busan.tif", "EPSG:32652", 496_000.0, 3_895_000.0, 2.0, 600),
        # Parcels in Web Mercator in the Atlantic, far from every pack's territory.
        _vector(
            folder / "merc_atlantic.gpkg",
            "EPSG:3857",
            [
                (-3_300_000.0 + i * 900.0, 3_500_000.0, -3_299_500.0 + i * 900.0, 3_500_600.0)
                for i in range(6)
            ],
        ),  # fmt: skip
        # One 20 m square in UTM 43N in Delhi: a dot at any zoom that shows the others.
        _vector(
            folder / "tiny_delhi.gpkg",
            "EPSG:32643",
            [(712_000.0, 3_166_000.0, 712_020.0, 3_166_020.0)],
        ),  # fmt: skip
        # Most of the world in lon/lat: drawn as an outline, under everything else.
        _vector(folder / "world.gpkg", "EPSG:4326", [(-170.0, -60.0, 170.0, 75.0)]),
    ]
    return {p.name: p for p in placed}


def run_audit(paths: list[Path], out: Path) -> Path:
    """``mapgate audit`` as a user runs it, in a process of its own; returns the report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPGATE_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "compliance.cli.audit", *map(str, paths), "--out", str(out),
         "--workers", "0"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return out / "report.html"


@dataclass
class Audited:
    report: Path
    out: Path
    placed: dict[str, Placed]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    root = tmp_path_factory.mktemp("report-audit")
    samples = root / "samples"
    shutil.copytree(SAMPLES, samples, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    placed = make_placed(root / "generated")
    report = run_audit([samples, root / "generated"], root / "out")
    return Audited(report, root / "out", placed)


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
class BlockedPage:
    """A page whose every request but the report itself is refused, and the record."""

    page: Any
    requests: list[str]
    problems: list[str]


def _refuse_dialog(out: BlockedPage, dialog: Any) -> None:
    out.problems.append(f"dialog: {dialog.message}")  # e.g. an injected alert()
    dialog.dismiss()


def blocked_page(browser: Any, report: Path, width: int = 1280, height: int = 900) -> BlockedPage:
    """Open ``report`` with the network cut off; waits until its script has drawn it."""
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    page.set_default_timeout(120_000)  # a 20,000-row page takes a while on a busy machine
    out = BlockedPage(page, [], [])
    page.on("request", lambda r: out.requests.append(r.url))
    page.on(
        "console", lambda m: out.problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: out.problems.append(str(e)))
    page.on("dialog", lambda d: _refuse_dialog(out, d))
    page.route("**/*", lambda route: route.continue_() if route.request.url == report.as_uri()
               else route.abort())  # fmt: skip
    page.goto(report.as_uri())
    page.wait_for_selector("body[data-ready=true]", state="attached")
    return out


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"report-{name}.png"), full_page=True)


def row_index(page: Any, name: str) -> int:
    """The report's row index of the dataset whose path ends with ``name``."""
    index = page.evaluate(
        "(name) => window.mapgateReport.rows.findIndex((r) => r.path.endsWith(name))", name
    )
    assert index >= 0, name
    return int(index)


def drawn_bounds(page: Any, index: int) -> dict[str, float]:
    return page.evaluate(
        """(i) => { const b = window.mapgateReport.layers.get(i).getBounds();
            return {west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth()}; }""",
        index,
    )


def screen_point(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """Where lon/lat is on the page, by Leaflet's projection of the map as shown."""
    p = page.evaluate(
        """([lon, lat]) => { const m = window.mapgateReport.map;
            const pt = m.latLngToContainerPoint([lat, lon]);
            const box = m.getContainer().getBoundingClientRect();
            return [box.left + pt.x, box.top + pt.y]; }""",
        [lon, lat],
    )
    return float(p[0]), float(p[1])


def csv_rows(out: Path) -> list[dict[str, str]]:
    import csv

    with (out / "results.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def jsonl(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
