"""One pass over a dataset: profile facts, zone overlaps and territory hits together.

Vector layers stream batch by batch through every consumer, so a large file is read
once and never held whole; rasters are described from their headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from compliance.dataset_profile import (
    DetailDistribution,
    LayerProfile,
    Profile,
    detail_unknown,
    resolution_for,
    settle_scale,
)
from compliance.geo.footprint import footprint_to_wgs84
from compliance.geo.geodesy import WGS84, area_km2
from compliance.measure.crs_plausibility import crs_mismatch
from compliance.measure.declared_scale import declared_scale
from compliance.measure.kml_overlays import KML_DRIVERS, image_overlays, overlay_files
from compliance.measure.raster_profile import (
    MAX_GCPS,
    is_georeferenced,
    looks_like_elevation,
    measure_pixels,
)
from compliance.measure.valid_pixels import data_over_zones
from compliance.measure.vector_profile import dataset_detail, describe, layer_detail
from compliance.measure.vector_scan import Probe, scan_layer
from compliance.readers.archive import is_zip
from compliance.readers.dataset import NO_GEOMETRY, LayerInfo, RasterSource, VectorSource
from compliance.readers.driver_fields import own_fields
from compliance.readers.kml_document import read_kml_document, unreferenced_members
from compliance.zones.area_cover import growing_index
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.territory import Territory
from compliance.zones.zone_set import ZoneSet

_DENSIFY_EDGES = 32


@dataclass
class Inspection:
    profile: Profile
    located: bool
    zones: OverlapAccumulator
    territory_hits: dict[str, OverlapAccumulator] = field(default_factory=dict)
    footprint_wgs84: BaseGeometry | None = None
    # Layers and images whose coordinates do not fit their CRS, each with why.
    crs_mismatches: list[str] = field(default_factory=list)
    # Files an archive or folder holds besides the dataset read (paths inside it).
    unchecked_files: list[str] = field(default_factory=list)
    # Files besides the dataset that the check read too (a KML's overlay images).
    files_read: list[Path] = field(default_factory=list)


def crs_label(crs: CRS | None) -> str | None:
    if crs is None:
        return None
    code = crs.to_authority(min_confidence=90)
    return f"{code[0]}:{code[1]}" if code else crs.to_wkt()


def _box_to_wgs84(bounds: tuple[float, float, float, float], crs: CRS) -> BaseGeometry | None:
    minx, miny, maxx, maxy = bounds
    if maxx - minx <= 0 and maxy - miny <= 0:
        outline: BaseGeometry = shapely.Point(minx, miny)
    elif maxx - minx <= 0 or maxy - miny <= 0:
        outline = shapely.LineString([(minx, miny), (maxx, maxy)])
    else:
        outline = shapely.box(minx, miny, maxx, maxy)
    length = max(maxx - minx, maxy - miny)
    if length > 0:
        try:
            outline = shapely.segmentize(outline, length / _DENSIFY_EDGES)
        except shapely.errors.GEOSException:
            # Coordinates so large that a 256th of the extent is lost in round-off: they
            # are not positions on the Earth in any CRS.
            return None
    return footprint_to_wgs84(outline, crs)


def _union_bounds(a: tuple[float, ...] | None, b: tuple[float, ...]) -> tuple[float, ...]:
    if a is None:
        return tuple(b)
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _check_crs(
    name: str,
    crs: CRS,
    native_bounds: tuple[float, ...],
    footprint: BaseGeometry,
    hits: dict[str, OverlapAccumulator],
    mismatches: list[str],
    lonlat_features: int = 0,
) -> None:
    """Note a CRS tag that does not fit the coordinates. The data may then lie anywhere,
    so every pack's territory counts as touched: the packs apply as to unplaced data."""
    why = crs_mismatch(crs, native_bounds, footprint, lonlat_features)
    if why is None:
        return
    mismatches.append(f"{name}: {why}")
    for acc in hits.values():
        acc.mark_touched()


# Column names that suggest positions kept as plain attributes (a CSV of points, a table of
# addresses with their coordinates): whole names, or lat/lon/lng as a word in a name.
_COORDINATE_NAME = re.compile(
    r"^(x|y|lat|lon|lng|long|latitude|longitude|easting|northing|coords?|coordinates?"
    r"|wkt|wkb|geom|geometry|the_geom|shape|location|position)$"
    r"|latitude|longitude|(^|_)(lat|lon|lng)(_|$)",
    re.IGNORECASE,
)


