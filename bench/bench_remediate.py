"""Benchmark `mapgate remediate` on a raster of about 1 GB, beside a plain COG copy.

Generates an uncompressed, tiled three-band GeoTIFF (18,000 x 18,000 pixels of 0.5 m in
EPSG:5186 near Seoul, about 0.97 GB) and a few zones over it, then runs, each in its own
process, measured with /usr/bin/time (wall time and peak RSS):
  * the baseline: ``gdal_translate -of COG`` of the same file when GDAL's tools are on the
    PATH, else the same GDAL call (``CreateCopy`` with the COG driver, what
    gdal_translate does) through rasterio;
  * ``mapgate remediate`` with a pack asking for ``mask_zones``;
  * ``mapgate remediate`` with a pack asking for ``mask_zones`` and ``coarsen_resolution``
    (1 m): check, coarsen, mask, write, re-check.
Both sides write DEFLATE COGs of 512-pixel tiles, with GDAL's block cache capped alike
(--cache-mb, default 256). Prints each figure and its ratio to the baseline. The data is generated into --data (default bench/data, git-ignored) and kept.

Usage: python bench/bench_remediate.py [--pixels 18000] [--repeat 1] [--data DIR] [--cache-mb 256]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ORIGIN = (195_000.0, 553_000.0)  # EPSG:5186, Seoul's south
PIXEL_M = 0.5

MASK_PACK = """\
pack: bench-mask
version: "1"
title: bench
jurisdiction: XX
rules:
  - id: B-ZONES
    title: data over a zone
    when: zones.count > 0
    effect: deny
    conditions: [mask_zones]
    reference: bench
"""
COARSEN_RULE = """\
  - id: B-FINE
    title: imagery finer than 1 m
    when: dataset.has_imagery && dataset.imagery_resolution_m < 1.0
    effect: allow_with_conditions
    conditions: [coarsen_resolution: {resolution_m: 1.0}]
    reference: bench
