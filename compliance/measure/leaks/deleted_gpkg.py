"""Geometries deleted from a GeoPackage (or any SQLite file holding GeoPackage blobs) or
from a SpatiaLite database, whose bytes are still in the file: recovered, placed and met
with the zones. A SpatiaLite blob is placed by its MBR: the box its coordinates lie in."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from compliance.measure.leaks.recovered import Recovered, place_recovered
from compliance.readers.gpkg_sql import gpkg_rows
from compliance.readers.raw.gpkg_blobs import Blob, find_blobs
from compliance.readers.raw.gpkg_live import drop_live_copies, spatialite_columns
from compliance.readers.raw.spatialite_mbrs import HEADER, find_spatialite_blobs
from compliance.readers.raw.sqlite_pages import unallocated_regions
from compliance.readers.sources import parse_crs
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.zone_set import ZoneSet

__all__ = ["FreeSpace", "deleted_gpkg_geometries", "free_space_blobs"]

_UNDEFINED_SRS = {0, -1}  # GeoPackage's own "undefined" cartesian and geographic SRSs


@dataclass
class FreeSpace:
    """What an SQLite file's free space holds: GeoPackage blobs (by their bytes) and
    SpatiaLite blobs (by their headers), and how many free pages still hold bytes."""

    blobs: dict[bytes, Blob] = field(default_factory=dict)
    spatialite: dict[bytes, Blob] = field(default_factory=dict)
    stale_pages: int = 0


def free_space_blobs(path: Path) -> FreeSpace:
    """The blobs in the file's free space, and how many free pages still hold bytes: a
    walk of the whole file, which needs nothing of the check (it may run beside the read)."""
    found = FreeSpace()
    for region in unallocated_regions(path):
        data = region.data
        if region.free_page and data.count(0) != len(data):
            found.stale_pages += 1
        if b"GP" in data:
            for blob in find_blobs(data):
                found.blobs.setdefault(blob.key, blob)
        if b"\x7c" in data:
            for blob in find_spatialite_blobs(data):
                found.spatialite.setdefault(blob.key, blob)
    return found


def _srs(path: Path) -> dict[int, CRS | None]:
    rows = gpkg_rows(
        path,
        "SELECT srs_id, organization, organization_coordsys_id, definition "
        "FROM gpkg_spatial_ref_sys",
    )
    out: dict[int, CRS | None] = {}
    for srs_id, org, code, definition in rows:
        crs = parse_crs(str(definition)) if definition and definition != "undefined" else None
        if crs is None and org and code and str(org).upper() == "EPSG":
            crs = parse_crs(f"EPSG:{code}")
        out[int(srs_id)] = None if int(srs_id) in _UNDEFINED_SRS else crs
    return out


def _spatialite_srs(path: Path, wanted: set[int]) -> dict[int, CRS | None]:
    """The CRSs of the SRIDs ``wanted`` that a SpatiaLite database defines (its catalogue
    lists thousands: only these are parsed)."""
    rows = gpkg_rows(path, "SELECT srid, auth_name, auth_srid FROM spatial_ref_sys")
    out: dict[int, CRS | None] = {}
    for srid, auth, code in rows:
        if isinstance(srid, int) and srid in wanted:
            known = auth and code and str(auth).upper() == "EPSG"
            out[srid] = parse_crs(f"EPSG:{code}") if known else None
    return out


def _shapes(blobs: list[Blob]) -> np.ndarray:
    """The geometries, or their envelopes where the WKB is cut short or not one GEOS
    reads; None where neither is there."""
    wkb = np.array([b.wkb for b in blobs], dtype=object)
    shapes = shapely.from_wkb(wkb, on_invalid="ignore")
    for i in np.flatnonzero(shapes == None):  # noqa: E711 (element-wise on an object array)
        envelope = blobs[i].envelope
        shapes[i] = shapely.box(*envelope) if envelope is not None else None
    return shapes


def deleted_gpkg_geometries(
    path: Path,
    zones: ZoneSet,
    overlap: OverlapAccumulator | None,
    free_space: FreeSpace | None = None,
) -> Recovered:
    """The geometries deleted from the SQLite file at ``path`` but still in its free pages
    or in the free space of its pages, each counted once, and the free pages that still
    hold bytes. A large geometry's cell may be gone while the overflow pages holding the
    bulk of its coordinates sit on the freelist: those pages are counted, not rebuilt.
    ``free_space`` is ``free_space_blobs(path)`` when it was already walked."""
    if free_space is None:
        free_space = free_space_blobs(path)
    found, stale_pages = free_space.blobs, free_space.stale_pages
    if not found and not free_space.spatialite:
        return Recovered(stale_pages=stale_pages)
    srs = _srs(path) if found else {}
    # An SRS id the file does not define is not a blob of this file: stray bytes.
    blobs = [b for b in found.values() if b.srs_id in srs]
    blobs = drop_live_copies(path, {b.key: b for b in blobs}) if blobs else []
    if free_space.spatialite:
        more = _spatialite_srs(path, {b.srs_id for b in free_space.spatialite.values()})
        srs |= more
        kept = {k: b for k, b in free_space.spatialite.items() if b.srs_id in more}
        blobs += drop_live_copies(path, kept, spatialite_columns(path), HEADER) if kept else []
    by_crs: dict[int, list[Blob]] = defaultdict(list)
    for blob in blobs:
        by_crs[blob.srs_id].append(blob)
    result = Recovered(stale_pages=stale_pages)
    for srs_id, group in by_crs.items():
        result += place_recovered(_shapes(group), srs[srs_id], zones, overlap)
    return result