def _attribute_table(layer: LayerInfo, notes: list[str]) -> LayerProfile:
    """A layer without geometry: nothing to place or overlap, but its columns may still hold
    positions, which mapgate does not read; a rule of the engine holds such tables for review."""
    columns = [f for f in layer.fields if _COORDINATE_NAME.search(f)]
    note = f"layer {layer.name!r} is a table without geometry"
    if columns:
        note += f"; its columns {columns} may hold coordinates, which are not read"
    notes.append(note)
    return LayerProfile(
        name=layer.name,
        crs=crs_label(layer.crs),
        geometry_type=NO_GEOMETRY,
        feature_count=layer.feature_count,
        resolution_m=None,
        bounds_wgs84=None,
        coordinate_columns=columns or None,
    )


def inspect_vector(
    src: VectorSource, zones: ZoneSet, territories: list[Territory], read_ahead: bool = True
) -> Inspection:
    acc = OverlapAccumulator(zones.areas)
    hits = {t.pack: OverlapAccumulator(t.areas) for t in territories}
    layers: list[LayerProfile] = []
    footprints: list[BaseGeometry] = []
    notes: list[str] = []
    methods: dict[str, str] = {}
    empty = invalid = undecodable = unplaceable = features = 0
    has_z = False
    located = True
    off_aou: list[str] = []
    details: list[DetailDistribution] = []
    for layer in src.layers:
        if layer.geometry_type == NO_GEOMETRY:
            layers.append(_attribute_table(layer, notes))
            continue
        probes = []
        if layer.crs is not None:
            probes.append(Probe.build(acc, zones.areas, layer.crs))
            probes += [
                Probe.build(hits[t.pack], t.areas, layer.crs, territory=True) for t in territories
            ]
        scan = scan_layer(src, layer, probes, read_ahead)
        # The extent comes from the coordinates read; the driver's declared extent is only a
        # fallback for layers whose geometries could not be decoded.
        extent = tuple(scan.bounds) if scan.bounds is not None else None
        stand_in_box = src.driver_extent(layer) if scan.undecodable else None
        if stand_in_box is not None:
            extent = _union_bounds(extent, stand_in_box)
            stand_in = np.array([shapely.box(*stand_in_box)], dtype=object)
            # Features GEOS cannot decode still lie somewhere in the layer's extent: stand the
            # extent in for them, so they can only add overlaps.
            for probe in probes:
                index = probe.index.covering(stand_in_box).index
                probe.acc.add(stand_in, index, areas_too=False)
        detail = layer_detail(scan)
        footprint = _box_to_wgs84(extent, layer.crs) if layer.crs and extent else None
        bounds = list(footprint.bounds) if footprint is not None else None
        features += scan.features
        empty += scan.empty
        invalid += scan.invalid
        undecodable += scan.undecodable
        unplaceable += scan.unplaceable
        has_z = (
            has_z or scan.has_z or " Z" in layer.geometry_type or layer.geometry_type.endswith("Z")
        )
        if detail.distribution is not None:
            details.append(detail.distribution)
        methods[f"resolution_m[{layer.name}]"] = detail.method
        if scan.features - scan.empty > 0:
            if footprint is None:
                located = False
                why = (
                    "its coordinates are not valid positions in its CRS"
                    if layer.crs is not None
                    else layer.crs_problem or "no CRS that places it on the Earth"
                )
                notes.append(f"layer {layer.name!r}: {why}, so it cannot be placed on the Earth")
            else:
                footprints.append(footprint)
                if layer.crs is not None and extent is not None:  # both, as it was placed
                    _check_crs(
                        layer.name, layer.crs, extent, footprint, hits, off_aou, scan.lonlat_sized
                    )
        layers.append(
            LayerProfile(
                name=layer.name,
                crs=crs_label(layer.crs),
                geometry_type=layer.geometry_type,
                feature_count=scan.features,
                resolution_m=detail.resolution_m,
                bounds_wgs84=bounds,
                detail=detail.distribution,
            )
        )
    # Raster tables beside the layers (an orthophoto under the outlines): their pixels are
    # detail, their outlines ground the file covers.
    tables = [_place_image(r, acc, hits, zones, territories, notes, off_aou) for r in src.rasters]
    footprints += [t.footprint for t in tables if t.footprint is not None]
    located = located and all(t.footprint is not None for t in tables)
    imagery = [t.sizes[0] for t in tables if t.sizes is not None]  # and draped images, below
    for raster, placed in zip(src.rasters, tables, strict=True):
        has_z = has_z or looks_like_elevation(raster)
        layers.append(
            LayerProfile(
                name=raster.label or "raster",
                crs=crs_label(raster.crs),
                geometry_type="Raster",
                feature_count=None,
                resolution_m=placed.sizes[0] if placed.sizes else None,
                bounds_wgs84=list(placed.footprint.bounds) if placed.footprint else None,
            )
        )
        methods[f"resolution_m[{raster.label}]"] = (
            "finest ground pixel side over a 9x9 sample grid of pixel corners, geodesic"
            if placed.sizes
            else "not measurable: no CRS or geotransform"
        )
    kml = src.driver in KML_DRIVERS and src.path is not None
    overlays = image_overlays(src.path, src.layers) if kml and src.path else []
    kmz = kml and src.path is not None and is_zip(src.path)
    # The document is read again only for what GDAL does not pass on: its overlays'
    # rotation and, in a KMZ, which members it refers to.
    document = read_kml_document(src.path) if src.path and (overlays or kmz) else None
    if document is not None and document.rotated_overlays:
        # LIBKML gave each turned overlay as its unturned box: its corners reach further.
        reach = np.array(document.rotated_overlays, dtype=object)
        _meet_areas(reach, WGS84, acc, hits, zones, territories, areas_too=False)
        footprints += list(reach)
        notes.append(
            f"{len(reach)} ground overlays are turned: each is also checked as a box that "
            "holds it turned"
        )
    if not footprints:
        located = False
    union = shapely.union_all(footprints) if footprints else None
    if document is None:
        for overlay in overlays:
            # Its rotation could not be read: the ground it covers is not known.
            overlay.unmeasured = overlay.unmeasured or "its document could not be read through"
    # An image draped over the ground shows detail down to its pixels.
    draped = [o.resolution_m for o in overlays if o.resolution_m is not None]
    imagery += draped
    vector_detail = dataset_detail(details)
    declared = declared_scale(
        [src.metadata] + [la.metadata for la in src.layers],
        gpkg=src.path if src.driver == "GPKG" and src.path else None,
    )
    crs_names = sorted({c for la in layers if (c := la.crs)})
    spatial = [la for la in src.layers if la.geometry_type != NO_GEOMETRY]
    profile = _finish(
        Profile(
            kind="vector",
            format=src.driver,
            crs=crs_names[0]
            if len(crs_names) == 1
            else ("mixed: " + ", ".join(crs_names) if crs_names else None),
            has_crs=bool(spatial) and all(la.crs is not None for la in spatial),
            georeferenced=located,
            bounds_wgs84=None,
            area_km2=None,
            resolution_m=None,
            detail=vector_detail,
            scale_denominator=None,
            scale_source=None,
            declared_scale_denominator=declared,
            feature_count=features,
            layer_count=len(src.layers),
            has_z=has_z,
            fields=sorted({f for la in src.layers for f in own_fields(src.driver, la.fields)}),
            layers=layers,
            empty_geometries=max(empty, 0),
            invalid_geometries=invalid,
            undecodable_geometries=undecodable,
            unplaceable_geometries=unplaceable,
            unread_tables=list(src.unread_tables),
            unread_geometries=list(src.unread_geometries),
            image_overlays=overlays,
            has_imagery=bool(src.rasters or overlays),
            imagery_resolution_m=min(imagery, default=None),
            methods=methods,
            notes=notes,
        ),
        union,
        "extent of each layer's coordinates (bounding box in its CRS, densified, projected to WGS84)",
    )
    profile.methods["invalid_geometries"] = (
        "GEOS validity of the features decoded: those tested exactly against a zone or "
        "territory, and those in forms other than points, lines and single-ring polygons"
    )
    profile.methods["resolution_m"] = (
        "the layers' lines and rings pooled: the detail reached by 1% of them or 100, "
        "whichever is fewer, and the finest imagery"
        if len(layers) > 1
        else methods.get(f"resolution_m[{layers[0].name}]", "not measurable")
        if layers
        else "not measurable: no layers"
    )
    if vector_detail is not None and vector_detail.points_unmeasured:
        profile.methods["resolution_m"] = describe(vector_detail, None)
    if any(o.resolution_m is not None for o in overlays):
        profile.methods["resolution_m"] += (
            " and the ground size of the pixels of the images draped over the ground "
            "(each overlay's edges, geodesic, over its image's width and height)"
        )
    inspection = Inspection(profile, located, acc, hits, union, off_aou)
    if src.path is not None:
        inspection.files_read = overlay_files(src.path, overlays)
        if kmz:
            inspection.unchecked_files = unreferenced_members(src.path, document)
    return inspection


