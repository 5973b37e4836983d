"""Running detail of a layer as it streams: bounded state, whatever the layer's size.

Every batch adds its lines' and rings' shortest segments to a log-binned histogram and to
the finest kept so far, its segments to a count and to the finest segments kept so far
(both with their ends, measured again exactly at the end), its points (and the lines and
rings drawn as one position) to a count, and all its coordinates to the search for the
grid they sit on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import CRS

from compliance.dataset_profile import MAX_DETAIL_COUNT, DetailDistribution
from compliance.geo.geodesy import to_lonlat
from compliance.geo.ground_distance import distances_m
from compliance.geo.segment_metres import GroundMaps, exact_lengths_m
from compliance.measure.line_detail import (
    BatchCoordinates,
    Candidates,
    Cutoffs,
    ShortestSegments,
    shortest_segments,
)

__all__ = [
    "DetailAccumulator",
    "MeasuredBatch",
    "merge",
]

# Finer rounding than this is ordinary float output (7 decimals of a degree ~ 1 cm), not a
# statement about the data's accuracy, so points stored that way have no measurable detail.
_MIN_DELIBERATE_ROUNDING_M = 0.1
# Kept beyond the largest rank a pack may ask for: the batch lengths that rank them are
# interpolated, and a line (or segment) they place just outside the finest may be inside
# it exactly.
_KEEP = 2 * MAX_DETAIL_COUNT
_BINS_PER_DECADE = 10
_LOW_EXP, _HIGH_EXP = -4, 8  # histogram from 0.1 mm to 100,000 km
_EDGES = 10.0 ** np.arange(_LOW_EXP, _HIGH_EXP + 1e-9, 1 / _BINS_PER_DECADE)
_QUANTILES = {"p1": 0.01, "p10": 0.1, "p50": 0.5}


_PREFIX = 4096
_FINEST_EXPONENT = -9


_CHUNK = 1 << 17


def _on_grid(values: np.ndarray, exponent: int) -> bool:
    """Whether every one of ``values`` sits on the 10**exponent grid. Computed in place over
    cache-sized chunks, stopping at the first miss: every coordinate of a layer passes
    through it, and a whole batch's temporaries would cost page faults."""
    step = 10.0**exponent
    size = min(_CHUNK, values.size)
    ratio, off, missed = np.empty(size), np.empty(size), np.empty(size, dtype=bool)
    for at in range(0, values.size, _CHUNK):
        part = values[at : at + _CHUNK]
        r, d, m = ratio[: part.size], off[: part.size], missed[: part.size]
        np.divide(part, step, out=r)
        if _off_grid(r, d, m).any():
            return False
    return True


def _off_grid(ratio: np.ndarray, off: np.ndarray, missed: np.ndarray) -> np.ndarray:
    """Which values, given as ``ratio`` (value / step), miss their grid, written to
    ``missed``; ``ratio`` and ``off`` are overwritten (buffers of its shape)."""
    np.rint(ratio, out=off)
    np.subtract(ratio, off, out=off)
    np.abs(off, out=off)
    # A double on a k·step grid is within a few ulps of it; anything looser admits noise.
    np.abs(ratio, out=ratio)
    ratio *= 1e-11
    ratio += 1e-9
    return np.greater(off, ratio, out=missed)


def _coarsest_grid(values: np.ndarray, start: int) -> int | None:
    """The largest exponent, from ``start`` down, whose grid every value sits on.

    Every grid is tried at once (``values`` are a batch's first few thousand), with the
    test ``_on_grid`` makes: one grid at a time cost a dozen array operations per grid
    tried, most of a small file's search."""
    exponents = list(range(start, _FINEST_EXPONENT - 1, -1))
    if not exponents or values.size == 0:
        return exponents[0] if exponents else None
    steps = np.array([10.0**exponent for exponent in exponents])
    ratio = values[np.newaxis, :] / steps[:, np.newaxis]
    missed = _off_grid(ratio, np.empty_like(ratio), np.empty(ratio.shape, dtype=bool))
    on = ~missed.any(axis=1)
    return exponents[int(on.argmax())] if on.any() else None


