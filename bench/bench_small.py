"""What checking one small file costs beside reading it, warm in-process and as a process.

Generates, in a temporary folder, a ~93 KB GeoJSON of 300 polygons in lon/lat around
Seoul, the same polygons as a GeoPackage, and a 256 x 256 GeoTIFF, then prints:

(a) warm, in this process: one ``compliance.Checker()`` built once, then ``check(path)``
    beside ``pyogrio.read_arrow(path)`` (for the GeoTIFF: ``rasterio.open`` and reading
    its metadata, since a check reads no pixel), alternating one of each per repetition;
    median milliseconds, their ratio and the quartiles of the repetitions' own ratios.
    The issue's target for the GeoJSON row: <= 1.5x.
(b) whole process: ``python -m compliance.cli.main check FILE --format json`` beside a
    lean read process (pandas and geopandas kept out, as the command line keeps them out),
    in interleaved rounds; median wall time and peak RSS (wait4) and their ratios, with
    ``python -c pass`` (interpreter start) as a reference row. Target: <= 1.2x.

Usage: python bench/bench_small.py [--reps 300] [--rounds 15] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# Only the standard library at the top: the whole-process rounds are started from this
# process, and a child inherits its parent's resident size into its own peak (Linux
# counts the forked image), so the heavy imports and the warm Checker live in a child.
REPO = Path(__file__).resolve().parent.parent
POLYGONS = 300
TARGET_BYTES = 93_000


def _polygons(vertices: list[int]) -> str:
    """A FeatureCollection of irregular polygons around Seoul, ``vertices[i]`` each."""
    import numpy as np

    rng = np.random.default_rng(21)
    features = []
    for i, n in enumerate(vertices):
        lon, lat = 126.90 + rng.random() * 0.2, 37.50 + rng.random() * 0.1
        angles = np.sort(rng.random(n)) * 2 * np.pi
        radius = 0.0002 + rng.random(n) * 0.0004
        ring = [
            [round(lon + r * np.cos(a), 6), round(lat + r * np.sin(a), 6)]
            for a, r in zip(angles, radius, strict=True)
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"id": i, "name": f"building {i}"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features})


def make_geojson(path: Path) -> Path:
    """300 polygons with as many vertices as make ~93 KB (the issue's file)."""
    fewer = 4
    while len(_polygons([fewer + 1] * POLYGONS)) < TARGET_BYTES:
        fewer += 1
    # Between ``fewer`` and ``fewer + 1`` vertices each: give the extra one to as many
    # polygons as bring the file to the target size.
    low, high = len(_polygons([fewer] * POLYGONS)), len(_polygons([fewer + 1] * POLYGONS))
    extra = round(POLYGONS * (TARGET_BYTES - low) / (high - low))
    path.write_text(_polygons([fewer + (i < extra) for i in range(POLYGONS)]))
    return path


def make_gpkg(path: Path, geojson: Path) -> Path:
    import pyogrio

    pyogrio.write_arrow(
        pyogrio.read_arrow(geojson)[1],
        path,
        layer="buildings",
        driver="GPKG",
        geometry_name="wkb_geometry",
        geometry_type="Polygon",
        crs="EPSG:4326",
    )
    return path


def make_geotiff(path: Path, side: int = 256) -> Path:
    """A deflated uint8 GeoTIFF of ``side``² pixels at 0.5 m in UTM 52N, over Seoul."""
    import numpy as np
    import rasterio
    from affine import Affine

    data = (np.arange(side * side).reshape(1, side, side) % 251).astype(np.uint8)
    profile = {
        "driver": "GTiff", "width": side, "height": side, "count": 1, "dtype": "uint8",
        "crs": "EPSG:32652", "transform": Affine(0.5, 0, 322_000, 0, -0.5, 4_158_000),
        "tiled": True, "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def make_files(work: Path) -> dict[str, Path]:
    geojson = make_geojson(work / "buildings_300.geojson")
    return {
        f"GeoJSON, {geojson.stat().st_size / 1e3:.0f} KB": geojson,
        "GeoPackage, same polygons": make_gpkg(work / "buildings_300.gpkg", geojson),
        "GeoTIFF, 256 x 256": make_geotiff(work / "ortho_256.tif"),
    }


def read_raster_metadata(path: Path) -> object:
    """What a check needs of a raster without its pixels: the baseline for a GeoTIFF."""
    import rasterio

    with rasterio.open(path) as src:
        return (src.profile, src.bounds, src.crs, src.transform, src.res, src.tags(),
                src.overviews(1), src.nodatavals)  # fmt: skip


def paired(
    check: Callable[[], object], base: Callable[[], object], reps: int
) -> tuple[list[float], list[float]]:
    """Seconds of ``reps`` calls of each, one of each per repetition, the order turning
    every repetition (a slow spell on a shared machine then slows both alike)."""
    for _ in range(5):  # warm-up: first opens, caches, lazy imports
        check()
        base()
    a: list[float] = []
    b: list[float] = []
    gc.collect()
    for r in range(reps):
        for fn, out in ((check, a), (base, b)) if r % 2 else ((base, b), (check, a)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return a, b


def quartiles(ratios: list[float]) -> str:
    q = statistics.quantiles(ratios, n=4)
    return f"per repetition {q[1]:.2f}x (quartiles {q[0]:.2f}-{q[2]:.2f})"


def target(ratio: float, limit: float) -> str:
    return f"(target <= {limit}x: {'met' if ratio <= limit else 'NOT met'})"


def warm(work: Path, reps: int) -> None:
    """Part (a); run in a child process of its own (see the imports)."""
    import pyogrio

    sys.path.insert(0, str(REPO))
    from compliance import Checker

    files = make_files(work)
    print(f"{POLYGONS} polygons around Seoul in EPSG:4326, load {os.getloadavg()[0]:.2f}")
    print(f"\n(a) warm, in-process: one Checker, {reps} alternating repetitions, median ms")
    t0 = time.perf_counter()
    checker = Checker()
    print(f"  Checker() built in {(time.perf_counter() - t0) * 1000:.0f} ms (once, not counted)")
    print(f"  {'file':<26} {'check':>8} {'baseline':>9} {'ratio':>7}  baseline")
    for label, path in files.items():
        raster = path.suffix == ".tif"
        base_name = "rasterio.open+metadata" if raster else "pyogrio.read_arrow"
        read: Callable[[Path], object] = read_raster_metadata if raster else pyogrio.read_arrow
        a, b = paired(partial(checker.check, path), partial(read, path), reps)
        ratio = statistics.median(a) / statistics.median(b)
        print(f"  {label:<26} {statistics.median(a) * 1000:8.2f} "
              f"{statistics.median(b) * 1000:9.2f} {ratio:6.2f}x  {base_name}")  # fmt: skip
        note = target(ratio, 1.5) if path.suffix == ".geojson" else "(no target; for reference)"
        print(f"    {quartiles([x / y for x, y in zip(a, b, strict=True)])} {note}")


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    # mapgate check answers with the verdict's code: 0, 10, 20 or 30.
    if os.waitstatus_to_exitcode(status) not in (0, 10, 20, 30):
        raise SystemExit(f"{cmd[:4]} failed with {os.waitstatus_to_exitcode(status)}: {err}")
    return elapsed, usage.ru_maxrss / 1024


def whole_process(path: Path, rounds: int) -> None:
    py = sys.executable
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    # An installed mapgate has its modules compiled (pip does it for a wheel).
    subprocess.run([py, "-m", "compileall", "-q", str(REPO / "compliance")], check=True,
                   stdout=subprocess.DEVNULL, env=env)  # fmt: skip
    cmds = {
        "mapgate check": [py, "-m", "compliance.cli.main", "check", str(path), "--format", "json"],
        "lean read (baseline)": [py, "-c", (
            "from compliance.cli.lean_import import without_data_frames; without_data_frames(); "
            f"import pyogrio; t = pyogrio.read_arrow({str(path)!r})")],
        "python -c pass": [py, "-c", "pass"],
    }  # fmt: skip
    names = list(cmds)
    runs: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for _ in range(2):  # warm-up: the page cache, compiled modules
        for n in names:
            measure(cmds[n], env)
    for r in range(rounds):
        for k in range(len(names)):
            n = names[(k + r) % len(names)]
            runs[n].append(measure(cmds[n], env))
    print(f"\n(b) whole process, {path.name}: median of {rounds} interleaved rounds")
    print(f"  {'':<22} {'time s':>8} {'peak MB':>8}")
    med = {n: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v))
           for n, v in runs.items()}  # fmt: skip
    for n, (t, m) in med.items():
        print(f"  {n:<22} {t:8.3f} {m:8.0f}")
    (ct, cm), (bt, bm) = med["mapgate check"], med["lean read (baseline)"]
    per_round = sorted(
        c[0] / b[0]
        for c, b in zip(runs["mapgate check"], runs["lean read (baseline)"], strict=True)
    )
    print(f"  mapgate check / lean read: time {ct / bt:.2f}x {target(ct / bt, 1.2)}, per round "
          f"{statistics.median(per_round):.2f}x (range {per_round[0]:.2f}-{per_round[-1]:.2f}); "
          f"memory {cm / bm:.2f}x")  # fmt: skip
    pt = med["python -c pass"][0]
    print(f"  above interpreter start: check {ct - pt:.3f} s, lean read {bt - pt:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300, help="warm repetitions per file")
    parser.add_argument("--rounds", type=int, default=15, help="whole-process rounds")
    parser.add_argument("--quick", action="store_true", help="100 reps, 5 rounds (~1 minute)")
    parser.add_argument("--warm-in", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.reps, args.rounds = 100, 5
    if args.warm_in is not None:
        warm(args.warm_in, args.reps)
        return
    print(f"{len(os.sched_getaffinity(0))} CPUs, load {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-small-") as tmp:
        cmd = [sys.executable, __file__, "--warm-in", tmp, "--reps", str(args.reps)]
        subprocess.run(cmd, check=True)
        whole_process(Path(tmp) / "buildings_300.geojson", args.rounds)


if __name__ == "__main__":
    main()
