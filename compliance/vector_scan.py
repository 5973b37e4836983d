"""One streaming pass over a vector layer: boxes for every feature, exact geometry only
where it matters (a spread-out sample for the detail measures, and features whose box the
grids cannot clear of a zone or territory)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from compliance.area_cover import GrowingIndex, growing_index
from compliance.areas import AreaSet
from compliance.prefilter import CLEAR, INSIDE, finite_rows
from compliance.readers.dataset import BATCH_SIZE, LayerInfo, VectorSource, decode_wkb
from compliance.sampling import SpreadSample, even_stride
from compliance.wkb_bounds import WkbBoxes, wkb_boxes
from compliance.zones import OverlapAccumulator


@dataclass
class Probe:
    """A set of areas to meet, indexed in one layer's CRS, and where hits are counted."""

    acc: OverlapAccumulator
    index: GrowingIndex
    stop_at_first_hit: bool = False

    @classmethod
    def build(
        cls, acc: OverlapAccumulator, areas: AreaSet, crs: CRS, territory: bool = False
    ) -> Probe:
        # Territory tiles are large: a coarse grid that knows inside cells clears most data.
        return cls(acc, growing_index(areas, crs, coarse=territory), territory)


@dataclass
class LayerScan:
    """What one pass over a layer found."""

    features: int = 0
    empty: int = 0
    undecodable: int = 0
    unplaceable: int = 0  # coordinates that are not finite numbers: no box, no place
    has_z: bool = False
    bounds: np.ndarray | None = None
    sample: SpreadSample = field(default_factory=lambda: SpreadSample(1))


class _Rows:
    """One batch's WKB, decoding each row at most once and only when asked."""

    def __init__(self, column: pa.Array) -> None:
        self.column = column
        self.geoms = np.empty(len(column), dtype=object)
        self.done = np.zeros(len(column), dtype=bool)
        self.undecodable = 0

    def get(self, rows: np.ndarray) -> np.ndarray:
        todo = rows[~self.done[rows]]
        if todo.size:
            wkb = self.column.take(pa.array(todo)).to_numpy(zero_copy_only=False)
            batch = decode_wkb(wkb)
            self.geoms[todo] = batch.geometries
            self.done[todo] = True
            self.undecodable += batch.undecodable
        return self.geoms[rows]


def _feed(
    probe: Probe, boxes: np.ndarray, present: np.ndarray, extent: np.ndarray, rows: _Rows
) -> None:
    if probe.stop_at_first_hit and probe.acc.touched:
        return
    cover = probe.index.covering(tuple(extent))
    if cover.grid is None:
        return
    state = cover.grid.classify(boxes)
    state[~present] = CLEAR
    if probe.stop_at_first_hit and np.any(state == INSIDE):
        probe.acc.mark_touched()
        return
    candidates = np.flatnonzero(state != CLEAR)
    # A territory needs one hit: test candidates a slice at a time and stop at the first.
    step = 256 if probe.stop_at_first_hit else max(candidates.size, 1)
    for start in range(0, candidates.size, step):
        geoms = rows.get(candidates[start : start + step])
        live = geoms[~shapely.is_missing(geoms)]
        probe.acc.add(live, cover.index, areas_too=not probe.stop_at_first_hit)
        if probe.stop_at_first_hit and probe.acc.touched:
            return


_END = object()
T = TypeVar("T")


