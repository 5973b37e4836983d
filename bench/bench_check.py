"""Benchmark `mapgate check` on a large vector and on rasters of growing size.

Prints whole-process wall time and peak memory (max RSS), as medians of interleaved rounds
(one run of each command per round), and the median and range of the rounds' own ratios:
  * a plain ``pyogrio.read_arrow`` of the file,
  * ``mapgate check`` of the same file against 10,000 zones,
  * the same read with pandas and geopandas kept out, as the command line keeps them out
    (the "lean read": the baseline of the issue's target, <= 1.5x time, <= 1.2x memory),
  * a naive ``geopandas.read_file`` + ``sjoin`` (for reference).
Then the same check of the same polygons carried to EPSG:4326, beside its own plain read;
with ``--memory-scale 10``, the peak memory of checking ten times the polygons beside the
file's own (target <= 1.2x); and the raster check time for rasters of 1x, 16x and 256x
the pixels (it must not grow: no pixel is read).

Usage: python bench/bench_check.py [--features 1000000] [--zones 10000] [--repeat 3]
       [--memory-scale 10] [--data DIR] [--skip-naive] [--skip-lonlat] [--quick]
Data is generated once into --data (default bench/data, git-ignored) by a child process.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


CHUNK = 1_000_000  # polygons generated and written at a time


def _boxes(start: int, n: int, crs: str) -> Any:
    """Polygons ``start`` to ``start + n`` as an Arrow batch: building-sized boxes in
    EPSG:5186, or with ``crs="EPSG:4326"`` the same boxes carried to lon/lat, which
    exercises the geographic-CRS path of the zone index."""
    import pyarrow as pa
    import shapely
    from pyproj import Transformer

    # Each chunk has its own seed, so a file's first million polygons are the same
    # whatever its size (and the same as before files were written in chunks).
    rng = np.random.default_rng(42 + start // CHUNK)
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
    ids = np.arange(start, start + n)
    return pa.record_batch({"id": ids, "geometry": shapely.to_wkb(geoms)})


def make_vector(path: Path, n: int, crs: str = "EPSG:5186") -> None:
    """A GeoPackage of ``n`` polygons (see ``_boxes``), streamed to GDAL a million at a
    time: ten million (about 2 GB) need no more memory than the first million and the
    spatial index GDAL builds (bounded by GDAL itself)."""
    import pyarrow as pa
    import pyogrio

    starts = range(0, n, CHUNK)
    first = _boxes(0, min(CHUNK, n), crs)
    rest = (_boxes(s, min(CHUNK, n - s), crs) for s in starts[1:])
    stream = pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], rest))
    partial = path.with_name(f"{path.stem}.partial{path.suffix}")
    partial.unlink(missing_ok=True)
    pyogrio.write_arrow(
        stream,
        partial,
        layer="buildings",
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Polygon",
        crs=crs,
    )
    # Renamed once complete: an interrupted generation is never taken for the data.
    partial.rename(path)


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


def _round_ratios(
    runs: list[tuple[float, float]], base: list[tuple[float, float]], field: int = 0
) -> str:
    """The ratios of each round's own runs (``field`` 0: time, 1: peak memory)."""
    ratios = sorted(r[field] / b[field] for r, b in zip(runs, base, strict=True))
    return f"per round {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})"


RASTER_SIDES = (4_096, 16_384, 65_536)


def target(ratio: float, limit: float) -> str:
    """The issue's target (at most ``limit``) beside a ratio, and whether this run meets it."""
    return f"(target <= {limit}x: {'met' if ratio <= limit else 'NOT met'})"


@dataclass(frozen=True)
class Data:
    vector: Path
    zones: Path
    lonlat: Path | None
    scaled: Path | None  # the same polygons times --memory-scale, for the memory row
    rasters: dict[int, Path]

    def wanted(self) -> list[Path]:
        optional = [p for p in (self.lonlat, self.scaled) if p is not None]
        return [self.vector, self.zones, *optional, *self.rasters.values()]