class _QuantumSearch:
    """The coarsest power-of-ten grid (in CRS units) every coordinate seen so far sits on."""

    def __init__(self) -> None:
        self.exponent: int | None = 4  # None: on no grid coarser than 10**_FINEST_EXPONENT

    def search(self, coords: np.ndarray) -> int | None:
        """The coarsest grid, no coarser than the one found so far, that ``coords`` sit on.
        Changes nothing: a batch is searched where it is read, then ``merge``d."""
        start = self.exponent
        if start is None:
            return None
        finite = np.isfinite(coords)
        values = coords.ravel() if finite.all() else coords[finite]
        if values.size == 0:
            return start
        # The grids the first values sit on, all tried at once; the rest are then tested on
        # the coarsest of them only (a grid the first values miss is missed by all).
        exponent = _coarsest_grid(values[:_PREFIX], start)
        if values.size <= _PREFIX:
            return exponent
        while exponent is not None and not _on_grid(values, exponent):
            exponent = exponent - 1 if exponent > _FINEST_EXPONENT else None
        return exponent

    def merge(self, exponent: int | None) -> None:
        # A grid every value sits on holds each batch's values: the finest of theirs.
        if self.exponent is not None:
            self.exponent = None if exponent is None else min(self.exponent, exponent)

    @property
    def step(self) -> float | None:
        return None if self.exponent is None else 10.0**self.exponent


def _quantum_on_ground_m(step: float, at: tuple[float, float], crs: CRS) -> float | None:
    """Ground size in metres of one quantisation step at a position (the data's middle)."""
    x, y = at
    lon, lat = to_lonlat(crs, np.array([x, x + step, x]), np.array([y, y, y + step]))
    d = distances_m(lon[[0, 0]], lat[[0, 0]], lon[[1, 2]], lat[[1, 2]])
    d = d[np.isfinite(d) & (d > 0)]
    return float(d.min()) if d.size else None


class _Finest:
    """The finest ``_KEEP`` lengths offered so far, with their ends: bounded state,
    whatever the layer's size."""

    def __init__(self) -> None:
        self.metres = np.empty(0)
        self.ends = np.empty((0, 4))

    @property
    def cutoff(self) -> float:
        """Once full, a length longer than all those kept cannot join them."""
        metres = self.metres  # replaced whole, never changed in place
        return float(metres.max()) if metres.size >= _KEEP else np.inf

    def add(self, found: Candidates) -> None:
        if found.metres.size == 0:
            return
        metres = np.concatenate([self.metres, found.metres])
        ends = np.concatenate([self.ends, found.ends])
        if metres.size > _KEEP:
            keep = np.argpartition(metres, _KEEP - 1)[:_KEEP]
            metres, ends = metres[keep], ends[keep]
        self.metres, self.ends = metres, ends

    def exact(self, crs: CRS, floor: float) -> list[float]:
        """The finest ``MAX_DETAIL_COUNT``, measured again as geodesics, floored, ascending."""
        exact = np.maximum(np.sort(exact_lengths_m(crs, self.ends)), floor)
        return exact[:MAX_DETAIL_COUNT].tolist()  # Python floats


@dataclass
class MeasuredBatch:
    """One batch's detail, ready to merge: its lines' shortest segments and finest segments,
    its points (lines and rings drawn as one position among them), and the coarsest grids
    its coordinates and its points sit on."""

    lines: list[ShortestSegments]
    points: int
    grid: int | None
    point_grid: int | None