def _meet_areas(
    geoms: np.ndarray,
    crs: CRS,
    acc: OverlapAccumulator,
    hits: dict[str, OverlapAccumulator],
    zones: ZoneSet,
    territories: list[Territory],
    areas_too: bool = True,
    zone_geoms: np.ndarray | None = None,
) -> None:
    """Test a few whole shapes (a raster's outline, a turned overlay's reach) against the
    zones and territories, outside any layer's stream; ``zone_geoms`` (within ``geoms``)
    stand for them against the zones when given."""
    box = tuple(shapely.total_bounds(geoms))
    index = growing_index(zones.areas, crs).covering(box).index
    acc.add(geoms if zone_geoms is None else zone_geoms, index, areas_too=areas_too)
    for t in territories:
        index = growing_index(t.areas, crs, coarse=True).covering(box).index
        hits[t.pack].add(geoms, index, areas_too=False)


@dataclass
class _PlacedImage:
    footprint: BaseGeometry | None  # lon/lat; None when the image cannot be placed
    sizes: tuple[float, float] | None  # finest and coarsest ground pixel side, metres


def _place_image(
    image: RasterSource,
    acc: OverlapAccumulator,
    hits: dict[str, OverlapAccumulator],
    zones: ZoneSet,
    territories: list[Territory],
    notes: list[str],
    off_aou: list[str],
) -> _PlacedImage:
    """Place one image on the ground, meet the zones and territories with its outline, and
    measure its pixels; why it cannot be placed goes to ``notes``."""
    where = f"image {image.label}: " if image.label else ""
    measured = measure_pixels(image)
    outline = measured.outline
    footprint = None
    if image.crs is not None and outline is None and is_georeferenced(image):
        notes.append(
            f"{where}its pixels cannot be mapped to its CRS"
            + (
                f" (GCPs a thin-plate spline cannot pass through, or more than {MAX_GCPS:,})"
                if image.gcps
                else ""
            )
            + "; its footprint is unknown"
        )
    if image.crs is not None and outline is not None:
        footprint = footprint_to_wgs84(outline, image.crs)
        if footprint is None:
            notes.append(
                f"{where}the raster's corners are not valid positions in its CRS; "
                "its footprint is unknown"
            )
    if image.crs is None:
        notes.append(
            f"{where}no CRS that places it on the Earth: "
            + ("it cannot be placed" if where else "the raster cannot be placed")
        )
    if not is_georeferenced(image):
        notes.append(
            f"{where}no geotransform or usable GCPs" + (" (RPCs only)" if image.has_rpc else "")
        )
    if footprint is not None and outline is not None and image.crs is not None:
        # Against the zones, only where the image holds valid pixels (any overview too).
        data = np.array([data_over_zones(image, outline, zones.areas)], dtype=object)
        outlines = np.array([outline], dtype=object)
        _meet_areas(outlines, image.crs, acc, hits, zones, territories, zone_geoms=data)
        _check_crs(image.label or "raster", image.crs, outline.bounds, footprint, hits, off_aou)
    else:
        footprint = None
    return _PlacedImage(footprint, measured.sizes)


