"""One streaming pass over a vector layer: every feature decoded once, its lines and rings
measured for detail, its box cleared against the zones and territories, and its exact
geometry tested only where the grids cannot clear that box."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from compliance.arrays import distinct, finite_rows, lonlat_sized_boxes
from compliance.measure.batch_decode import BatchRows, DecodedBatch, decode_batch
from compliance.measure.detail_accumulator import DetailAccumulator
from compliance.measure.feature_places import FeaturePlaces
from compliance.measure.wkb_bounds import WkbBoxes
from compliance.measure.written_numbers import Written
from compliance.readers.background import helper_pool
from compliance.readers.read_ahead import close_batches, prefetched
from compliance.readers.sources import (
    BATCH_SIZE,
    LayerInfo,
    VectorSource,
)
from compliance.zones.area_cover import GrowingIndex, growing_index, lonlat_region
from compliance.zones.areas import AreaSet
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.prefilter import CLEAR, INSIDE

__all__ = [
    "BoxSink",
    "BoxedSink",
    "LayerScan",
    "Probe",
    "scan_layer",
]


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


class BoxSink(Protocol):
    """Takes each batch's boxes as they are read: ``exact``, the rows boxed from all their
    vertices; ``empty``, the rows with no vertex (the rest could not be boxed);
    ``geometries``, a decoder of the batch's rows, for what a box does not say."""

    def add(
        self,
        boxes: np.ndarray,
        exact: np.ndarray,
        empty: np.ndarray,
        geometries: Callable[[np.ndarray], np.ndarray],
    ) -> None: ...


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
    leaves: int = 0  # geometry objects with coordinates (a collection's members each)
    bounds: np.ndarray | None = None
    detail: DetailAccumulator = field(default_factory=lambda: DetailAccumulator(None))
    boxes_to: BoxSink | None = None
    places: FeaturePlaces | None = None  # where the features lie, for what is met there