class DetailAccumulator:
    """One layer's detail, batch by batch."""

    def __init__(self, crs: CRS | None) -> None:
        self.crs = crs
        self.grounds = GroundMaps(crs) if crs is not None else None
        self.lines = 0
        self.segments = 0
        self.points = 0
        self.counts = np.zeros(_EDGES.size + 1, dtype=np.int64)
        self.finest = _Finest()  # lines' and rings' shortest segments
        self.finest_segments = _Finest()
        self.quantum = _QuantumSearch()
        self.point_quantum = _QuantumSearch()  # the points' own: lines beside them do not count

    def measure(self, batch: BatchCoordinates) -> MeasuredBatch | None:
        """A batch's share of the detail, measured without changing this accumulator: the
        reading thread measures a batch while the one before it is merged. The state it
        reads (the finest kept, the grid found) is replaced whole, never changed in place,
        and only ever narrows: read early, it asks for more work, never for less."""
        if self.grounds is None:
            return None
        # Only the lines and segments that may join the finest kept need their ends found.
        cutoffs = Cutoffs(self.finest.cutoff, self.finest_segments.cutoff, _KEEP)
        lines = [shortest_segments(c, line, self.grounds, cutoffs) for c, line in batch.lines]
        # Lines and rings drawn as one position are points: counted and searched as such.
        positions = [found.positions for found in lines if found.positions.size]
        points = np.concatenate([batch.points, *positions]) if positions else batch.points
        grid = self.quantum.search(batch.coords)
        # A batch of points only searches the same values from the same grid twice.
        same = (
            self.point_quantum.exponent == self.quantum.exponent
            and points.shape == batch.coords.shape
            and np.array_equal(points, batch.coords)
        )
        return MeasuredBatch(
            lines=lines,
            points=len(points),
            grid=grid,
            point_grid=grid if same else self.point_quantum.search(points),
        )

    def merge(self, measured: MeasuredBatch | None) -> None:
        """A measured batch into the running state (one thread at a time)."""
        if measured is None:
            return
        self.quantum.merge(measured.grid)
        self.points += measured.points
        self.point_quantum.merge(measured.point_grid)
        for found in measured.lines:
            self._add_lines(found)

    def _add_lines(self, found: ShortestSegments) -> None:
        if found.metres.size == 0:
            return
        self.lines += found.metres.size
        self.segments += found.segments
        self.counts += np.bincount(
            np.searchsorted(_EDGES, found.metres, side="right"), minlength=self.counts.size
        )
        self.finest.add(found.lines)
        self.finest_segments.add(found.fine)

    def finish(self, middle: tuple[float, float] | None) -> DetailDistribution | None:
        """The layer's distribution; ``middle`` is where the quantisation step is measured."""
        if self.crs is None:
            return None
        quantum_m = self._on_ground(self.quantum.step, middle)
        point_m = self._on_ground(self.point_quantum.step, middle) if self.points else None
        floor = quantum_m or 0.0
        deliberate = point_m is not None and point_m >= _MIN_DELIBERATE_ROUNDING_M
        return DetailDistribution(
            lines_measured=self.lines,
            segments_measured=self.segments,
            points=self.points,
            points_unmeasured=self.points > 0 and not deliberate,
            quantum_m=quantum_m,
            points_quantum_m=point_m if deliberate else None,
            quantiles_m=_quantiles(self.counts, floor),
            histogram_m=_histogram(self.counts, floor),
            finest_m=self.finest.exact(self.crs, floor),
            finest_segments_m=self.finest_segments.exact(self.crs, floor),
        )

    def _on_ground(self, step: float | None, middle: tuple[float, float] | None) -> float | None:
        if step is None or middle is None or self.crs is None:
            return None
        return _quantum_on_ground_m(step, middle, self.crs)


def _floored(counts: np.ndarray, floor: float) -> np.ndarray:
    """Counts with the bins below the quantisation step moved into its bin."""
    if floor <= 0:
        return counts
    at = int(np.searchsorted(_EDGES, floor, side="right"))
    out = counts.copy()
    out[at] += out[:at].sum()
    out[:at] = 0
    return out


def _lower_edges() -> np.ndarray:
    return np.r_[0.0, _EDGES]


def _histogram(counts: np.ndarray, floor: float) -> list[list[float]]:
    counts = _floored(counts, floor)
    edges = _lower_edges()
    return [[float(f"{edges[i]:.4g}"), int(counts[i])] for i in np.flatnonzero(counts)]


def _quantiles(counts: np.ndarray, floor: float) -> dict[str, float]:
    counts = _floored(counts, floor)
    total = counts.sum()
    if total == 0:
        return {}
    cumulative = np.cumsum(counts)
    edges = _lower_edges()
    out = {}
    for name, q in _QUANTILES.items():
        i = int(np.searchsorted(cumulative, max(1, np.ceil(q * total - 1e-9))))
        out[name] = float(f"{max(edges[i], floor):.4g}")
    return out


def merge(parts: list[DetailDistribution]) -> DetailDistribution | None:
    """The dataset's distribution from its layers'."""
    if not parts:
        return None
    bins: dict[float, int] = {}
    for part in parts:
        for edge, n in part.histogram_m:
            bins[edge] = bins.get(edge, 0) + int(n)
    finest = sorted(v for part in parts for v in part.finest_m)[:MAX_DETAIL_COUNT]
    segments = sorted(v for part in parts for v in part.finest_segments_m)[:MAX_DETAIL_COUNT]
    point_quanta = [p.points_quantum_m for p in parts if p.points_quantum_m is not None]
    return DetailDistribution(
        lines_measured=sum(p.lines_measured for p in parts),
        segments_measured=sum(p.segments_measured for p in parts),
        points=sum(p.points for p in parts),
        points_unmeasured=any(p.points_unmeasured for p in parts),
        points_quantum_m=min(point_quanta, default=None),
        quantiles_m=_merged_quantiles(bins),
        histogram_m=[[edge, bins[edge]] for edge in sorted(bins)],
        finest_m=finest,
        finest_segments_m=segments,
    )


def _merged_quantiles(bins: dict[float, int]) -> dict[str, float]:
    edges = sorted(bins)
    total = sum(bins.values())
    if total == 0:
        return {}
    cumulative = np.cumsum([bins[e] for e in edges])
    return {
        name: edges[int(np.searchsorted(cumulative, max(1, np.ceil(q * total - 1e-9))))]
        for name, q in _QUANTILES.items()
    }
