"""The records a shapefile's ``.shp`` holds, walked from its bytes, and the ones GDAL reads.

A ``.shp`` is a 100-byte header and records, each a header (record number, content length
in 16-bit words; big-endian) and its content. GDAL does not walk them: it reads the records
the ``.shx`` points to, as many as the ``.shx`` header's file length counts, and no more
than the ``.dbf`` holds (its header's count, and the records its file is long enough for).
The walk here follows the record headers to the end of the ``.shp`` (``record_chain``: the
chain of records the ``.shx`` predicts is checked at once, the rest record by record).
ESRI Shapefile Technical Description, 1998.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import shapely

from compliance.readers.raw.deleted_shapes import shape_record
from compliance.readers.raw.record_chain import RecordLayout, RecordWalk, walk_records

__all__ = ["dbf_record_counts", "read_offsets", "shp_records", "shp_shapes"]

_HEADER = 100
_NO_DBF = 1 << 62
# A record: number and content length (16-bit words, at least the shape type's 2), both
# big-endian, then the content.
_RECORD = RecordLayout(">i4", field=4, lead=8, unit=2, least=2)


def _part(base: Path, suffix: str) -> Path | None:
    candidates = (base.with_name(base.name + s) for s in (suffix, suffix.upper()))
    return next((p for p in candidates if p.is_file()), None)


def dbf_record_counts(dbf: Path) -> tuple[int, int]:
    """A ``.dbf``'s record count as its header gives it, and the whole records its file
    holds (the count again when its records have no size); (0, 0) without a header."""
    with dbf.open("rb") as f:
        head = f.read(12)
        size = f.seek(0, 2)
    if len(head) < 12:
        return 0, 0
    count, header_size, record_size = struct.unpack_from("<IHH", head, 4)
    whole = max(0, size - header_size) // record_size if record_size else count
    return count, whole


def _dbf_records(dbf: Path | None) -> int:
    """How many records GDAL reads from the ``.dbf``: its header's count, or the whole
    records the file holds when it is cut shorter."""
    if dbf is None:
        return _NO_DBF
    count, whole = dbf_record_counts(dbf)
    return max(0, min(count, whole))


def read_offsets(base: Path) -> tuple[Path, np.ndarray, np.ndarray] | None:
    """The ``.shp`` of the shapefile ``base`` (its path without a suffix), the byte offsets
    of the records GDAL reads through its ``.shx`` and ``.dbf``, and those of every ``.shx``
    entry; None without a ``.shp`` or ``.shx`` (GDAL then does not open it)."""
    shp, shx = _part(base, ".shp"), _part(base, ".shx")
    if shp is None or shx is None:
        return None
    index = shx.read_bytes()
    if len(index) < _HEADER:
        raise ValueError(f"{shx.name} is shorter than its header")
    declared = (2 * struct.unpack_from(">i", index, 24)[0] - _HEADER) // 8
    entries = np.frombuffer(
        index, dtype=">i4", count=2 * ((len(index) - _HEADER) // 8), offset=_HEADER
    )
    offsets = 2 * entries[::2].astype(np.int64)
    read = max(0, min(declared, len(offsets), _dbf_records(_part(base, ".dbf"))))
    return shp, offsets[:read], offsets


def shp_records(shp: Path, hint: np.ndarray) -> RecordWalk:
    """Walk the records of ``shp``; ``hint``: the ``.shx`` entries' offsets, the records a
    well-formed file holds. A length that runs past the end of the file, or stray bytes
    after the last record, stop the walk (``damaged``): what lies past them is not known."""
    return walk_records(shp, _HEADER, hint, _RECORD)


def shp_shapes(shp: Path, starts: np.ndarray) -> np.ndarray:
    """The shapes of the records whose headers start at ``starts`` (as walked): None
    where one cannot be rebuilt, an empty geometry where a record holds none."""
    out = np.empty(len(starts), dtype=object)
    with shp.open("rb") as f:
        for i, start in enumerate(starts):
            f.seek(int(start))
            head = f.read(8)
            content = f.read(2 * struct.unpack(">i", head[4:])[0])
            try:
                out[i] = shape_record(content)
            except (ValueError, shapely.errors.GEOSException):
                out[i] = None  # a damaged record: there, but not rebuilt
    return out
