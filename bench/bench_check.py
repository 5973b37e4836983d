"""Benchmark `mapgate check` on a large vector and on rasters of growing size.

Prints whole-process wall time and peak memory (max RSS), as medians of interleaved rounds
(one run of each command per round), and the median and range of the rounds' own ratios:
  * a plain ``pyogrio.read_arrow`` of the file (the baseline),
  * ``mapgate check`` of the same file against 10,000 zones,
  * the same read with pandas and geopandas kept out, as the command line keeps them out,
  * a naive ``geopandas.read_file`` + ``sjoin`` (for reference),
and the ratios to the baseline, measured in the same run. Then the raster check time for
rasters of 1x, 16x and 256x the pixels (it must not grow: no pixel is read).

Then the same check of the same polygons carried to EPSG:4326, beside its own plain read.

Usage: python bench/bench_check.py [--features 1000000] [--zones 10000] [--repeat 3] [--data DIR]
       [--skip-naive] [--skip-lonlat]
Data is generated once into --data (default bench/data, git-ignored).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_vector(path: Path, n: int, crs: str = "EPSG:5186") -> None:
    """``n`` building-sized boxes in EPSG:5186; with ``crs="EPSG:4326"`` the same boxes
    carried to lon/lat, which exercises the geographic-CRS path of the zone index."""
    import pyarrow as pa
    import pyogrio
    import shapely
    from pyproj import Transformer

    rng = np.random.default_rng(42)
    # Korea 2000 / Central Belt 2010 (EPSG:5186): a 60 x 60 km block around Seoul.
    x = 180_000 + rng.random(n) * 60_000
    y = 530_000 + rng.random(n) * 60_000
    w = 3 + rng.random(n) * 12
    h = 3 + rng.random(n) * 12
    geoms = shapely.box(x, y, x + w, y + h)
    if crs != "EPSG:5186":
        t = Transformer.from_crs("EPSG:5186", crs, always_xy=True)
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        )
    table = pa.table({"id": np.arange(n), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table,
        path,
        layer="buildings",
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Polygon",
        crs=crs,
    )


def make_zones(path: Path, n: int) -> None:
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(7)
    lon = 124.5 + rng.random(n) * 7.0
    lat = 33.0 + rng.random(n) * 5.5
    size = 0.002 + rng.random(n) * 0.01
    frame = gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(n)],
            "zone_class": rng.choice(["military", "energy", "government"], n),
            "buffer_m": rng.choice([0.0, 100.0, 500.0], n),
        },
        geometry=shapely.box(lon, lat, lon + size, lat + size),
        crs=4326,
    )
    frame.to_file(path, driver="GPKG")


def make_raster(path: Path, side: int) -> None:
    import rasterio
    from rasterio.transform import from_origin

    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(320_000, 4_030_000, 0.5, 0.5),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "SPARSE_OK": True,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, 512, 512), 7, dtype="uint8"), window=((0, 512), (0, 512)))


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 10, 20, 30):
        raise SystemExit(
            f"{cmd[:4]} failed with {code}: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss / 1024


def best_of(cmd: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(cmd) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def interleaved(cmds: list[list[str]], repeat: int) -> list[list[tuple[float, float]]]:
    """Each command's runs, taken in rounds of one run each (the order turning every
    round): on a shared machine a slow spell then slows every command alike, rather than
    whichever happened to be running, and each round gives its own ratio."""
    runs: list[list[tuple[float, float]]] = [[] for _ in cmds]
    for r in range(repeat):
        for k in range(len(cmds)):
            i = (k + r) % len(cmds)
            runs[i].append(measure(cmds[i]))
    return runs


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs)


def _round_ratios(runs: list[tuple[float, float]], base: list[tuple[float, float]]) -> str:
    ratios = sorted(t / b for (t, _), (b, _) in zip(runs, base, strict=True))
    return f"per round {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})"


RASTER_SIDES = (4_096, 16_384, 65_536)


def generate(
    args: argparse.Namespace, vector: Path, zones: Path, lonlat: Path, rasters: dict[int, Path]
) -> None:
    """Write whatever data is missing (run in a child process, see main)."""
    if not vector.exists():
        print(f"generating {vector.name} ...", flush=True)
        make_vector(vector, args.features)
    if not zones.exists():
        make_zones(zones, args.zones)
    if not args.skip_lonlat and not lonlat.exists():
        print(f"generating {lonlat.name} ...", flush=True)
        make_vector(lonlat, args.features, "EPSG:4326")
    for side, path in rasters.items():
        if not path.exists():
            make_raster(path, side)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=int, default=1_000_000)
    parser.add_argument("--zones", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument(
        "--skip-naive", action="store_true", help="skip the geopandas read + sjoin reference"
    )
    parser.add_argument(
        "--skip-lonlat", action="store_true", help="skip the same polygons in EPSG:4326"
    )
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    vector = args.data / f"buildings_{args.features}.gpkg"
    zones = args.data / f"zones_{args.zones}.gpkg"
    lonlat = args.data / f"buildings_{args.features}_4326.gpkg"
    rasters = {side: args.data / f"raster_{side}.tif" for side in RASTER_SIDES}
    wanted = [vector, zones, *rasters.values()] + ([] if args.skip_lonlat else [lonlat])
    if args.generate_only:
        generate(args, vector, zones, lonlat, rasters)
        return
    if not all(p.exists() for p in wanted):
        # In a child process: a child started after this one had grown to hold a million
        # polygons would report that memory as its own peak.
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--generate-only"], check=True)
    py = sys.executable
    # An installed mapgate has its modules compiled (pip does it for a wheel); a checkout
    # whose environment forbids writing bytecode would otherwise compile them in every run.
    subprocess.run(
        [py, "-m", "compileall", "-q", str(HERE.parent / "compliance"), str(HERE.parent / "api")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    baseline = [py, "-c", f"import pyogrio; t = pyogrio.read_arrow({str(vector)!r})"]
    # The command line declines pandas and geopandas, which pyogrio imports and the baseline
    # pays for; the same read without them shows what that alone is worth.
    lean_baseline = [
        py,
        "-c",
        "from compliance.cli.lean_import import without_data_frames; without_data_frames(); "
        f"import pyogrio; t = pyogrio.read_arrow({str(vector)!r})",
    ]
    check = [
        py,
        "-m",
        "compliance.cli.main",
        "check",
        str(vector),
        "--zones",
        str(zones),
        "--format",
        "json",
    ]
    naive = [
        py,
        "-c",
        (
            f"import geopandas as gpd; d = gpd.read_file({str(vector)!r}); z = gpd.read_file({str(zones)!r}).to_crs(d.crs); "
            "j = gpd.sjoin(d, z, predicate='intersects')"
        ),
    ]
    print(
        f"vector: {args.features:,} polygons in EPSG:5186 ({vector.stat().st_size / 1e6:.0f} MB), "
        f"{args.zones:,} zones in EPSG:4326; median of {args.repeat} interleaved rounds"
    )
    base_runs, check_runs, lean_runs = interleaved([baseline, check, lean_baseline], args.repeat)
    base_t, base_m = _median(base_runs)
    rows = [
        ("pyogrio.read_arrow (baseline)", base_t, base_m),
        ("mapgate check", *_median(check_runs)),
        ("read_arrow, no pandas/geopandas", *_median(lean_runs)),
    ]
    if not args.skip_naive:
        rows.append(("geopandas read_file + sjoin", *best_of(naive, max(1, args.repeat - 2))))
    print(f"{'':32s} {'time s':>8s} {'x base':>7s} {'peak MB':>8s} {'x base':>7s}")
    for name, t, m in rows:
        print(f"{name:32s} {t:8.2f} {t / base_t:7.2f} {m:8.0f} {m / base_m:7.2f}")
    lean_t, lean_m = rows[2][1], rows[2][2]
    print(
        f"{'mapgate check / lean read':32s} {rows[1][1] / lean_t:16.2f} {rows[1][2] / lean_m:16.2f}"
    )
    print(f"mapgate check / baseline, {_round_ratios(check_runs, base_runs)}")

    if not args.skip_lonlat:
        base = [py, "-c", f"import pyogrio; t = pyogrio.read_arrow({str(lonlat)!r})"]
        lon_runs, chk_runs = interleaved([base, [*check[:4], str(lonlat), *check[5:]]], args.repeat)
        (lon_t, lon_m), (chk_t, chk_m) = _median(lon_runs), _median(chk_runs)
        print("\nthe same polygons in EPSG:4326 (the lon/lat path of the zone index)")
        print(f"{'pyogrio.read_arrow (baseline)':32s} {lon_t:8.2f} {1:7.2f} {lon_m:8.0f} {1:7.2f}")
        print(
            f"{'mapgate check':32s} {chk_t:8.2f} {chk_t / lon_t:7.2f} {chk_m:8.0f} {chk_m / lon_m:7.2f}"
        )
        print(f"mapgate check / baseline, {_round_ratios(chk_runs, lon_runs)}")

    print("\nraster check (no pixel read): time must not grow with the pixel count")
    raster_rows: list[tuple[int, float, float]] = []
    for side, path in rasters.items():
        cmd = [
            py,
            "-m",
            "compliance.cli.main",
            "check",
            str(path),
            "--zones",
            str(zones),
            "--format",
            "json",
        ]
        raster_rows.append((side, *best_of(cmd, args.repeat)))
    first = raster_rows[0][1]
    for side, t, m in raster_rows:
        print(
            f"{side:6d} x {side:<6d} ({side * side / 1e6:8.0f} Mpx) {t:6.2f} s  x{t / first:5.2f}  {m:6.0f} MB"
        )


if __name__ == "__main__":
    main()
