"""Benchmark a whole ``mapgate check`` process on a small vector against a lean read.

The baseline is a process that keeps pandas out (as the command line does), imports
pyogrio and reads the file with ``read_arrow``: what any tool must pay to look at the file.
``mapgate check`` of the same file (default packs and zones, JSON output) is measured beside
it, one run of each command per round, rounds interleaved; printed are the median wall time
and CPU time (user + system, less sensitive to other work on a shared machine) of each,
and the median and range of the rounds' own ratios to the baseline.

``--against DIR`` (repeatable) also runs ``mapgate check`` with the package imported from
another source tree, in the same rounds: before and after figures from one run.

Usage: python bench/bench_startup.py [--repeat 7] [--data DIR] [--features 300]
       [--against DIR ...]
Data is generated once into --data (default bench/data, git-ignored).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

LEAN_READ = (
    "import sys; from compliance.cli.lean_import import without_data_frames; "
    "without_data_frames(); import pyogrio; pyogrio.read_arrow(sys.argv[1])"
)
MAPGATE = "import sys; sys.argv[0] = 'mapgate'; from compliance.cli.main import main; main()"


def make_small_vector(path: Path, n: int) -> None:
    """``n`` building-sized polygons of 24 vertices each in Seoul, as GeoJSON (about
    0.7 KB a feature)."""
    import numpy as np
    import pyarrow as pa
    import pyogrio
    import shapely

    rng = np.random.default_rng(7)
    lon = 126.9 + rng.random(n) * 0.2
    lat = 37.45 + rng.random(n) * 0.2
    geoms = shapely.buffer(shapely.points(lon, lat), 0.0002, quad_segs=6)
    table = pa.table({"id": np.arange(n), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table, path, driver="GeoJSON", geometry_name="geometry", geometry_type="Polygon",
        crs="EPSG:4326",
    )  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], pythonpath: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one process; it must succeed (a verdict's code counts)."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    cpu, started = _children_cpu(), time.perf_counter()
    # -P and a neutral folder: the package comes from ``pythonpath``, never from the cwd.
    done = subprocess.run(
        cmd, env=env, cwd=pythonpath.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode not in {0, 10, 20, 30}:
        raise SystemExit(f"{cmd} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed, cpu


def _summary(runs: list[float], base: list[float]) -> str:
    ratios = [t / b for t, b in zip(runs, base, strict=True)]
    spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
    return f"{statistics.median(runs):7.3f} {spread:>17s}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--features", type=int, default=300)
    parser.add_argument("--against", type=Path, action="append", default=[])
    args = parser.parse_args()
    args.data = args.data.resolve()  # the processes run in another folder
    args.against = [tree.resolve() for tree in args.against]

    args.data.mkdir(parents=True, exist_ok=True)
    small = args.data / f"small_{args.features}.geojson"
    if not small.exists():
        make_small_vector(small, args.features)
    py_args = [sys.executable, "-P"]
    check = ["check", str(small), "--format", "json"]
    rows: list[tuple[str, list[str], Path]] = [
        ("lean read (read_arrow, no pandas)", [*py_args, "-c", LEAN_READ, str(small)], ROOT),
        ("mapgate check (this tree)", [*py_args, "-c", MAPGATE, *check], ROOT),
    ]
    rows += [
        (f"mapgate check ({tree})", [*py_args, "-c", MAPGATE, *check], tree)
        for tree in args.against
    ]
    for tree in {ROOT, *args.against}:
        # Bytecode for every tree: where none is written (PYTHONDONTWRITEBYTECODE, a
        # read-only tree) a tree without it compiles every module in every round.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "compliance"),
                        str(tree / "api")], check=False)  # fmt: skip
    for _, cmd, tree in rows:  # warm the file cache once, unmeasured
        run(cmd, tree)
    wall: list[list[float]] = [[] for _ in rows]
    cpu: list[list[float]] = [[] for _ in rows]
    for _ in range(args.repeat):
        for i, (_, cmd, tree) in enumerate(rows):
            w, c = run(cmd, tree)
            wall[i].append(w)
            cpu[i].append(c)

    print(f"{small.name}: {small.stat().st_size / 1024:.0f} KB, {args.repeat} rounds")
    print(f"{'':40s} {'wall s':>7s} {'x lean (range)':>17s} {'CPU s':>7s} {'x lean (range)':>17s}")
    for i, (label, _, _) in enumerate(rows):
        print(f"{label:40s} {_summary(wall[i], wall[0])} {_summary(cpu[i], cpu[0])}")


if __name__ == "__main__":
    main()