def _sidecar_notes(src: RasterSource) -> list[str]:
    notes = [f"the CRS is read from {name} beside the image" for name in src.sidecars_read]
    if src.placements:
        notes.append(
            "its header and its sidecar files place it differently ("
            + "; ".join(p.label or "" for p in src.placements)
            + "): each placement was measured, and the finest pixel spacing, every "
            "footprint and every zone met count"
        )
    return notes


def inspect_raster(src: RasterSource, zones: ZoneSet, territories: list[Territory]) -> Inspection:
    acc = OverlapAccumulator(zones.areas)
    hits = {t.pack: OverlapAccumulator(t.areas) for t in territories}
    notes: list[str] = []
    off_aou: list[str] = []
    # A container with no image of its own (a netCDF of several variables) is its images.
    images = ([src] if src.count or not src.other_images else []) + src.other_images
    notes += _sidecar_notes(src)
    placements = [p for i in images for p in i.placements]
    placed = [
        _place_image(i, acc, hits, zones, territories, notes, off_aou) for i in images + placements
    ]
    footprints = [p.footprint for p in placed if p.footprint is not None]
    located = bool(placed) and all(p.footprint is not None for p in placed)
    sizes = [p.sizes for p in placed if p.sizes is not None]
    if len(images) > 1:
        notes.append(
            f"the file holds {len(images)} images ({', '.join(i.label or 'the first' for i in images)}); "
            "each was measured and the finest counts"
        )
    finest = min((s[0] for s in sizes), default=None)
    coarsest = max((s[1] for s in sizes), default=None)
    methods = {
        "resolution_m": (
            "shortest geodesic distance between neighbouring pixel centres (the reduced "
            "pixel lattice), sampled over the whole extent, far edges included, and refined "
            f"where finest (coarsest {coarsest:.4g} m)"
            + (", over every image in the file" if len(images) > 1 else "")
            + (", over every placement its header and sidecars give" if placements else "")
            + (", through the GCPs (thin-plate spline)" if src.gcps else "")
            if finest is not None
            else "not measurable: no CRS or geotransform"
        ),
        "georeferencing": src.transform_source,
    }
    union = shapely.union_all(footprints) if footprints else None
    declared = declared_scale([src.tags] + [i.tags for i in src.other_images])
    shown = images[0] if images else src
    profile = _finish(
        Profile(
            kind="raster",
            format=src.driver,
            crs=crs_label(shown.crs),
            has_crs=shown.crs is not None,
            georeferenced=located,
            bounds_wgs84=None,
            area_km2=None,
            resolution_m=finest,
            has_imagery=True,
            imagery_resolution_m=finest,
            scale_denominator=None,
            scale_source=None,
            declared_scale_denominator=declared,
            band_count=shown.count,
            has_z=any(looks_like_elevation(i) for i in images),
            width=shown.width,
            height=shown.height,
            overviews=shown.overviews,
            methods=methods,
            notes=notes,
        ),
        union,
        "pixel-grid outline (densified edges) projected to WGS84",
    )
    return Inspection(profile, located, acc, hits, union, off_aou)


