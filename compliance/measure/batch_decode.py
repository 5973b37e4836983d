"""One batch of a layer's WKB as the scan reads it: each row's box, every coordinate with
its row (the simple forms straight from the bytes, the others through GEOS), the Z and M
values beside them, and the batch's detail, measured where it is read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely

from compliance.geo.drawn_shapes import invalid_mask, repaired
from compliance.measure.detail_accumulator import DetailAccumulator, MeasuredBatch
from compliance.measure.line_detail import BatchCoordinates, linework_coordinates, point_coordinates
from compliance.measure.wkb_bounds import WkbBoxes, row_bytes, wkb_boxes
from compliance.measure.wkb_coords import simple_rows
from compliance.measure.written_numbers import Written
from compliance.readers.sources import decode_wkb

__all__ = ["BatchRows", "DecodedBatch", "decode_batch"]

_COLLECTION = 7  # GEOS's type id of a GeometryCollection


class BatchRows:
    """One batch's WKB, decoding each row at most once and only when asked, and telling
    each decoded row's validity at most once."""

    def __init__(self, column: pa.Array) -> None:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        self.column = column.storage if isinstance(column, pa.ExtensionArray) else column
        self.geoms = np.empty(len(column), dtype=object)
        self.done = np.zeros(len(column), dtype=bool)
        self.validity = np.zeros(len(column), dtype=np.int8)  # 0 not yet told, 1, -1
        self.undecodable = 0

    def get(self, rows: np.ndarray) -> np.ndarray:
        todo = rows[~self.done[rows]]
        if todo.size:
            wkb = row_bytes(self.column, todo)
            with np.errstate(invalid="ignore"):  # NaN coordinates: counted as unplaceable
                batch = decode_wkb(wkb)
            self.put(todo, batch.geometries)
            self.undecodable += batch.undecodable
        return self.geoms[rows]

    def apart(self, rows: np.ndarray) -> np.ndarray:
        """These rows decoded anew, not kept and not counted: what the scan found of them
        (their validity) stays as if they had not been asked for."""
        with np.errstate(invalid="ignore"):
            return decode_wkb(row_bytes(self.column, rows)).geometries

    def put(self, rows: np.ndarray, geoms: np.ndarray | None) -> None:
        """Take ``geoms`` as these rows' geometries (a stand-in, or None)."""
        self.geoms[rows] = geoms
        self.done[rows] = True
        self.validity[rows] = 0

    def invalid(self, rows: np.ndarray) -> np.ndarray:
        """Which of these decoded rows are invalid geometries."""
        untold = rows[self.validity[rows] == 0]
        if untold.size:
            self.validity[untold] = np.where(invalid_mask(self.geoms[untold]), -1, 1)
        return self.validity[rows] == -1

    def drawn(self, rows: np.ndarray) -> np.ndarray:
        """These rows decoded, each invalid one repaired so that zone tests meet every
        ring and line it draws (see ``compliance.geo.drawn_shapes``)."""
        geoms = self.get(rows)
        bad = self.invalid(rows)
        if bad.any():
            geoms = geoms.copy()
            geoms[bad] = repaired(geoms[bad])
        return geoms


@dataclass
class DecodedBatch:
    """One batch as read: its WKB boxes, every coordinate with its row, and its detail.
    Rows in the simple WKB forms are read without GEOS; the others decoded."""

    found: WkbBoxes
    rows: BatchRows
    coords: np.ndarray
    owner: np.ndarray  # batch position of each coordinate
    measured: MeasuredBatch | None  # its detail, measured where it was read
    # Geometry objects with coordinates of their own (a collection's members each).
    leaves: int = 0
    # The Z and M values of its coordinates, each with its row; None for a 2-D batch.
    ordinates: Written | None = None


def decode_batch(column: pa.Array, detail_of: DetailAccumulator) -> DecodedBatch:
    simple = simple_rows(column)
    found = wkb_boxes(column, simple.native)
    rows = BatchRows(column)
    # Rows, and coordinates by their row, told apart by a mask: sorting for isin costs more.
    undecoded = ~found.null
    undecoded[simple.rows] = False
    rest = np.flatnonzero(undecoded)
    geoms = rows.get(rest)
    live = ~shapely.is_missing(geoms)
    rest, geoms = rest[live], geoms[live]
    extra = None
    if found.has_z and geoms.size:
        full, index = shapely.get_coordinates(
            geoms, include_z=True, include_m=True, return_index=True
        )
        coords, extra = np.ascontiguousarray(full[:, :2]), full[:, 2:]
    else:
        coords, index = shapely.get_coordinates(geoms, return_index=True)
    lines = [(simple.coords, simple.owner)]
    points = np.empty((0, 2))
    if simple.points.any():  # points and lines apart: a point is not a line's vertex
        point_row = np.zeros(len(column), dtype=bool)
        point_row[simple.rows[simple.points]] = True
        on_point = point_row[simple.owner]
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
    leaves = int(simple.rows.size) + _leaves(geoms)
    ordinates = _ordinates([(simple.extra, simple.owner), (extra, rest[index])])
    measured = detail_of.measure(detail)
    return DecodedBatch(found, rows, detail.coords, owner, measured, leaves, ordinates)


def _ordinates(parts: list[tuple[np.ndarray | None, np.ndarray]]) -> Written | None:
    """The Z and M values of a batch's coordinates (``parts``: each with its coordinates'
    rows), each with its row; None when no coordinate has one. They are numbers kept
    beside the positions as much as an attribute's: the attribute pass meets them so."""
    values, rows = [], []
    for extra, owner in parts:
        if extra is not None:
            given = np.isfinite(extra)
            values.append(extra[given])
            rows.append(np.broadcast_to(owner[:, None], extra.shape)[given])
    if not values or not sum(v.size for v in values):
        return None
    return Written.joined(values, rows)


def _leaves(geoms: np.ndarray) -> int:
    """How many geometry objects with coordinates of their own ``geoms`` are: one each,
    a collection as many as its members (nested ones too)."""
    count = 0
    while geoms.size:
        collection = shapely.get_type_id(geoms) == _COLLECTION
        count += int(np.count_nonzero(~collection))
        geoms = shapely.get_parts(geoms[collection])
    return count
