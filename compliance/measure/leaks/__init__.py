"""Leak checks: what a file carries where its readers do not look, run in every check.

Each kind has a module: ``overviews`` (overview levels and other images showing pixels
the full resolution masks), ``deleted_gpkg`` (geometries deleted from a GeoPackage or
SQLite file still in its free space), ``deleted_shapes`` (shapes of records deleted from
a shapefile's ``.dbf``), ``unindexed_records`` (shapefile records the ``.shx`` leaves out,
FlatGeobuf features past the header's count), ``metadata_coordinates`` (positions kept by
an image that cannot be placed, and RPCs that place a placed image elsewhere),
``layer_metadata`` (positions written in a vector file's metadata).
``find_leaks`` runs those that apply to a dataset and returns the facts; the findings
that hold a verdict are in ``compliance.rules.fail_closed``.
"""

from __future__ import annotations

import sqlite3
import struct
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from compliance.dataset_profile import LeakFacts
from compliance.measure.leaks.deleted_gpkg import (
    FreeSpace,
    deleted_gpkg_geometries,
    free_space_blobs,
)
from compliance.measure.leaks.layer_metadata import metadata_numbers
from compliance.measure.leaks.recovered import Recovered, place_recovered
from compliance.measure.leaks.unindexed_records import (
    Unindexed,
    unindexed_features,
    unindexed_shapes,
)
from compliance.readers.background import helper_pool
from compliance.readers.kept_boxes import flatgeobuf_files
from compliance.readers.raw.deleted_shapes import (
    deleted_records,
    deleted_shapes,
    shapefile_parts,
)
from compliance.readers.raw.sqlite_pages import is_sqlite
from compliance.readers.sources import LayerInfo, RasterSource, VectorSource
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.zone_set import ZoneSet

__all__ = ["find_leaks", "walk_free_space"]

_SHAPEFILE_SUFFIXES = {".shp", ".shx", ".dbf"}
# What a damaged file can raise from the readers of raw formats here: the check then
# says it could not look, and the verdict is held.
_DAMAGED = (OSError, ValueError, struct.error, IndexError, sqlite3.Error)


def _shapefile_bases(src: VectorSource) -> list[tuple[Path, LayerInfo]]:
    path = src.path
    if path is None:
        return []
    if path.is_dir():
        return [(path / layer.name, layer) for layer in src.layers]
    if path.suffix.lower() in _SHAPEFILE_SUFFIXES and src.layers:
        return [(path.with_name(path.stem), src.layers[0])]
    return []


def _deleted_shapefile_records(
    src: VectorSource, zones: ZoneSet, overlap: OverlapAccumulator | None
) -> Recovered:
    found = Recovered()
    for base, layer in _shapefile_bases(src):
        parts = shapefile_parts(base)
        if parts is None:
            continue
        shp, shx, dbf = parts
        records = deleted_records(dbf)
        if records:
            shapes = deleted_shapes(shp, shx, records)
            kept = [s for s in shapes if s is None or not s.is_empty]
            if kept:
                found += place_recovered(np.array(kept, dtype=object), layer.crs, zones, overlap)
    return found


def _sqlite_file(src: VectorSource | RasterSource) -> Path | None:
    path = src.path
    return path if path is not None and path.is_file() and is_sqlite(path) else None


def walk_free_space(src: VectorSource | RasterSource) -> Future[FreeSpace | None] | None:
    """Start walking the free space of an SQLite source in a helper thread, to be passed
    to ``find_leaks``: a walk of the whole file that needs nothing of the scan, so it
    runs while the scan waits on the read instead of after it. For another source, a
    future already done with None (the file is not opened again to tell); None when the
    file could not be looked at (``find_leaks`` meets it again, and says so)."""
    try:
        path = _sqlite_file(src)
    except OSError:
        return None
    if path is None:
        done: Future[FreeSpace | None] = Future()
        done.set_result(None)
        return done
    return helper_pool().submit(free_space_blobs, path)


