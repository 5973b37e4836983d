"""Geometries deleted from a GeoPackage (or any SQLite file holding GeoPackage blobs)
whose bytes are still in the file: recovered, placed and met with the zones."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from compliance.measure.leaks.gpkg_blobs import PREFIX, Blob, find_blobs
from compliance.measure.leaks.recovered import Recovered, place
from compliance.measure.leaks.sqlite_pages import unallocated_regions
from compliance.readers.dataset import parse_crs
from compliance.readers.gpkg_sql import gpkg_rows
from compliance.zones.zone_set import OverlapAccumulator, ZoneSet

__all__ = ["deleted_gpkg_geometries"]

_UNDEFINED_SRS = {0, -1}  # GeoPackage's own "undefined" cartesian and geographic SRSs


def _candidates(path: Path) -> tuple[dict[bytes, Blob], int]:
    """The blobs in the file's free space, and how many free pages still hold bytes."""
    found: dict[bytes, Blob] = {}
    stale_pages = 0
    for region in unallocated_regions(path):
        data = region.data
        if region.free_page and data.count(0) != len(data):
            stale_pages += 1
        if b"GP" in data:
            for blob in find_blobs(data):
                found.setdefault(blob.key, blob)
    return found, stale_pages


def _digest(blob: bytes, whole: bool) -> bytes:
    return hashlib.sha1(blob if whole else blob[:PREFIX]).digest()


def _drop_live_copies(path: Path, found: dict[bytes, Blob]) -> list[Blob]:
    """The candidates no live row holds: an UPDATE leaves the row's old cell behind, and
    a copy of a geometry the file shows is no hidden geometry. The live rows stream past
    the candidates, so memory stays with the candidates."""
    wanted = {_digest(b.key, b.wkb is not None): b for b in found.values()}
    columns = gpkg_rows(path, "SELECT table_name, column_name FROM gpkg_geometry_columns")
    for table, column in columns:
        quoted_table = '"' + str(table).replace('"', '""') + '"'
        quoted_column = '"' + str(column).replace('"', '""') + '"'
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                for (value,) in db.execute(f"SELECT {quoted_column} FROM {quoted_table}"):
                    if isinstance(value, bytes):
                        wanted.pop(_digest(value, True), None)
                        wanted.pop(_digest(value, False), None)
        except sqlite3.Error:
            continue  # a table listed but not there: nothing live to compare with
        if not wanted:
            break
    return list(wanted.values())


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


def _shape(blob: Blob) -> shapely.Geometry | None:
    """The geometry, or its envelope where its WKB is cut short or not one GEOS reads."""
    if blob.wkb is not None:
        try:
            return shapely.from_wkb(blob.wkb, on_invalid="raise")
        except (shapely.errors.GEOSException, shapely.errors.ShapelyError, ValueError):
            pass
    return shapely.box(*blob.envelope) if blob.envelope is not None else None


def deleted_gpkg_geometries(
    path: Path, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> Recovered:
    """The geometries deleted from the SQLite file at ``path`` but still in its free pages
    or in the free space of its pages, each counted once, and the free pages that still
    hold bytes. A large geometry's cell may be gone while the overflow pages holding the
    bulk of its coordinates sit on the freelist: those pages are counted, not rebuilt."""
    found, stale_pages = _candidates(path)
    if not found:
        return Recovered(stale_pages=stale_pages)
    srs = _srs(path)
    # An SRS id the file does not define is not a blob of this file: stray bytes.
    blobs = [b for b in found.values() if b.srs_id in srs]
    blobs = _drop_live_copies(path, {b.key: b for b in blobs}) if blobs else []
    by_crs: dict[int, list[shapely.Geometry | None]] = defaultdict(list)
    for blob in blobs:
        by_crs[blob.srs_id].append(_shape(blob))
    result = Recovered(stale_pages=stale_pages)
    for srs_id, shapes in by_crs.items():
        result += place(np.array(shapes, dtype=object), srs[srs_id], zones, overlap)
    return result
