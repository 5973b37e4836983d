"""Batch-audit throughput: plain in-process loops, the local pool (1, 2 workers), Dask.

Generates two archives in a temporary folder (never in the repository):

* ``small``: N small files (default 5,000), a third each GeoJSON, GeoPackage, GeoTIFF;
* ``large``: M large files (default 50), half ~20 MB GeoTIFFs, half GeoPackages of
  200,000 points each (every geometry is streamed through the checker).

and prints files/s for each way of running, the ratios the issue sets targets for, and
the peak RSS of each worker process (sampled every 100 ms: listing processes costs CPU
the workers would otherwise have), with the RSS after the first fifth of the files
beside it to show whether memory grows with the number of files. The Dask cluster
lives only through the Dask runs, so its idle ticking does not slow the other modes.

Two plain loops in this process: the "read loop" only reads each file
(``pyogrio.read_arrow`` for vectors, ``rasterio.open`` and metadata for rasters), the
baseline of issue #21's target (1 worker >= 0.7 of it); the "library loop" calls
``Checker.check`` on each file.

Each mode runs ``--rounds`` times, interleaved, and medians are compared: this kind of
machine is shared, and the CPU share the hypervisor steals is printed beside each run.

Usage: ``python bench/bench_audit.py [--small 5000] [--large 50] [--rounds 3] [--keep DIR]
[--no-dask] [--issue-rows] [--quick]``; ``--quick`` is ``--issue-rows --small 1000
--rounds 1``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyogrio
import rasterio
from affine import Affine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.batch.run import audit  # noqa: E402
from compliance.checker import Checker  # noqa: E402
from compliance.readers.discover import discover  # noqa: E402
from tests.batch.fixtures import (  # noqa: E402
    ATLANTIC,
    BUSAN,
    DELHI,
    SEOUL,
    write_points,
    write_raster,
    write_vector,
)  # fmt: skip

PLACES = [SEOUL, BUSAN, DELHI, ATLANTIC]
SEEDS_PER_KIND = 24


def make_small(root: Path, n: int) -> None:
    """``n`` small files copied from 72 distinct originals (writing each would take minutes)."""
    seeds = root / "_seeds"
    kinds: list[list[Path]] = [[], [], []]
    for i in range(SEEDS_PER_KIND):
        lon, lat = PLACES[i % 4]
        lon, lat = lon + (i % 5) * 0.02, lat + (i % 3) * 0.02
        kinds[0].append(write_vector(seeds / f"s{i}.geojson", lon, lat, n=4 + i % 5))
        kinds[1].append(write_vector(seeds / f"s{i}.gpkg", lon, lat, n=4 + i % 5))
        kinds[2].append(write_raster(seeds / f"s{i}.tif", lon, lat, size=16 + i, res_deg=1e-4))
    for i in range(n):
        seed = kinds[i % 3][(i // 3) % SEEDS_PER_KIND]
        dst = root / "small" / f"b{i // 250:03d}" / f"f{i:05d}{seed.suffix}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed, dst)


def _big_raster(path: Path, lon: float, lat: float) -> Path:
    side = 4500  # 4500 x 4500 x 1 byte, uncompressed: ~20 MB
    rng = np.random.default_rng(0)
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 1, "dtype": "uint8",
               "crs": "EPSG:4326", "transform": Affine(1e-5, 0, lon, 0, -1e-5, lat),
               "tiled": True}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(rng.integers(0, 255, (1, side, side), dtype=np.uint8))
    return path


def make_large(root: Path, n: int) -> None:
    """``n`` large files: half ~20 MB rasters, half 200k-point GeoPackages (copies of two)."""
    seeds = root / "_seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    raster = _big_raster(seeds / "big.tif", *BUSAN)
    points = write_points(seeds / "big.gpkg", *SEOUL, n=200_000)
    for i in range(n):
        seed = raster if i % 2 else points
        dst = root / "large" / f"L{i:03d}{seed.suffix}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed, dst)


@dataclass
class RssSampler:
    """Peak RSS per process of interest, and each one's RSS once a fifth of the work is done."""

    pids: Callable[[], list[int]]
    peak: dict[int, int] = field(default_factory=dict)
    early: dict[int, int] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    fifth: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.done.is_set():
            for pid in self.pids():
                try:
                    rss = psutil.Process(pid).memory_info().rss
                except psutil.Error:
                    continue
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
                if self.fifth.is_set() and pid not in self.early:
                    self.early[pid] = rss
            time.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def _pool_pids() -> list[int]:
    """The pool's workers: forked by the forkserver, so grandchildren of this process."""
    me = psutil.Process()
    direct = {p.pid for p in me.children()}
    return [p.pid for p in me.children(recursive=True) if p.pid not in direct]