def _deleted(
    src: VectorSource | RasterSource,
    zones: ZoneSet,
    overlap: OverlapAccumulator | None,
    facts: LeakFacts,
    free_space: Future[FreeSpace | None] | None,
) -> None:
    recovered = Recovered()
    try:
        if free_space is None:
            path = _sqlite_file(src)
            walked = None
        else:
            walked = free_space.result()
            path = src.path if walked is not None else None
        if path is not None:
            recovered += deleted_gpkg_geometries(path, zones, overlap, walked)
        if isinstance(src, VectorSource) and src.driver == "ESRI Shapefile":
            recovered += _deleted_shapefile_records(src, zones, overlap)
    except _DAMAGED as exc:
        facts.unchecked.append(f"deleted records could not be looked for: {exc}")
    facts.deleted_geometries = recovered.count
    facts.deleted_geometries_in_zones = recovered.in_zones
    facts.deleted_geometries_unplaced = recovered.unplaced
    facts.free_pages_with_data = recovered.stale_pages


def _unindexed(
    src: VectorSource, zones: ZoneSet, overlap: OverlapAccumulator | None, facts: LeakFacts
) -> None:
    found = Unindexed()
    try:
        if src.driver == "ESRI Shapefile":
            for base, layer in _shapefile_bases(src):
                found += unindexed_shapes(base, layer.crs, zones, overlap)
        elif src.driver == "FlatGeobuf":
            for path, layer in flatgeobuf_files(src.path, src.layers):
                found += unindexed_features(path, layer.crs, zones, overlap)
    except _DAMAGED as exc:
        facts.unchecked.append(f"records GDAL does not read could not be looked for: {exc}")
    facts.unindexed_records = found.found.count
    facts.unindexed_records_in_zones = found.found.in_zones
    facts.unindexed_records_unplaced = found.found.unplaced
    facts.unindexed_damaged = found.damaged


def _overviews(raster: RasterSource, facts: LeakFacts, gdal_name: str | None = None) -> None:
    # The images' leak checks load with the first image: most vector checks have none.
    from compliance.measure.leaks.overviews import overview_leaks

    for leak in overview_leaks(raster, gdal_name):
        if leak.pixels is None:
            facts.unchecked.append(leak.where)
            continue
        facts.overview_pixels += leak.pixels
        facts.overview_levels.append(f"{leak.where}: {leak.pixels} pixels")


def _raster_leaks(src: RasterSource, facts: LeakFacts) -> None:
    from rasterio.errors import RasterioError

    from compliance.measure.leaks.metadata_coordinates import metadata_coordinates
    from compliance.measure.leaks.overviews import other_image_names

    _overviews(src, facts)
    facts.metadata_coordinates += metadata_coordinates(src)
    if src.other_images:
        try:
            names = other_image_names(src)
        except (RasterioError, *_DAMAGED) as exc:
            facts.unchecked.append(f"its other images could not be opened: {exc}")
            return
        for image in src.other_images:
            name = names.get(image.label or "")
            found = metadata_coordinates(image, name) if name else []
            facts.metadata_coordinates += [f"{image.label}: {f}" for f in found]


def find_leaks(
    src: VectorSource | RasterSource,
    zones: ZoneSet,
    overlap: OverlapAccumulator | None = None,
    free_space: Future[FreeSpace | None] | None = None,
) -> LeakFacts:
    """The leak facts of one dataset. Deleted geometries that meet a zone are also added
    to ``overlap``, the dataset's zone overlap. ``free_space``: ``walk_free_space(src)``,
    started earlier (else the free space is walked here)."""
    facts = LeakFacts()
    _deleted(src, zones, overlap, facts, free_space)
    if isinstance(src, RasterSource):
        _raster_leaks(src, facts)
    else:
        _unindexed(src, zones, overlap, facts)
        facts.metadata_coordinates += metadata_numbers(src)
        for raster in src.rasters:  # a GeoPackage's tile tables beside its features
            _overviews(raster, facts, f"GPKG:{raster.path}:{raster.label}")
    return facts