def _put(box: queue.Queue, item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            box.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def prefetched(batches: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Read the next batches in a thread while this one is processed.

    GDAL reads without holding the GIL, so on two cores reading and measuring overlap.
    The reader's whole life (open, read, close) stays in its own thread.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in batches:
                if not _put(box, item, stop):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            _put(box, exc, stop)
        finally:
            _close(batches)
            _put(box, _END, stop)

    reader = threading.Thread(target=read, name="mapgate-read", daemon=True)
    reader.start()
    try:
        while (item := box.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def scan_layer(
    src: VectorSource, layer: LayerInfo, probes: list[Probe], read_ahead: bool = True
) -> LayerScan:
    """Stream a layer once, feeding every probe and keeping a sample for the detail measures.

    ``read_ahead`` reads the next batches in a thread while this one is measured."""
    scan = LayerScan(sample=SpreadSample.for_count(layer.feature_count))
    batches = _boxed(src.wkb_batches(layer))
    # With one batch there is nothing to overlap reading with: a thread would only cost.
    if read_ahead and (layer.feature_count is None or layer.feature_count > BATCH_SIZE):
        batches = prefetched(batches)
    try:
        for column, found in batches:
            _scan_batch(scan, column, found, probes)
    finally:
        batches.close()  # the reader's dataset is closed now, not when the generator is collected
    if scan.sample.too_sparse(scan.features):
        scan.sample = _resample(src, layer, scan.features)
    # Undecodable and unplaceable rows have no box either: they are counted there, not as empty.
    scan.empty -= scan.undecodable + scan.unplaceable
    return scan


def _boxed(batches: Iterator[pa.Array]) -> Generator[tuple[pa.Array, WkbBoxes], None, None]:
    """Each batch with its WKB boxes, computed where the batch is read: in the reader
    thread when there is one, whose core is otherwise idle while GDAL is not reading."""
    try:
        for column in batches:
            yield column, wkb_boxes(column)
    finally:
        _close(batches)


def _close(batches: Iterator[object]) -> None:
    """Close a batch generator now (its reader's dataset), not when it is collected."""
    close = getattr(batches, "close", None)
    if close is not None:
        close()


def _resample(src: VectorSource, layer: LayerInfo, rows_seen: int) -> SpreadSample:
    """Read a layer again for its sample alone, with the stride its real row count asks
    for: the count it declared was far too large, and the first pass took too few rows."""
    sample = SpreadSample(even_stride(rows_seen))
    first = 0
    batches = src.wkb_batches(layer)
    try:
        for column in batches:
            picks = sample.wanted(first, np.ones(len(column), dtype=bool))
            geoms = _Rows(column).get(picks)
            ok = ~shapely.is_missing(geoms)
            ok[ok] = ~shapely.is_empty(geoms[ok])
            sample.add(first, picks[ok], geoms[ok])
            first += len(column)
    finally:
        _close(batches)
    return sample


def _scan_batch(scan: LayerScan, column: pa.Array, found: WkbBoxes, probes: list[Probe]) -> None:
    first_row = scan.features
    rows = _Rows(column)
    boxes = found.bounds
    slow = np.flatnonzero(~found.fast & ~found.null)
    if slow.size:
        geoms = rows.get(slow)
        ok = ~shapely.is_missing(geoms)
        ok[ok] = ~shapely.is_empty(geoms[ok])
        boxes[slow[ok]] = shapely.bounds(geoms[ok])
        if not scan.has_z and ok.any():
            scan.has_z = bool(shapely.has_z(geoms[ok]).any())
    present = finite_rows(boxes)
    absent = np.flatnonzero(~present & ~found.null)
    if absent.size:
        scan.unplaceable += _unplaceable(boxes[absent])
    scan.features += len(boxes)
    scan.has_z = scan.has_z or found.has_z
    if present.any():
        live = boxes[present]
        box = np.array([live[:, 0].min(), live[:, 1].min(), live[:, 2].max(), live[:, 3].max()])
        scan.bounds = (
            box
            if scan.bounds is None
            else np.concatenate(
                [np.minimum(scan.bounds[:2], box[:2]), np.maximum(scan.bounds[2:], box[2:])]
            )
        )
        for probe in probes:
            _feed(probe, boxes, present, box, rows)
    picked = scan.sample.wanted(first_row, present)
    if picked.size:
        scan.sample.add(first_row, picked, rows.get(picked))
    scan.undecodable += rows.undecodable
    scan.empty += int((~present).sum())


def _unplaceable(boxes: np.ndarray) -> int:
    """Of rows without a finite box, those that are not empty: a coordinate is infinite, or
    NaN on one axis only. An empty geometry's box has nothing on either axis (all NaN, or
    min above max), and neither has a row that could not be decoded."""
    nothing = np.isnan(boxes).all(axis=1) | (
        (boxes[:, 0] > boxes[:, 2]) & (boxes[:, 1] > boxes[:, 3])
    )
    return int((~nothing).sum())