"""


def make_raster(path: Path, pixels: int) -> None:
    """Smooth bands with noise, written block by block (memory stays small)."""
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": pixels,
        "height": pixels,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:5186",
        "transform": Affine(PIXEL_M, 0, ORIGIN[0], 0, -PIXEL_M, ORIGIN[1] + pixels * PIXEL_M),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "photometric": "RGB",
        "BIGTIFF": "YES",
    }
    rng = np.random.default_rng(3)
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, pixels, 2048):
            height = min(2048, pixels - row)
            r, c = np.mgrid[row : row + height, 0:pixels]
            base = ((r // 64 + c // 64) % 200).astype(np.uint8)
            noise = rng.integers(0, 40, size=(3, height, pixels), dtype=np.uint8)
            dst.write(base + noise, window=Window(0, row, pixels, height))


def make_zones(path: Path, pixels: int) -> None:
    """Three zones over the raster (a base, a plant, an office), in lon/lat."""
    import shapely
    from pyproj import Transformer

    side = pixels * PIXEL_M
    to_lonlat = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True)
    features = []
    for i, (fx, fy, size, buffer_m) in enumerate(
        [(0.25, 0.3, 600.0, 300.0), (0.7, 0.6, 300.0, 100.0), (0.5, 0.85, 150.0, 0.0)]
    ):
        x, y = ORIGIN[0] + fx * side, ORIGIN[1] + fy * side
        box = shapely.segmentize(shapely.box(x, y, x + size, y + size), 20.0)
        lon, lat = to_lonlat.transform(*np.asarray(box.exterior.coords).T)
        features.append(
            {
                "type": "Feature",
                "properties": {"zone_id": f"B{i}", "zone_class": "military", "buffer_m": buffer_m},
                "geometry": shapely.geometry.mapping(shapely.Polygon(zip(lon, lat, strict=True))),
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def timed(command: list[str], cache_mb: int) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of a command, and its standard output. GDAL's block
    cache is capped alike for every run (its default is 5% of the machine's memory), so
    peak RSS shows the working set rather than how much of the cache a run filled."""
    env = {**os.environ, "GDAL_CACHEMAX": str(cache_mb)}
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if result.returncode not in (0, 10, 20, 30):
        raise SystemExit(f"{command[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    wall, rss_kb = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(rss_kb) / 1024.0, result.stdout


def baseline_command(source: Path, target: Path) -> tuple[str, list[str]]:
    options = ["-co", "COMPRESS=DEFLATE", "-co", "BLOCKSIZE=512", "-co", "BIGTIFF=IF_SAFER"]
    tool = shutil.which("gdal_translate")
    if tool:
        return "gdal_translate -of COG", [
            tool,
            "-q",
            "-of",
            "COG",
            *options,
            str(source),
            str(target),
        ]
    script = (
        "import sys, rasterio.shutil as s; s.copy(sys.argv[1], sys.argv[2], driver='COG', "
        "COMPRESS='DEFLATE', BLOCKSIZE=512, BIGTIFF='IF_SAFER')"
    )
    return "GDAL CreateCopy COG (gdal_translate's call)", [
        sys.executable,
        "-c",
        script,
        str(source),
        str(target),
    ]


def remediate_command(source: Path, target: Path, pack: Path, zones: Path) -> list[str]:
    mapgate = [sys.executable, "-m", "compliance.cli.main"]
    return [*mapgate, "remediate", str(source), "--out", str(target), "--pack", str(pack),
            "--zones", str(zones), "--format", "json", "--force"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, default=18_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--cache-mb", type=int, default=256, help="GDAL_CACHEMAX of every run")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    source = args.data / f"remediate_{args.pixels}.tif"
    if not source.exists():
        print(f"generating {source.name} ...", flush=True)
        make_raster(source, args.pixels)
    zones = args.data / "remediate_zones.geojson"
    make_zones(zones, args.pixels)
    mask_pack = args.data / "bench_mask.yaml"
    mask_pack.write_text(MASK_PACK)
    both_pack = args.data / "bench_mask_coarsen.yaml"
    both_pack.write_text(MASK_PACK + COARSEN_RULE)
    print(
        f"input: {source.stat().st_size / 1e9:.2f} GB, {args.pixels:,}^2 x 3 bands; "
        f"GDAL_CACHEMAX={args.cache_mb} MB for every run",
        flush=True,
    )

    label, base_cmd = baseline_command(source, args.data / "out_baseline.tif")
    runs = {
        label: base_cmd,
        "mapgate remediate (mask_zones)": remediate_command(
            source, args.data / "out_mask.tif", mask_pack, zones
        ),
        "mapgate remediate (coarsen 1 m + mask_zones)": remediate_command(
            source, args.data / "out_both.tif", both_pack, zones
        ),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, command in runs.items():
            wall, rss, out = timed(command, args.cache_mb)
            results[name].append((wall, rss))
            if out.startswith("{"):
                report = json.loads(out)
                steps = ", ".join(f"{a['condition']}: {a['status']}" for a in report["actions"])
                print(
                    f"  {name}: {report['original']['verdict']} -> "
                    f"{report['verdict']['verdict']} ({steps})",
                    flush=True,
                )
    base_wall = min(w for w, _ in results[label])
    base_rss = min(r for _, r in results[label])
    print(f"\n{'run':48} {'wall s':>8} {'x base':>7} {'peak RSS MB':>12} {'x base':>7}")
    for name, figures in results.items():
        wall, rss = min(w for w, _ in figures), max(r for _, r in figures)
        print(f"{name:48} {wall:8.1f} {wall / base_wall:7.2f} {rss:12.0f} {rss / base_rss:7.2f}")
    for name in ("out_baseline.tif", "out_mask.tif", "out_both.tif"):
        path = args.data / name
        if path.exists():
            print(f"{name}: {path.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
