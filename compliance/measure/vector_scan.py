"""One streaming pass over a vector layer: every feature decoded once, its lines and rings
measured for detail, its box cleared against the zones and territories, and its exact
geometry tested only where the grids cannot clear that box."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from compliance.measure.crs_plausibility import lonlat_sized_boxes
from compliance.measure.detail_accumulator import DetailAccumulator, MeasuredBatch
from compliance.measure.line_detail import BatchCoordinates, linework_coordinates, point_coordinates
from compliance.measure.thread_stages import close_now, prefetched
from compliance.measure.wkb_bounds import WkbBoxes, row_bytes, wkb_boxes
from compliance.measure.wkb_coords import simple_rows
from compliance.readers.background import helper_pool
from compliance.readers.sources import BATCH_SIZE, LayerInfo, VectorSource, decode_wkb
from compliance.zones.area_cover import Cover, GrowingIndex, growing_index, lonlat_region
from compliance.zones.areas import AreaSet
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.prefilter import CLEAR, INSIDE, finite_rows

__all__ = ["LayerScan", "Probe", "scan_layer"]


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
    lonlat_sized: int = 0  # features whose numbers are all the size of lon/lat
    invalid: int = 0
    has_z: bool = False
    bounds: np.ndarray | None = None
    detail: DetailAccumulator = field(default_factory=lambda: DetailAccumulator(None))


class _Rows:
    """One batch's WKB, decoding each row at most once and only when asked."""

    def __init__(self, column: pa.Array) -> None:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        self.column = column.storage if isinstance(column, pa.ExtensionArray) else column
        self.geoms = np.empty(len(column), dtype=object)
        self.done = np.zeros(len(column), dtype=bool)
        self.undecodable = 0

    def get(self, rows: np.ndarray) -> np.ndarray:
        todo = rows[~self.done[rows]]
        if todo.size:
            wkb = row_bytes(self.column, todo)
            with np.errstate(invalid="ignore"):  # NaN coordinates: counted as unplaceable
                batch = decode_wkb(wkb)
            self.geoms[todo] = batch.geometries
            self.done[todo] = True
            self.undecodable += batch.undecodable
        return self.geoms[rows]


@dataclass
class _Prefiltered:
    """One probe's grid verdict on one batch's boxes, reached before the tallying thread."""

    cover: Cover
    state: np.ndarray  # CLEAR / MAYBE / INSIDE per row


def _prefilter(probe: Probe, boxes: np.ndarray, present: np.ndarray,
               extent: np.ndarray) -> _Prefiltered | None:  # fmt: skip
    """The probe's grid over the batch: None when nothing in it needs an exact test."""
    # Read in another thread than the one counting hits: a stale False only costs work,
    # since a probe once touched stays touched.
    if probe.stop_at_first_hit and probe.acc.touched:
        return None
    cover = probe.index.covering(tuple(extent))
    if cover.grid is None:
        return None
    state = cover.grid.classify(boxes)
    state[~present] = CLEAR
    return _Prefiltered(cover, state)


def _feed(probe: Probe, found: _Prefiltered | None, rows: _Rows) -> None:
    if found is None or (probe.stop_at_first_hit and probe.acc.touched):
        return
    if probe.stop_at_first_hit and np.any(found.state == INSIDE):
        probe.acc.mark_touched()
        return
    candidates = np.flatnonzero(found.state != CLEAR)
    # A territory needs one hit: test candidates a slice at a time and stop at the first.
    step = 256 if probe.stop_at_first_hit else max(candidates.size, 1)
    for start in range(0, candidates.size, step):
        geoms = rows.get(candidates[start : start + step])
        live = geoms[~shapely.is_missing(geoms)]
        probe.acc.add(live, found.cover.index, areas_too=not probe.stop_at_first_hit)
        if probe.stop_at_first_hit and probe.acc.touched:
            return


