"""What meeting numbers with geometries as contour levels costs a check, beside reading the file.

``measure/contour_levels.py`` meets every numeric field (and text field of numbers) of a
layer of lines or polygons with its geometries when the field holds at least three and at
most 5,000 distinct values. Generates, in a temporary folder, six GeoPackages in UTM 43N
near Delhi, each with a small integer field; three of lines:

* ``grid``: a street grid of about 50,000 segments, lanes 1-4: lines of two levels meet end
  to end, found from their shared ends;
* ``crossing``: 20,000 random segments that cross each other, lanes 1-4: found by GEOS,
  in chunks, until no cover could be small enough;
* ``contours``: rings around 60 hills, each cut into four arcs, the level in ``v``: met in
  full (crossings, then the nearest lines of other levels), and held for review;

and three of polygons (``measure/contour_areas.py``):

* ``floors``: 100,000 buildings apart, floors 1-15: no two boxes one level apart meet, so
  the polygons are never decoded;
* ``terraces``: 100,000 buildings in rows that touch, floors 1-15: the touching pairs are
  met, until no cover could be small enough;
* ``bands``: the bands between the rings around 60 hills, the lower level in ``lo``: met
  in full, and held for review.

For each file it prints the median of ``--reps`` warm ``Checker.check`` calls, beside a
plain ``pyogrio.read_arrow`` of the same file (the baseline, alternated with the checks),
and their ratio; and the part of the check spent in ``LevelLines`` (its ``add`` and
``found``: cProfile, one further check). Usage: python bench/bench_levels.py [--reps 5] [--quick] (``--quick``: one
rep over files a quarter the size).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from compliance import Checker  # noqa: E402

ORIGIN = (700_000.0, 3_160_000.0)  # EPSG:32643, near Delhi


def _write(path: Path, geoms: list, fields: dict[str, np.ndarray]) -> Path:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(fields, geometry=geoms, crs=32643)
    pyogrio.write_dataframe(frame, path, layer="features")
    return path


def make_grid(path: Path, side: int = 160) -> Path:
    rng = np.random.default_rng(0)
    xs, ys = np.meshgrid(np.arange(side) * 100.0, np.arange(side) * 100.0)
    xs = xs + rng.normal(0, 15, xs.shape) + ORIGIN[0]
    ys = ys + rng.normal(0, 15, ys.shape) + ORIGIN[1]
    ends = [
        ((xs[i, j], ys[i, j]), (xs[i, j + 1], ys[i, j + 1]))
        for i in range(side)
        for j in range(side - 1)
    ]
    ends += [
        ((xs[i, j], ys[i, j]), (xs[i + 1, j], ys[i + 1, j]))
        for i in range(side - 1)
        for j in range(side)
    ]
    lines = list(shapely.segmentize(shapely.linestrings(np.array(ends)), 5.0))
    return _write(path, lines, {"lanes": rng.integers(1, 5, len(lines))})


def make_crossing(path: Path, n: int = 20_000) -> Path:
    rng = np.random.default_rng(1)
    start = rng.random((n, 2)) * 10_000 + ORIGIN
    stop = start + rng.normal(0, 200, (n, 2))
    lines = list(shapely.segmentize(shapely.linestrings(np.stack([start, stop], 1)), 5.0))
    return _write(path, lines, {"lanes": rng.integers(1, 5, n)})


def make_contours(path: Path, hills: int = 60, rings: int = 20) -> Path:
    rng = np.random.default_rng(2)
    lines, levels = [], []
    side = int(np.ceil(np.sqrt(hills)))
    for h in range(hills):
        cx, cy = ORIGIN[0] + (h % side) * rings * 45, ORIGIN[1] + (h // side) * rings * 45
        top = int(rng.integers(100, 300)) + rings
        for i in range(rings):
            radius = 50 + 20 * i
            n = max(8, int(2 * np.pi * radius / 2))
            angle = np.linspace(0, 2 * np.pi, n + 1)
            xy = np.column_stack([cx + radius * np.cos(angle), cy + radius * np.sin(angle)])
            for k in range(4):
                lines.append(shapely.linestrings(xy[k * n // 4 : (k + 1) * n // 4 + 1]))
                levels.append(float(top - i))
    return _write(path, lines, {"v": np.array(levels)})


def make_buildings(path: Path, n: int = 100_000, touching: bool = False) -> Path:
    rng = np.random.default_rng(3)
    side = int(np.sqrt(n))
    i, j = np.divmod(np.arange(side * side), side)
    width, step = (12.0, 12.0) if touching else (10.0, 15.0)  # terraces share their sides
    x, y = ORIGIN[0] + i * step, ORIGIN[1] + j * 25.0
    boxes = shapely.segmentize(shapely.box(x, y, x + width, y + 10.0), 2.0)
    return _write(path, list(boxes), {"floors": rng.integers(1, 16, len(boxes))})


def make_bands(path: Path, hills: int = 60, rings: int = 20) -> Path:
    rng = np.random.default_rng(4)
    bands, levels = [], []
    side = int(np.ceil(np.sqrt(hills)))
    for h in range(hills):
        cx, cy = ORIGIN[0] + (h % side) * rings * 45, ORIGIN[1] + (h // side) * rings * 45
        top = int(rng.integers(100, 300)) + rings
        discs = [shapely.Point(cx, cy).buffer(50 + 20 * i, 64) for i in range(rings)]
        bands.append(shapely.segmentize(discs[0], 2.0))
        levels.append(float(top))
        for i in range(1, rings):
            bands.append(shapely.segmentize(shapely.difference(discs[i], discs[i - 1]), 2.0))
            levels.append(float(top - i))
    return _write(path, bands, {"lo": np.array(levels)})


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _found_share(checker: Checker, path: Path) -> float:
    profile = cProfile.Profile()
    profile.enable()
    checker.check(path)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]  # set by the class, untyped
    total = max(ct for (_, _, name), (_, _, _, ct, _) in stats.items() if name == "check")
    found = sum(
        ct for (file, _, name), (_, _, _, ct, _) in stats.items()
        if name in ("add", "found") and file.endswith("contour_levels.py")
    )  # fmt: skip
    return found / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    reps = 1 if args.quick else args.reps
    checker = Checker(packs=["in"])
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "grid": make_grid(Path(tmp) / "grid.gpkg", int(160 * scale**0.5)),
            "crossing": make_crossing(Path(tmp) / "crossing.gpkg", int(20_000 * scale)),
            "contours": make_contours(Path(tmp) / "contours.gpkg", int(60 * scale)),
            "floors": make_buildings(Path(tmp) / "floors.gpkg", int(100_000 * scale)),
            "terraces": make_buildings(Path(tmp) / "terraces.gpkg", int(100_000 * scale), True),
            "bands": make_bands(Path(tmp) / "bands.gpkg", int(60 * scale)),
        }
        print(f"{'file':<10}{'MB':>6}{'read s':>9}{'check s':>9}{'ratio':>7}{'found':>7}  verdict")
        for name, path in files.items():
            verdict = checker.check(path)  # warm
            pyogrio.read_arrow(path)
            reads, checks = [], []
            for _ in range(reps):
                reads.append(_timed(lambda p=path: pyogrio.read_arrow(p)))
                checks.append(_timed(lambda p=path: checker.check(p)))
            read, check = statistics.median(reads), statistics.median(checks)
            share = _found_share(checker, path)
            size = path.stat().st_size / 1e6
            print(
                f"{name:<10}{size:6.1f}{read:9.3f}{check:9.3f}{check / read:7.2f}{share:7.0%}  "
                f"{verdict.verdict} (elevation_unsure={verdict.profile.elevation_unsure})"
            )


if __name__ == "__main__":
    main()