def _finish(profile: Profile, footprint: BaseGeometry | None, how: str) -> Profile:
    if profile.kind == "vector":
        profile.resolution_m = resolution_for(profile)
    if footprint is not None and not footprint.is_empty:
        profile.bounds_wgs84 = [round(v, 9) for v in footprint.bounds]
        profile.area_km2 = area_km2(footprint)
        profile.footprint_wgs84 = mapping(shapely.set_precision(footprint, 1e-7))
        profile.methods["footprint"] = how
        profile.methods["area_km2"] = "geodesic area of the footprint on the WGS84 ellipsoid"
    denominator, source, coarser = settle_scale(
        profile.resolution_m,
        profile.declared_scale_denominator,
        detail_unknown=detail_unknown(profile),
    )
    profile.scale_denominator, profile.scale_source = denominator, source
    profile.methods["scale_denominator"] = (
        "declared in the metadata"
        if source == "declared"
        else "estimated: 2000 x resolution_m (Tobler); each pack may set its own factor"
        if source == "estimated"
        else "not measurable"
    )
    if coarser:
        profile.notes.append(
            f"declared scale 1:{profile.declared_scale_denominator:,.0f} is coarser than the data's "
            f"detail (about 1:{denominator:,.0f}); the finer scale counts"
        )
    return profile