def _feed(
    probe: Probe, boxes: np.ndarray, present: np.ndarray, extent: np.ndarray, rows: BatchRows
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
        geoms = rows.drawn(candidates[start : start + step])
        live = geoms[~shapely.is_missing(geoms)]
        probe.acc.add(live, cover.index, areas_too=not probe.stop_at_first_hit, drawn=True)
        if probe.stop_at_first_hit and probe.acc.touched:
            return


def scan_layer(
    src: VectorSource,
    layer: LayerInfo,
    probes: list[Probe],
    read_ahead: bool = True,
    text: BoxedSink | None = None,
    fields: list[str] | None = None,
    boxes_to: BoxSink | None = None,
) -> LayerScan:
    """Stream a layer once, feeding every probe and measuring the detail of every feature;
    ``text`` is handed each batch's attributes ``fields`` in the same pass (see
    ``wkb_batches``) with the boxes read, ``boxes_to`` each batch's boxes.

    ``read_ahead`` reads the next batches in a thread while this one is measured."""
    scan = LayerScan(detail=DetailAccumulator(layer.crs), boxes_to=boxes_to)
    if layer.crs is not None:
        scan.places = FeaturePlaces(layer.crs)
    held: list[pa.RecordBatch] = []
    hold = None if text is None else lambda attributes, geometry: held.append(attributes)
    batches = _boxed(src.wkb_batches(layer, hold, fields), scan.detail, held, text)
    # With one batch there is nothing to overlap reading with: a thread would only cost.
    if read_ahead and (layer.feature_count is None or layer.feature_count > BATCH_SIZE):
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


# The attribute pass of a layer's scan, after each batch's geometries are read: it takes
# the batch's attributes (None for a layer of none), its geometry column (WKB), the boxes
# read from it, and the Z and M values of its coordinates (None for a 2-D batch).
BoxedSink = Callable[[pa.RecordBatch | None, pa.Array, WkbBoxes, Written | None], None]


def _boxed(
    batches: Iterator[pa.Array],
    detail_of: DetailAccumulator,
    held: list[pa.RecordBatch],
    text: BoxedSink | None,
) -> Generator[DecodedBatch, None, None]:
    """Each batch decoded where it is read: in the reader thread when there is one, whose
    core is otherwise idle while GDAL is not reading (GEOS works without the GIL). The
    attributes the reader ``held`` for the batch go to ``text`` with its boxes, read once."""
    try:
        for column in batches:
            decoded = decode_batch(column, detail_of)
            attributes = held.pop() if held else None
            if text is not None and (attributes is not None or decoded.ordinates is not None):
                text(attributes, column, decoded.found, decoded.ordinates)
            yield decoded
    finally:
        close_batches(batches)


def _scan_batch(scan: LayerScan, batch: DecodedBatch, probes: list[Probe]) -> None:
    found, rows = batch.found, batch.rows
    boxes = found.bounds
    unplaceable = _stand_in_unplaceable(rows, boxes, batch.coords, batch.owner)
    slow = np.flatnonzero(~found.fast & ~found.null & ~unplaceable)
    if slow.size:
        some = rows.get(slow)
        ok = ~shapely.is_missing(some)
        ok[ok] = ~shapely.is_empty(some[ok])
        boxes[slow[ok]] = shapely.bounds(some[ok])
        if not scan.has_z and ok.any():
            # M carries heights as readily as Z: either counts.
            scan.has_z = bool((shapely.has_z(some[ok]) | shapely.has_m(some[ok])).any())
    present = finite_rows(boxes)
    if scan.boxes_to is not None:
        unread = rows.done & ~found.null & shapely.is_missing(rows.geoms)  # undecodable
        exact, empty = present & ~unplaceable, ~present & ~unplaceable & ~unread
        scan.boxes_to.add(boxes, exact, empty, rows.apart)
    scan.unplaceable += int(unplaceable.sum())
    scan.features += len(boxes)
    scan.leaves += batch.leaves
    scan.has_z = scan.has_z or found.has_z
    scan.detail.merge(batch.measured)
    # Invalid geometries among those decoded before any zone is met: the forms only GEOS
    # reads (the simple forms are read as numbers). Not the rows decoded because a zone or
    # territory is near them: a count of those tells a submitter, one bit per feature,
    # which of their features came near a zone.
    scan.invalid += int(rows.invalid(np.flatnonzero(rows.done)).sum())
    if present.any():
        live_boxes = boxes.compress(present, axis=0)  # ten times a boolean row index
        scan.lonlat_sized += int(np.count_nonzero(lonlat_sized_boxes(live_boxes)))
        box = np.array(
            [
                live_boxes[:, 0].min(),
                live_boxes[:, 1].min(),
                live_boxes[:, 2].max(),
                live_boxes[:, 3].max(),
            ]
        )
        scan.bounds = (
            box
            if scan.bounds is None
            else np.concatenate(
                [np.minimum(scan.bounds[:2], box[:2]), np.maximum(scan.bounds[2:], box[2:])]
            )
        )
        if scan.places is not None:
            scan.places.add(box, boxes, present, batch.coords, batch.owner)
        for probe in probes:
            _feed(probe, boxes, present, box, rows)
    scan.undecodable += rows.undecodable
    scan.empty += int((~present & ~unplaceable).sum())


def _stand_in_unplaceable(
    rows: BatchRows, boxes: np.ndarray, coords: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """Rows with a coordinate that is not a finite number (NaN or infinite, on any axis).

    Such a geometry cannot be placed, and GEOS fails on it. The extent of its finite
    vertices stands in for it against the zones and territories (it can only add
    overlaps); a row with no finite vertex keeps no box. Returns the rows' mask."""
    mask = np.zeros(len(boxes), dtype=bool)
    if np.isfinite(coords).all():  # one pass over a flat array; .all(axis=1) costs 40x
        return mask
    bad = ~(np.isfinite(coords[:, 0]) & np.isfinite(coords[:, 1]))
    hit = distinct(owner[bad])
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
        rows.put(seen, stand_in)
        boxes[seen] = shapely.bounds(stand_in)
    rows.put(np.setdiff1d(hit, seen), None)
    return mask
