"""The layers of a vector source, each scanned once: its geometries streamed past the zone
and territory probes, its detail measured, its extent placed on the ground. Raster tables
beside the layers (a GeoPackage's orthophoto) are placed and measured as images."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from compliance.dataset_profile import DetailDistribution, LayerProfile
from compliance.geo.crs_identity import unit_m
from compliance.measure.attribute_reading import AttributeReading
from compliance.measure.contour_levels import LevelsFound
from compliance.measure.feature_places import MAX_WINDOWS
from compliance.measure.layer_levels import LayerLevels, draws_contours
from compliance.measure.leaks.index_checks import index_check
from compliance.measure.placement import (
    box_to_wgs84,
    check_crs,
    crs_label,
    place_image,
    union_bounds,
)
from compliance.measure.position_fields import is_position_name
from compliance.measure.raster_profile import looks_like_elevation
from compliance.measure.table_positions import ColumnRanges, Window, holds_a_table, windows_of
from compliance.measure.table_values import GeometryText
from compliance.measure.vector_profile import layer_detail
from compliance.measure.vector_scan import LayerScan, Probe, scan_layer
from compliance.measure.written_numbers import written_numbers
from compliance.readers.driver_fields import HEIGHT_NAME
from compliance.readers.geojson_unread import FEW_NUMBERS
from compliance.readers.sources import NO_GEOMETRY, LayerInfo, VectorSource
from compliance.text_digits import fold_batch
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.territory import Territory
from compliance.zones.zone_set import ZoneSet

__all__ = ["VectorTally", "scan_layers"]


@dataclass
class VectorTally:
    """What the layers of a vector source add up to, gathered as each is scanned."""

    acc: OverlapAccumulator
    hits: dict[str, OverlapAccumulator]
    layers: list[LayerProfile] = field(default_factory=list)
    footprints: list[BaseGeometry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)
    details: list[DetailDistribution] = field(default_factory=list)
    # Layers and images whose coordinates do not fit their CRS, each with why.
    off_aou: list[str] = field(default_factory=list)
    imagery: list[float] = field(default_factory=list)  # finest pixel side of each image
    features: int = 0
    empty: int = 0
    invalid: int = 0
    undecodable: int = 0
    unplaceable: int = 0
    has_z: bool = False
    # Numbers that lie as contour levels in a field not named as heights: held where
    # reading them as heights would change the verdict.
    elevation_unsure: bool = False
    located: bool = True
    leaves: int = 0  # geometry objects with coordinates read (a collection's members each)
    unread_geometries: list[str] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)  # where each layer's features lie
    # Layers whose features lie in places no window holds (too many, or by a pole): what
    # would be met with them is not passed (``compliance.measure.feature_places``).
    unmet: list[str] = field(default_factory=list)


def scan_layers(
    src: VectorSource, zones: ZoneSet, territories: list[Territory], read_ahead: bool = True
) -> VectorTally:
    """Scan every layer and place every raster table of ``src``."""
    tally = VectorTally(
        OverlapAccumulator(zones.areas), {t.pack: OverlapAccumulator(t.areas) for t in territories}
    )
    tables = []
    one_each = LayerLevels()
    for at, layer in enumerate(src.layers):
        if layer.geometry_type == NO_GEOMETRY:
            tables.append((at, layer))  # after the layers: met with where their features lie
        else:
            _scan_spatial_layer(src, layer, zones, territories, read_ahead, tally, one_each)
    _levels("(its layers, a level each)", one_each.found(src.wkb_batches), tally)
    for at, layer in tables:
        if (table := _attribute_table(src, layer, tally)) is not None:
            tally.layers.insert(at, table)
    _place_raster_tables(src, zones, territories, tally)
    if src.unread_text and _holds_positions(src.unread_text, tally):
        tally.unread_geometries.append(
            "positions written where GDAL does not read the document (comments, processing "
            "instructions, elements or attributes it has no field for, values its fields "
            "cannot parse or that a second value of the field replaces)" + _unmet_said(tally)
        )
    if src.coordinates_members is not None and src.coordinates_members > tally.leaves:
        tally.unread_geometries.append(
            f"{src.coordinates_members - tally.leaves} geometry objects of the GeoJSON "
            "document that GDAL did not read (foreign members, or geometries it dropped as "
            "malformed)"
        )
    return tally


def _holds_positions(parts: list[str], tally: VectorTally) -> bool:
    """Whether the parts, met together as one value (however a document spreads a table
    of positions over them), hold one where the features lie; or, where some features
    lie in no window, more than a few numbers, which cannot be cleared."""
    written = written_numbers(pa.array(["\n".join(parts)], pa.large_string()))
    if written is None:
        return False
    if tally.unmet:
        return written.values.size > FEW_NUMBERS
    return holds_a_table(written, tally.windows)


def _unmet_said(tally: VectorTally) -> str:
    if not tally.unmet:
        return ""
    return (
        f"; not met with where the features lie: layers {tally.unmet[:5]} lie in more "
        f"places than {MAX_WINDOWS} windows hold, or by a pole"
    )


def _scan_spatial_layer(
    src: VectorSource,
    layer: LayerInfo,
    zones: ZoneSet,
    territories: list[Territory],
    read_ahead: bool,
    tally: VectorTally,
    one_each: LayerLevels,
) -> None:
    probes = []
    if layer.crs is not None:
        probes.append(Probe.build(tally.acc, zones.areas, layer.crs))
        probes += [
            Probe.build(tally.hits[t.pack], t.areas, layer.crs, territory=True) for t in territories
        ]
    # Geometry written into a layer's text as well as drawn, and positions kept in its
    # numbers: its attributes are a table too, read in the same pass as its geometries.
    reading = AttributeReading.of(layer, src.driver)
    # Boxes kept beside the geometries (a spatial index, GeoPackage blob envelopes) are met
    # with the boxes read, in the same pass.
    boxes = index_check(src, layer, read_ahead)
    try:
        scan = scan_layer(src, layer, probes, read_ahead, reading.sink, reading.fields, boxes)
    finally:
        faults = boxes.faults() if boxes is not None else []  # which also stops its readers
    tally.unread_geometries += faults
    # The extent comes from the coordinates read; the driver's declared extent is only a
    # fallback for layers whose geometries could not be decoded.
    extent = tuple(scan.bounds) if scan.bounds is not None else None
    stand_in_box = src.driver_extent(layer) if scan.undecodable else None
    if stand_in_box is not None:
        extent = union_bounds(extent, stand_in_box)
        stand_in = np.array([shapely.box(*stand_in_box)], dtype=object)
        # Features GEOS cannot decode still lie somewhere in the layer's extent: stand the
        # extent in for them, so they can only add overlaps.
        for probe in probes:
            index = probe.index.covering(stand_in_box).index
            probe.acc.add(stand_in, index, areas_too=False)
    detail = layer_detail(scan)
    footprint = box_to_wgs84(extent, layer.crs) if layer.crs and extent else None
    if footprint is not None and layer.crs is not None:
        _add_windows(layer.name, layer.crs, scan, extent, footprint, tally)
    _count(scan, layer, tally)
    # A contour's level in ELEVATION, a GPX point's ele: heights all the same. And a layer
    # named as heights (contours) draws them, whatever its fields are called.
    named = HEIGHT_NAME.search(layer.name) is not None and scan.features > scan.empty
    if reading.heights or named:
        tally.has_z = True
        tally.methods[f"has_z[{layer.name}]"] = (
            f"heights in the field(s) {', '.join(reading.heights)}: named as heights, or where "
            "the format keeps them"
            if reading.heights
            else "a layer named as heights"
        )
    elif draws_contours(layer) and layer.source_layer is None:
        if reading.levels is not None:
            _levels(layer.name, reading.levels.found(), tally)
        one_each.add(layer, reading.levels.spans() if reading.levels else {})
    if detail.distribution is not None:
        tally.details.append(detail.distribution)
    tally.methods[f"resolution_m[{layer.name}]"] = detail.method
    if scan.features - scan.empty > 0:
        _place_layer(layer, scan, extent, footprint, tally)
    tally.layers.append(
        LayerProfile(
            name=layer.name,
            crs=crs_label(layer.crs),
            geometry_type=layer.geometry_type,
            feature_count=scan.features,
            resolution_m=detail.resolution_m,
            bounds_wgs84=list(footprint.bounds) if footprint is not None else None,
            detail=detail.distribution,
            coordinate_columns=reading.columns or None,
        )
    )


def _levels(name: str, found: LevelsFound, tally: VectorTally) -> None:
    said = [f"{field}: {how}" for field, how in found.levels.items()]
    said += [f"{field}: {why}" for field, why in sorted(found.unmet.items())]
    if said:
        tally.elevation_unsure = True
        tally.methods[f"elevation_unsure[{name}]"] = "numbers laid as contour levels: " + "; ".join(
            said
        )


def _add_windows(
    name: str,
    crs: CRS,
    scan: LayerScan,
    extent: tuple[float, ...] | None,
    footprint: BaseGeometry,
    tally: VectorTally,
) -> None:
    """Where the layer's features lie: its extent when that is narrow enough, else the
    places they gather in (one far feature must not leave the rest unmet)."""
    whole = windows_of(extent, footprint.bounds, bool(crs.is_geographic), unit_m(crs))
    if whole or scan.places is None:
        tally.windows += whole
        return
    places = scan.places.places()
    tally.windows += places.windows
    if not places.complete:
        tally.unmet.append(name)


def _count(scan: LayerScan, layer: LayerInfo, tally: VectorTally) -> None:
    tally.features += scan.features
    tally.empty += scan.empty
    tally.invalid += scan.invalid
    tally.undecodable += scan.undecodable
    tally.unplaceable += scan.unplaceable
    # An undecodable row was read too (GEOS refuses it; it is reported as such).
    tally.leaves += scan.leaves + scan.undecodable
    tally.has_z = (
        tally.has_z
        or scan.has_z
        or " Z" in layer.geometry_type
        or layer.geometry_type.endswith("Z")
    )


def _place_layer(
    layer: LayerInfo,
    scan: LayerScan,
    extent: tuple[float, ...] | None,
    footprint: BaseGeometry | None,
    tally: VectorTally,
) -> None:
    """Count a layer with features as placed (its footprint) or not (and why)."""
    if footprint is None:
        tally.located = False
        why = (
            "its coordinates are not valid positions in its CRS"
            if layer.crs is not None
            else layer.crs_problem or "no CRS that places it on the Earth"
        )
        tally.notes.append(f"layer {layer.name!r}: {why}, so it cannot be placed on the Earth")
        return
    tally.footprints.append(footprint)
    if layer.crs is not None and extent is not None:  # both, as it was placed
        check_crs(
            layer.name, layer.crs, extent, footprint, tally.hits, tally.off_aou, scan.lonlat_sized
        )


def _place_raster_tables(
    src: VectorSource, zones: ZoneSet, territories: list[Territory], tally: VectorTally
) -> None:
    """Raster tables beside the layers (an orthophoto under the outlines): their pixels are
    detail, their outlines ground the file covers."""
    tables = [
        place_image(r, tally.acc, tally.hits, zones, territories, tally.notes, tally.off_aou)
        for r in src.rasters
    ]
    tally.footprints += [t.footprint for t in tables if t.footprint is not None]
    tally.located = tally.located and all(t.footprint is not None for t in tables)
    tally.imagery += [t.sizes[0] for t in tables if t.sizes is not None]
    for raster, placed in zip(src.rasters, tables, strict=True):
        tally.has_z = tally.has_z or looks_like_elevation(raster)
        tally.layers.append(
            LayerProfile(
                name=raster.label or "raster",
                crs=crs_label(raster.crs),
                geometry_type="Raster",
                feature_count=None,
                resolution_m=placed.sizes[0] if placed.sizes else None,
                bounds_wgs84=list(placed.footprint.bounds) if placed.footprint else None,
            )
        )
        tally.methods[f"resolution_m[{raster.label}]"] = (
            "finest ground pixel side over a 9x9 sample grid of pixel corners, geodesic"
            if placed.sizes
            else "not measurable: no CRS or geotransform"
        )


def _attribute_table(
    src: VectorSource, layer: LayerInfo, tally: VectorTally
) -> LayerProfile | None:
    """A layer without geometry: nothing to place or overlap, but its columns may still hold
    positions, which mapgate does not place; a rule of the engine holds such tables for
    review. A column counts by its name, by a value that reads as a geometry, or as one
    of a pair of columns that stay where the layers' features are (``table_positions``).
    A catalogue's own columns count only by value; a catalogue table the driver does not
    list is named only when a column counts (None otherwise)."""
    text, ranges = GeometryText(), ColumnRanges(tuple(tally.windows))
    own = _catalogue_columns(layer)
    values = own if layer.catalogue_values else frozenset()  # a catalogue's own numbers
    # Met with where the layers' features lie (no layer, no place to meet), in the columns
    # whose numbers are not a catalogue's own.
    meet = bool(tally.windows or tally.unmet) and any(f not in values for f in layer.fields)
    # An R*Tree's nodes are its structure, not values (``LayerInfo.rtree_shadow``).
    for batch in () if layer.rtree_shadow else src.attribute_batches(layer):
        batch = fold_batch(batch)  # other scripts' digits read as ASCII's
        text.add(batch)
        if meet:
            ranges.add(batch.drop_columns([c for c in batch.schema.names if c in values]))
    by_value = text.columns + (ranges.positions(tally.windows) if meet else [])
    # Some features lie where no window holds them: numbers there cannot be cleared.
    unmet = (
        [c for c in ranges.numbered() if c in layer.fields and c not in by_value]
        if meet and tally.unmet
        else []
    )
    by_value += unmet
    named = [f for f in layer.fields if f not in own and is_position_name(f)]
    columns = [f for f in layer.fields if f in named or f in by_value]
    columns += [f for f in by_value if f not in columns]
    if layer.catalogue and layer.unlisted and not columns:
        return None
    note = f"layer {layer.name!r} is a table without geometry"
    if layer.unlisted:
        note += " that GDAL does not list (read with SQLite)"
    if columns:
        note += f"; its columns {columns} may hold coordinates, which are not placed"
    if unmet:
        note += _unmet_said(tally)
    if columns or not layer.catalogue:  # a database's catalogue is no news
        tally.notes.append(note)
    return LayerProfile(
        name=layer.name,
        crs=crs_label(layer.crs),
        geometry_type=NO_GEOMETRY,
        feature_count=layer.feature_count,
        resolution_m=None,
        bounds_wgs84=None,
        coordinate_columns=columns or None,
    )


def _catalogue_columns(layer: LayerInfo) -> frozenset[str]:
    """The columns of ``layer`` that a catalogue's standard gives it (none outside one)."""
    if not layer.catalogue:
        return frozenset()
    return frozenset(layer.fields) if layer.catalogue_columns is None else layer.catalogue_columns