def data_paths(args: argparse.Namespace) -> Data:
    folder, scaled = Path(args.data), args.features * args.memory_scale
    return Data(
        vector=folder / f"buildings_{args.features}.gpkg",
        zones=folder / f"zones_{args.zones}.gpkg",
        lonlat=None if args.skip_lonlat else folder / f"buildings_{args.features}_4326.gpkg",
        scaled=folder / f"buildings_{scaled}.gpkg" if args.memory_scale > 1 else None,
        rasters={side: folder / f"raster_{side}.tif" for side in RASTER_SIDES},
    )


def generate(args: argparse.Namespace, data: Data) -> None:
    """Write whatever data is missing (run in a child process, see main)."""
    if not data.vector.exists():
        print(f"generating {data.vector.name} ...", flush=True)
        make_vector(data.vector, args.features)
    if not data.zones.exists():
        make_zones(data.zones, args.zones)
    if data.lonlat is not None and not data.lonlat.exists():
        print(f"generating {data.lonlat.name} ...", flush=True)
        make_vector(data.lonlat, args.features, "EPSG:4326")
    if data.scaled is not None and not data.scaled.exists():
        print(f"generating {data.scaled.name} (streamed) ...", flush=True)
        make_vector(data.scaled, args.features * args.memory_scale)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  generator's peak RSS {peak:.0f} MB", flush=True)
    for side, path in data.rasters.items():
        if not path.exists():
            make_raster(path, side)


def check_cmd(path: Path, zones: Path) -> list[str]:
    return [
        sys.executable, "-m", "compliance.cli.main", "check", str(path),
        "--zones", str(zones), "--format", "json",
    ]  # fmt: skip


def read_cmd(path: Path, lean: bool) -> list[str]:
    """A whole process that reads ``path`` with ``pyogrio.read_arrow``; ``lean`` keeps pandas
    and geopandas out, as the command line keeps them out."""
    lean_code = (
        "from compliance.cli.lean_import import without_data_frames; without_data_frames(); "
    )
    read = f"import pyogrio; t = pyogrio.read_arrow({str(path)!r})"
    return [sys.executable, "-c", (lean_code if lean else "") + read]


def vector_rows(args: argparse.Namespace, data: Data) -> None:
    vector, zones = data.vector, data.zones
    naive = [
        sys.executable,
        "-c",
        (
            f"import geopandas as gpd; d = gpd.read_file({str(vector)!r}); "
            f"z = gpd.read_file({str(zones)!r}).to_crs(d.crs); "
            "j = gpd.sjoin(d, z, predicate='intersects')"
        ),
    ]
    print(
        f"vector: {args.features:,} polygons in EPSG:5186 ({vector.stat().st_size / 1e6:.0f} MB), "
        f"{args.zones:,} zones in EPSG:4326; median of {args.repeat} interleaved rounds"
    )
    # The command line declines pandas and geopandas, which pyogrio imports and the plain
    # read pays for; the lean read is the baseline the target is set against.
    base_runs, check_runs, lean_runs = interleaved(
        [read_cmd(vector, False), check_cmd(vector, zones), read_cmd(vector, True)], args.repeat
    )
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
    time_ratio, mem_ratio = rows[1][1] / rows[2][1], rows[1][2] / rows[2][2]
    print(f"{'mapgate check / lean read':32s} {time_ratio:16.2f} {mem_ratio:16.2f}")
    print(f"  time   {time_ratio:.2f}x {target(time_ratio, 1.5)}, "
          f"{_round_ratios(check_runs, lean_runs)}")  # fmt: skip
    print(f"  memory {mem_ratio:.2f}x {target(mem_ratio, 1.2)}, "
          f"{_round_ratios(check_runs, lean_runs, 1)}")  # fmt: skip
    print(f"mapgate check / baseline, {_round_ratios(check_runs, base_runs)}")


def lonlat_rows(args: argparse.Namespace, data: Data) -> None:
    assert data.lonlat is not None
    lon_runs, chk_runs = interleaved(
        [read_cmd(data.lonlat, False), check_cmd(data.lonlat, data.zones)], args.repeat
    )
    (lon_t, lon_m), (chk_t, chk_m) = _median(lon_runs), _median(chk_runs)
    print("\nthe same polygons in EPSG:4326 (the lon/lat path of the zone index)")
    print(f"{'pyogrio.read_arrow (baseline)':32s} {lon_t:8.2f} {1:7.2f} {lon_m:8.0f} {1:7.2f}")
    print(
        f"{'mapgate check':32s} {chk_t:8.2f} {chk_t / lon_t:7.2f} {chk_m:8.0f} {chk_m / lon_m:7.2f}"
    )
    print(f"mapgate check / baseline, {_round_ratios(chk_runs, lon_runs)}")


