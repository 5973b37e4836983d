"""The features a FlatGeobuf file holds, walked from its bytes.

The features follow the header and the spatial index (``fgb_index``), each a flatbuffer
led by its size (uint32). GDAL reads as many features as the header counts, one after
the other (all of them, to the end of the file, when it counts 0). The walk here follows
the sizes to the end of the file (``record_chain``: the chain the index's leaves predict
is checked at once, the rest feature by feature).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compliance.readers.raw.fgb_geometry import fgb_geometry
from compliance.readers.raw.fgb_index import FgbHeader, fgb_header
from compliance.readers.raw.record_chain import RecordLayout, walk_records

__all__ = ["FgbRecords", "fgb_records", "fgb_shapes"]

_FEATURE = RecordLayout("<u4", field=0, lead=4, unit=1, least=1)


@dataclass
class FgbRecords:
    """What the walk found: the header, and where each feature starts (its size prefix),
    in file order."""

    header: FgbHeader
    starts: np.ndarray
    damaged: str | None = None  # why the walk stopped short of the end of the file

    @property
    def features_count(self) -> int:
        return self.header.features_count

    @property
    def geometry_type(self) -> int:
        return self.header.geometry_type


def fgb_records(path: Path) -> FgbRecords:
    """Walk the features of the FlatGeobuf file at ``path``. A size that reaches past the
    end of the file, or stray bytes after the last feature, stop the walk (``damaged``):
    what lies past them is not known."""
    header = fgb_header(path)
    if header.first > header.size:
        return FgbRecords(header, np.zeros(0, np.int64), "its index runs past its end")
    # GDAL writes the features in the leaves' order: sorting is rarely needed.
    hint = header.leaf_offsets()
    hint = hint if np.all(hint[1:] > hint[:-1]) else np.sort(hint)
    walk = walk_records(path, header.first, hint, _FEATURE)
    return FgbRecords(header, walk.starts, walk.damaged)


def fgb_shapes(path: Path, starts: np.ndarray, geometry_type: int) -> np.ndarray:
    """The geometries of the features that start at ``starts`` (as walked by
    ``fgb_records``): None where one cannot be rebuilt, an empty geometry where a feature
    has none. ``geometry_type``: the header's."""
    out = np.empty(len(starts), dtype=object)
    with path.open("rb") as f:
        for i, start in enumerate(starts):
            f.seek(int(start))
            length = struct.unpack("<I", f.read(4))[0]
            feature = f.read(length)
            out[i] = fgb_geometry(feature, geometry_type) if len(feature) == length else None
    return out