@dataclass
class Result:
    name: str
    files: int
    seconds: float
    rss_mb: list[tuple[float, float]]  # (after a fifth, peak) per worker
    steal: float  # share of CPU time the hypervisor took during the run
    # Seconds and files per kind of file (its suffix), in the in-process loops only.
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.files / self.seconds


def _steal() -> float:
    return float(getattr(psutil.cpu_times(), "steal", 0.0))


def _timed(name: str, rows: Iterator[object], total: int, sampler: RssSampler) -> Result:
    start, steal, cpu = time.perf_counter(), _steal(), sum(psutil.cpu_times()[:3])
    with sampler:
        n = 0
        for _ in rows:
            n += 1
            if n == max(1, total // 5):
                sampler.fifth.set()
    seconds = time.perf_counter() - start
    busy = sum(psutil.cpu_times()[:3]) - cpu
    stolen = (_steal() - steal) / max(busy + _steal() - steal, 1e-9)
    mb = [
        (sampler.early.get(pid, 0) / 2**20, peak / 2**20)
        for pid, peak in sampler.peak.items()
        if pid in sampler.early
    ]  # processes that lived through the run, not stragglers
    return Result(name, n, seconds, sorted(mb), stolen)


def run_baseline(folder: Path, out: Path) -> Result:
    """A plain loop calling the library in this process (listing files, building a Checker)."""
    start = time.perf_counter()
    paths = [d.path for d in discover([folder]).datasets]
    checker = Checker()
    by_kind: dict[str, list[float]] = {}

    def rows() -> Iterator[object]:
        for p in paths:
            t = time.perf_counter()
            try:
                row: object = checker.check(p)
            except OSError as exc:
                row = exc
            _tally(by_kind, p, time.perf_counter() - t)
            yield row

    result = _timed("plain library loop", rows(), len(paths), RssSampler(lambda: [os.getpid()]))
    result.seconds = time.perf_counter() - start
    result.by_kind = by_kind
    return result


def _tally(by_kind: dict[str, list[float]], path: Path, seconds: float) -> None:
    kind = by_kind.setdefault(path.suffix.lower(), [0.0, 0.0])
    kind[0] += seconds
    kind[1] += 1


def _read(path: Path) -> object:
    """What reading a file costs at least: its features, or a raster's metadata."""
    if path.suffix.lower() in (".tif", ".tiff"):
        with rasterio.open(path) as src:
            return (src.profile, src.bounds, src.crs, src.transform, src.tags())
    return pyogrio.read_arrow(path)


def run_read_loop(folder: Path, out: Path) -> Result:
    """The issue's baseline: one process listing the files and reading each one, with
    ``pyogrio.read_arrow`` (vectors) or ``rasterio.open`` and its metadata (rasters)."""
    start = time.perf_counter()
    paths = sorted(p for p in folder.rglob("*") if p.suffix in (".geojson", ".gpkg", ".tif"))
    by_kind: dict[str, list[float]] = {}

    def rows() -> Iterator[object]:
        for p in paths:
            t = time.perf_counter()
            row = _read(p)
            _tally(by_kind, p, time.perf_counter() - t)
            yield row

    result = _timed("plain read loop", rows(), len(paths), RssSampler(lambda: [os.getpid()]))
    result.seconds = time.perf_counter() - start
    result.by_kind = by_kind
    return result


def run_pool1(folder: Path, out: Path) -> Result:
    rows = audit([folder], workers=1, out=out / "pool1")
    return _timed("pool, 1 worker", rows, _count(folder), RssSampler(_pool_pids))


def run_pool2(folder: Path, out: Path) -> Result:
    rows = audit([folder], workers=2, out=out / "pool2")
    return _timed("pool, 2 workers", rows, _count(folder), RssSampler(_pool_pids))


def run_dask(folder: Path, out: Path) -> Result:
    # The cluster lives only for this run: idle, its processes would still tick (heartbeats,
    # monitors) and take CPU from the other modes' runs.
    with _cluster() as client:
        pids = list(client.run(os.getpid).values())
        rows = audit([folder], scheduler=client, out=out / "dask")
        return _timed(
            "dask LocalCluster, 2 workers", rows, _count(folder), RssSampler(lambda: pids)
        )


def _count(folder: Path) -> int:
    return len(discover([folder]).datasets)


Mode = Callable[[Path, Path], Result]


def bench(name: str, folder: Path, out: Path, modes: list[Mode], rounds: int) -> None:
    """Run every mode ``rounds`` times, interleaved, and print medians (the machine is noisy)."""
    print(f"\n== {name}: {_count(folder)} files, {_size_mb(folder):.0f} MB, {rounds} rounds ==",
          flush=True)  # fmt: skip
    runs: dict[str, list[Result]] = {}
    for _ in range(rounds):
        for mode in modes:
            r = mode(folder, out)
            runs.setdefault(r.name, []).append(r)
            _print(r)
    med = {k: statistics.median(r.rate for r in v) for k, v in runs.items()}
    print("  -- median files/s: " + ", ".join(f"{k} {v:.1f}" for k, v in med.items()))
    for k, v in runs.items():
        peaks = [max((p for _, p in r.rss_mb), default=0) for r in v]
        print(f"  -- {k}: peak RSS per process {max(peaks):.0f} MB")
    _ratios(runs, med)
    _kinds(runs)


def _kinds(runs: dict[str, list[Result]]) -> None:
    """Where the library loop's time goes by kind of file: ms a file read and checked, the
    median over rounds (the per-file calls alone, without listing the files)."""
    reads, checks = runs.get("plain read loop"), runs.get("plain library loop")
    if not reads or not checks:
        return
    for kind in sorted(reads[0].by_kind):
        read = statistics.median(r.by_kind[kind][0] / r.by_kind[kind][1] for r in reads)
        check = statistics.median(r.by_kind[kind][0] / r.by_kind[kind][1] for r in checks)
        print(f"  per {kind:<9} file: read {read * 1e3:6.2f} ms, check {check * 1e3:6.2f} ms "
              f"({check / read:.1f}x)")  # fmt: skip


def _paired(runs: dict[str, list[Result]], a: str, b: str) -> str:
    """``b``'s rate over ``a``'s within each round (minutes apart, not a whole benchmark
    apart), which the machine's slow drifts in speed disturb less."""
    paired = [y.rate / x.rate for x, y in zip(runs[a], runs[b], strict=True)]
    return f"per round {', '.join(f'{r:.2f}' for r in paired)}"


def _ratios(runs: dict[str, list[Result]], med: dict[str, float]) -> None:
    one, two = med.get("pool, 1 worker"), med.get("pool, 2 workers")
    read, library = med.get("plain read loop"), med.get("plain library loop")
    if one and read:
        verdict = "met" if one / read >= 0.7 else "NOT met"
        print(f"  1 worker / plain read loop    : {one / read:.2f}x  (target >= 0.7: {verdict}); "
              f"{_paired(runs, 'plain read loop', 'pool, 1 worker')}")  # fmt: skip
    if library and read:
        print(f"  plain library loop / read loop: {library / read:.2f}x  (for reference)")
    if one and two:
        print(f"  2 workers / 1 worker          : {two / one:.2f}x  (target >= 1.8x); "
              f"{_paired(runs, 'pool, 1 worker', 'pool, 2 workers')}")  # fmt: skip
    for rate, label in ((one, "1 worker"), (two, "2 workers")):
        if rate and library:
            print(f"  {label + ' / plain library loop':<30}: {rate / library:.2f}x")
    dask_rate = med.get("dask LocalCluster, 2 workers")
    if dask_rate and two:
        print(f"  dask time / pool(2) time      : {two / dask_rate:.2f}x  (target <= 1.3x)")


def _print(r: Result) -> None:
    mem = ", ".join(f"{early:.0f}->{peak:.0f}" for early, peak in r.rss_mb)
    print(f"  {r.name:<30} {r.files:>6} files {r.seconds:7.1f} s {r.rate:8.1f} files/s  "
          f"steal {r.steal:4.0%}  RSS MB at 1/5 -> peak: {mem}", flush=True)  # fmt: skip


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (and reuse) this folder")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument(
        "--issue-rows",
        action="store_true",
        help="only the small archive and the modes the issue's target needs: the plain read "
        "loop, the plain library loop and 1 worker (minutes, not an hour)",
    )
    parser.add_argument("--quick", action="store_true", help="--issue-rows, 1,000 files, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.issue_rows, args.small, args.rounds = True, 1000, 1
    modes: list[Mode] = [run_read_loop, run_baseline, run_pool1]
    if args.issue_rows:
        args.large = 0
    else:
        modes += [run_pool2] + ([] if args.no_dask else [run_dask])
    root = args.keep or Path(tempfile.mkdtemp(prefix="mapgate-bench-"))
    try:
        print(f"cpus: {len(os.sched_getaffinity(0))}, load {os.getloadavg()}, data in {root}",
              flush=True)  # fmt: skip
        t = time.perf_counter()
        if args.small and not (root / "small").exists():
            make_small(root, args.small)
        if args.large and not (root / "large").exists():
            make_large(root, args.large)
        print(f"generated in {time.perf_counter() - t:.0f} s", flush=True)
        if args.small:
            bench("small files", root / "small", root / "_out", modes, args.rounds)
        if args.large:
            bench("large files", root / "large", root / "_out", modes, args.rounds)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _cluster() -> Iterator[Any]:
    """A 2-worker, 1-thread-each LocalCluster and its client (started outside the timings)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield client


if __name__ == "__main__":
    main()