def memory_rows(args: argparse.Namespace, data: Data) -> None:
    """Peak memory of ``mapgate check`` on the file and on one ``--memory-scale`` times its
    size (the same polygons' kind and density): it must stay bounded, not follow the count."""
    assert data.scaled is not None
    big_n = args.features * args.memory_scale
    print(f"\npeak memory as the feature count grows ({data.scaled.stat().st_size / 1e6:.0f} MB "
          f"for {big_n:,}); mapgate check, median of {args.repeat} interleaved rounds")  # fmt: skip
    small, big = interleaved(
        [check_cmd(data.vector, data.zones), check_cmd(data.scaled, data.zones)], args.repeat
    )
    (small_t, small_m), (big_t, big_m) = _median(small), _median(big)
    print(f"{'':32s} {'time s':>8s} {'x':>7s} {'peak MB':>8s} {'x':>7s}")
    print(f"{f'{args.features:,} polygons':32s} {small_t:8.2f} {1:7.2f} {small_m:8.0f} {1:7.2f}")
    print(
        f"{f'{big_n:,} polygons':32s} {big_t:8.2f} {big_t / small_t:7.2f} "
        f"{big_m:8.0f} {big_m / small_m:7.2f}"
    )
    ratio = big_m / small_m
    print(f"  memory {args.memory_scale}x features / 1x: {ratio:.2f}x {target(ratio, 1.2)}, "
          f"{_round_ratios(big, small, 1)}")  # fmt: skip


def raster_rows(args: argparse.Namespace, data: Data) -> None:
    print("\nraster check (no pixel read): time must not grow with the pixel count")
    rows = [
        (side, *best_of(check_cmd(path, data.zones), args.repeat))
        for side, path in data.rasters.items()
    ]
    first = rows[0][1]
    for side, t, m in rows:
        print(
            f"{side:6d} x {side:<6d} ({side * side / 1e6:8.0f} Mpx) {t:6.2f} s  x{t / first:5.2f}  {m:6.0f} MB"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a look in about two minutes: 50,000 polygons, 1,000 zones, memory row at 10x",
    )
    parser.add_argument("--features", type=int, help="default 1,000,000 (50,000 with --quick)")
    parser.add_argument("--zones", type=int, help="default 10,000 (1,000 with --quick)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument(
        "--memory-scale",
        type=int,
        help="also check a file of this many times --features and compare peak memory "
        "(the issue's row is 10: 10M vs 1M); default off (10 with --quick)",
    )
    parser.add_argument(
        "--skip-naive", action="store_true", help="skip the geopandas read + sjoin reference"
    )
    parser.add_argument(
        "--skip-lonlat", action="store_true", help="skip the same polygons in EPSG:4326"
    )
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.features is None:
        args.features = 50_000 if args.quick else 1_000_000
    if args.zones is None:
        args.zones = 1_000 if args.quick else 10_000
    if args.memory_scale is None:
        args.memory_scale = 10 if args.quick else 0
    if args.quick:
        args.skip_naive = args.skip_lonlat = True
    return args


def main() -> None:
    args = parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    data = data_paths(args)
    if args.generate_only:
        return generate(args, data)
    if not all(p.exists() for p in data.wanted()):
        # In a child process: a child started after this one had grown to hold a million
        # polygons would report that memory as its own peak.
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--generate-only"], check=True)
    # An installed mapgate has its modules compiled (pip does it for a wheel); a checkout
    # whose environment forbids writing bytecode would otherwise compile them in every run.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "compliance"),
         str(HERE.parent / "api")],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    vector_rows(args, data)
    if data.lonlat is not None:
        lonlat_rows(args, data)
    if data.scaled is not None:
        memory_rows(args, data)
    raster_rows(args, data)


if __name__ == "__main__":
    main()