def scan_layer(
    src: VectorSource, layer: LayerInfo, probes: list[Probe], read_ahead: bool = True
) -> LayerScan:
    """Stream a layer once, feeding every probe and measuring the detail of every feature.

    ``read_ahead`` reads and decodes the next batches in one thread, measures and places
    them in another, while this one tests the current batch exactly."""
    scan = LayerScan(detail=DetailAccumulator(layer.crs))
    # With one batch there is nothing to overlap reading with: a thread would only cost.
    ahead = read_ahead and (layer.feature_count is None or layer.feature_count > BATCH_SIZE)
    decoded: Iterator[_Decoded] = _decoded(src.wkb_batches(layer))
    if ahead:
        decoded = prefetched(decoded)
    batches: Generator[_Placed, None, None] = _placed(decoded, scan.detail, probes)
    if ahead:
        batches = prefetched(batches)
        if layer.total_bounds is not None and layer.crs is not None:
            helper_pool().submit(_cover_ahead, probes, layer.total_bounds, layer.crs)
    try:
        for batch in batches:
            _scan_batch(scan, batch, probes)
    finally:
        batches.close()  # the reader's dataset is closed now, not when the generator is collected
    # Undecodable rows have no box either: they are counted there, not as empty.
    scan.empty -= scan.undecodable
    return scan


# A declared extent wider than this in lon/lat is not grown ahead: it may be stale or made
# up, and growing an index over it costs more than the scan would spend.
_AHEAD_MAX_DEG = 5.0


def _cover_ahead(probes: list[Probe], box: tuple[float, ...], crs: CRS) -> None:
    """Grow each probe's index over the layer's declared extent, beside the first reads.

    Only a head start: every batch still asks its index to cover the box of the
    coordinates read, so an extent that is wrong grows the index where the data is."""
    region = lonlat_region((box[0], box[1], box[2], box[3]), crs)
    if region is None or max(region[2] - region[0], region[3] - region[1]) > _AHEAD_MAX_DEG:
        return
    for probe in probes:
        _ = probe.index.covering((box[0], box[1], box[2], box[3])).grid


@dataclass
class _Decoded:
    """One batch as read: its WKB boxes, every coordinate with its row, and its detail.
    Rows in the simple WKB forms are read without GEOS; the others decoded."""

    found: WkbBoxes
    rows: _Rows
    coords: np.ndarray
    owner: np.ndarray  # batch position of each coordinate
    detail: BatchCoordinates  # its lines, rings and points, to be measured


@dataclass
class _Placed:
    """One batch measured, placed and sorted by the grids in the thread after the reader's:
    what is left for the thread that tallies is the exact tests of the rows no grid could
    clear."""

    rows: _Rows
    measured: MeasuredBatch | None
    features: int
    unplaceable: int
    empty: int
    invalid: int
    has_z: bool
    lonlat_sized: int = 0
    extent: np.ndarray | None = None  # of the placed rows' boxes; None when none is placed
    prefiltered: list[_Prefiltered | None] = field(default_factory=list)  # one per probe


def _decode(column: pa.Array) -> _Decoded:
    simple = simple_rows(column)
    found = wkb_boxes(column, simple.native)
    rows = _Rows(column)
    rest = np.flatnonzero(~found.null)
    rest = rest[~np.isin(rest, simple.rows)]
    geoms = rows.get(rest)
    live = ~shapely.is_missing(geoms)
    rest, geoms = rest[live], geoms[live]
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    lines = [(simple.coords, simple.owner)]
    points = np.empty((0, 2))
    if simple.points.any():  # points and lines apart: a point is not a line's vertex
        on_point = np.isin(simple.owner, simple.rows[simple.points])
        lines = [(simple.coords.compress(~on_point, axis=0), simple.owner[~on_point])]
        points = simple.coords[on_point]
    # A batch of simple rows only (the usual layer) hands its coordinates on uncopied.
    everything, owner = simple.coords, simple.owner
    if geoms.size:
        lines.append(linework_coordinates(geoms, coords, index))
        points = np.concatenate([points, point_coordinates(geoms)])
        everything = np.concatenate([simple.coords, coords])
        owner = np.concatenate([simple.owner, rest[index]])
    detail = BatchCoordinates(everything, lines, points)
    return _Decoded(found, rows, detail.coords, owner, detail)


