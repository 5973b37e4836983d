"""Records a file holds that GDAL does not read: shapes the ``.shp`` holds that the ``.shx``
(or the ``.dbf``) leaves out, features a FlatGeobuf holds past the count in its header
(and numbers its spatial index holds that are not its features').

GDAL reads a shapefile through its ``.shx`` and a FlatGeobuf up to its header's count: a
record past them is skipped by every reader and still leaves with the file (a finer copy
of the features appended after the ones a reader shows, say). The records are walked from
the files' bytes (``compliance.readers.raw``); those GDAL does not read are rebuilt,
placed and met with the zones as deleted geometries are. A walk that stops on a record it
cannot follow says where: what lies past it is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyproj import CRS

from compliance.measure.leaks.index_boxes import tree_faults
from compliance.measure.leaks.recovered import Recovered, place_recovered
from compliance.readers.raw.fgb_records import fgb_records, fgb_shapes
from compliance.readers.raw.shp_boxes import shapefile_ranges
from compliance.readers.raw.shp_qix import index_beside
from compliance.readers.raw.shp_records import read_offsets, shp_records, shp_shapes
from compliance.readers.raw.shp_slack import dbf_records_past_count, shape_slack
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.zone_set import ZoneSet

__all__ = ["Unindexed", "unindexed_features", "unindexed_shapes"]


@dataclass
class Unindexed:
    """The records GDAL does not read, and the walks that stopped short."""

    found: Recovered = field(default_factory=Recovered)
    damaged: list[str] = field(default_factory=list)

    def __add__(self, other: Unindexed) -> Unindexed:
        return Unindexed(self.found + other.found, self.damaged + other.damaged)


def _not_read(starts: np.ndarray, read: np.ndarray) -> np.ndarray:
    """The walked record starts that are not among those GDAL reads."""
    if len(starts) == len(read) and np.array_equal(starts, read):
        return starts[:0]  # the common case: GDAL reads every record, in file order
    known = np.unique(read)
    if not len(known):
        return starts
    where = np.minimum(np.searchsorted(known, starts), len(known) - 1)
    return starts[known[where] != starts]


def _placed(
    shapes: np.ndarray, crs: CRS | None, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> Recovered:
    """Every record counts; those with a shape are placed and met with the zones."""
    kept = np.array([s for s in shapes if s is None or not s.is_empty], dtype=object)
    placed = place_recovered(kept, crs, zones, overlap)
    return Recovered(len(shapes), placed.in_zones, placed.unplaced)


def unindexed_shapes(
    base: Path, crs: CRS | None, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> Unindexed:
    """The records of the shapefile ``base`` (its path without a suffix) that no ``.shx``
    entry GDAL reads points to: left out of the ``.shx``, counted past its header's
    length, or past the records of the ``.dbf``; and, among what cannot be accounted
    for, bytes in records past their shapes, boxes and ranges that are not those of the
    points (``shp_boxes``), and ``.dbf`` records past its count."""
    files = read_offsets(base)
    if files is None:
        return Unindexed()
    shp, read, every = files
    walk = shp_records(shp, every)
    unread = _not_read(walk.starts, read)
    found = _placed(shp_shapes(shp, unread), crs, zones, overlap)
    skipped = [f"{shp.name}: {walk.damaged}"] if walk.damaged else []
    records, past = shape_slack(shp, walk.starts)
    if records:
        skipped.append(f"{shp.name}: {records} records hold {past} bytes past their shapes")
    if not walk.damaged:  # a walk cut short gives no whole file to meet the header with
        shx = next(p for p in (shp.with_suffix(".shx"), shp.with_suffix(".SHX")) if p.is_file())
        skipped += shapefile_ranges(shp, walk.starts, shx).faults(shp.name, shx.name)
        skipped += index_beside(shp, read)
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.is_file()), None)
    if dbf is not None and (extra := dbf_records_past_count(dbf)):
        skipped.append(f"{dbf.name}: {extra} records past the count in its header")
    return Unindexed(found, skipped)


def unindexed_features(
    path: Path, crs: CRS | None, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> Unindexed:
    """The features of the FlatGeobuf file at ``path`` past the count its header gives
    (GDAL reads them all only when the header counts none), and what its spatial index
    holds that its features do not (``index_boxes``)."""
    walk = fgb_records(path)
    extra = walk.starts[walk.features_count :] if walk.features_count else walk.starts[:0]
    found = _placed(fgb_shapes(path, extra, walk.geometry_type), crs, zones, overlap)
    faults = [walk.damaged] if walk.damaged else tree_faults(walk.header, walk.starts)
    return Unindexed(found, [f"{path.name}: {fault}" for fault in faults])