def _place(batch: _Decoded, detail_of: DetailAccumulator, probes: list[Probe]) -> _Placed:
    """The batch's detail; every row's box (stand-ins for unplaceable rows, GEOS for the
    forms read slowly); then each probe's grid verdict on them."""
    measured = detail_of.measure(batch.detail)
    found, rows = batch.found, batch.rows
    boxes = found.bounds
    unplaceable = _stand_in_unplaceable(rows, boxes, batch.coords, batch.owner)
    slow = np.flatnonzero(~found.fast & ~found.null & ~unplaceable)
    has_z = found.has_z
    if slow.size:
        some = rows.get(slow)
        ok = ~shapely.is_missing(some)
        ok[ok] = ~shapely.is_empty(some[ok])
        boxes[slow[ok]] = shapely.bounds(some[ok])
        has_z = has_z or bool(ok.any() and shapely.has_z(some[ok]).any())
    present = finite_rows(boxes)
    placed = _Placed(
        rows, measured, features=len(boxes), unplaceable=int(unplaceable.sum()),
        empty=int((~present & ~unplaceable).sum()), invalid=_invalid(rows), has_z=has_z,
    )  # fmt: skip
    if present.any():
        live_boxes = boxes.compress(present, axis=0)  # ten times a boolean row index
        placed.lonlat_sized = int(np.count_nonzero(lonlat_sized_boxes(live_boxes)))
        placed.extent = np.array(
            [
                live_boxes[:, 0].min(),
                live_boxes[:, 1].min(),
                live_boxes[:, 2].max(),
                live_boxes[:, 3].max(),
            ]
        )
        placed.prefiltered = [_prefilter(p, boxes, present, placed.extent) for p in probes]
    return placed


def _decoded(batches: Iterator[pa.Array]) -> Generator[_Decoded, None, None]:
    """The scan's first stage: each batch read and decoded."""
    try:
        for column in batches:
            yield _decode(column)
    finally:
        close_now(batches)


def _placed(
    batches: Iterator[_Decoded], detail_of: DetailAccumulator, probes: list[Probe]
) -> Generator[_Placed, None, None]:
    """The scan's second stage: each decoded batch measured, placed and sorted."""
    try:
        for batch in batches:
            yield _place(batch, detail_of, probes)
    finally:
        close_now(batches)


def _scan_batch(scan: LayerScan, batch: _Placed, probes: list[Probe]) -> None:
    scan.unplaceable += batch.unplaceable
    scan.features += batch.features
    scan.has_z = scan.has_z or batch.has_z
    scan.detail.merge(batch.measured)
    scan.invalid += batch.invalid
    if batch.extent is not None:
        scan.lonlat_sized += batch.lonlat_sized
        box = batch.extent
        scan.bounds = (
            box
            if scan.bounds is None
            else np.concatenate(
                [np.minimum(scan.bounds[:2], box[:2]), np.maximum(scan.bounds[2:], box[2:])]
            )
        )
        for probe, found in zip(probes, batch.prefiltered, strict=True):
            _feed(probe, found, batch.rows)
    # Counted after the exact tests: rows first decoded for them count too.
    scan.undecodable += batch.rows.undecodable
    scan.empty += batch.empty


def _invalid(rows: _Rows) -> int:
    """Invalid geometries among those decoded: the ones tested exactly against a zone or
    territory, and those in forms only GEOS reads (the simple forms are read as numbers)."""
    decoded = rows.geoms[rows.done]
    decoded = decoded[~shapely.is_missing(decoded)]
    return int((~shapely.is_valid(decoded)).sum()) if decoded.size else 0


def _stand_in_unplaceable(
    rows: _Rows, boxes: np.ndarray, coords: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """Rows with a coordinate that is not a finite number (NaN or infinite, on any axis).

    Such a geometry cannot be placed, and GEOS fails on it. The extent of its finite
    vertices stands in for it against the zones and territories (it can only add
    overlaps); a row with no finite vertex keeps no box. Returns the rows' mask."""
    mask = np.zeros(len(boxes), dtype=bool)
    if np.isfinite(coords).all():  # one pass over a flat array; .all(axis=1) costs 40x
        return mask
    bad = ~(np.isfinite(coords[:, 0]) & np.isfinite(coords[:, 1]))
    hit = np.unique(owner[bad])
    mask[hit] = True
    boxes[hit] = np.nan
    finite = np.isin(owner, hit) & ~bad
    seen, number = np.unique(owner[finite], return_inverse=True)
    order = np.argsort(number, kind="stable")
    stand_in = shapely.envelope(
        shapely.multipoints(
            coords.compress(finite, axis=0).take(order, axis=0), indices=number[order]
        )
    )
    if seen.size:
        rows.geoms[seen] = stand_in
        rows.done[seen] = True
        boxes[seen] = shapely.bounds(stand_in)
    dropped = np.setdiff1d(hit, seen)
    rows.geoms[dropped] = None
    rows.done[dropped] = True
    return mask
