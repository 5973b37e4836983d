"""One pass over a vector source: its layers streamed batch by batch through every
consumer (so a large file is read once and never held whole), the images it drapes
measured from what the readers found, and the dataset's profile assembled."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from compliance.dataset_profile import ImageOverlay, Profile
from compliance.geo.crs_identity import WGS84
from compliance.measure.declared_scale import declared_scale
from compliance.measure.inspection import Inspection
from compliance.measure.kml_overlays import measure_overlay, overlay_files
from compliance.measure.leaks import find_leaks, walk_free_space
from compliance.measure.placement import meet_areas
from compliance.measure.profile_finish import finish_profile
from compliance.measure.vector_layers import VectorTally, scan_layers
from compliance.measure.vector_profile import dataset_detail, describe
from compliance.readers.driver_fields import own_fields
from compliance.readers.sources import NO_GEOMETRY, VectorSource
from compliance.zones.territory import Territory
from compliance.zones.zone_set import ZoneSet

__all__ = ["inspect_vector"]


def inspect_vector(
    src: VectorSource, zones: ZoneSet, territories: list[Territory], read_ahead: bool = True
) -> Inspection:
    """Profile a vector source and find the zones and territories its features meet."""
    free_space = walk_free_space(src) if read_ahead else None
    tally = scan_layers(src, zones, territories, read_ahead)
    overlays = _draped_overlays(src, tally, zones, territories)
    if not tally.footprints:
        tally.located = False
    union = shapely.union_all(tally.footprints) if tally.footprints else None
    profile = _vector_profile(src, tally, overlays, union)
    profile.leaks = find_leaks(src, zones, tally.acc, free_space)
    inspection = Inspection(profile, tally.located, tally.acc, tally.hits, union, tally.off_aou)
    inspection.files_read = overlay_files(src.draped_images, overlays)
    inspection.unchecked_files = list(src.unreferenced_members)
    return inspection


def _draped_overlays(
    src: VectorSource, tally: VectorTally, zones: ZoneSet, territories: list[Territory]
) -> list[ImageOverlay]:
    """The images a KML drapes, measured; a turned overlay's reach is met and placed too."""
    overlays = [measure_overlay(d) for d in src.draped_images]
    document = src.kml_document
    if document is not None and document.rotated_overlays:
        # LIBKML gave each turned overlay as its unturned box: its corners reach further.
        reach = np.array(document.rotated_overlays, dtype=object)
        meet_areas(reach, WGS84, tally.acc, tally.hits, zones, territories, areas_too=False)
        tally.footprints += list(reach)
        tally.notes.append(
            f"{len(reach)} ground overlays are turned: each is also checked as a box that "
            "holds it turned"
        )
    if document is None:
        for overlay in overlays:
            # Its rotation could not be read: the ground it covers is not known.
            overlay.unmeasured = overlay.unmeasured or "its document could not be read through"
    # An image draped over the ground shows detail down to its pixels.
    tally.imagery += [o.resolution_m for o in overlays if o.resolution_m is not None]
    return overlays


def _vector_profile(
    src: VectorSource,
    tally: VectorTally,
    overlays: list[ImageOverlay],
    union: BaseGeometry | None,
) -> Profile:
    layers = tally.layers
    crs_names = sorted({c for la in layers if (c := la.crs)})
    spatial = [la for la in src.layers if la.geometry_type != NO_GEOMETRY]
    # The catalogue a GeoPackage keeps beside its layers is no layer of the data's.
    own = [la for la in src.layers if not (la.catalogue and la.unlisted)]
    profile = finish_profile(
        Profile(
            kind="vector",
            format=src.driver,
            crs=crs_names[0]
            if len(crs_names) == 1
            else ("mixed: " + ", ".join(crs_names) if crs_names else None),
            has_crs=bool(spatial) and all(la.crs is not None for la in spatial),
            georeferenced=tally.located,
            bounds_wgs84=None,
            area_km2=None,
            resolution_m=None,
            detail=dataset_detail(tally.details),
            scale_denominator=None,
            scale_source=None,
            declared_scale_denominator=declared_scale(
                [src.metadata] + [la.metadata for la in src.layers], src.metadata_documents
            ),
            feature_count=tally.features,
            layer_count=len(own),
            has_z=tally.has_z,
            elevation_unsure=tally.elevation_unsure and not tally.has_z,
            fields=sorted({f for la in own for f in own_fields(src.driver, la.fields)}),
            layers=layers,
            empty_geometries=max(tally.empty, 0),
            invalid_geometries=tally.invalid,
            undecodable_geometries=tally.undecodable,
            unplaceable_geometries=tally.unplaceable,
            unread_tables=list(src.unread_tables),
            unread_geometries=list(src.unread_geometries) + tally.unread_geometries,
            image_overlays=overlays,
            has_imagery=bool(src.rasters or overlays),
            imagery_resolution_m=min(tally.imagery, default=None),
            methods=tally.methods,
            notes=tally.notes,
        ),
        union,
        "extent of each layer's coordinates (bounding box in its CRS, densified, projected to WGS84)",
    )
    _explain(profile, tally, overlays)
    return profile


def _explain(profile: Profile, tally: VectorTally, overlays: list[ImageOverlay]) -> None:
    """How the dataset's invalid geometries and resolution were found, in words."""
    layers = tally.layers
    profile.methods["invalid_geometries"] = (
        "GEOS validity of the features decoded: those tested exactly against a zone or "
        "territory, and those in forms other than points, lines and single-ring polygons"
    )
    profile.methods["resolution_m"] = (
        "the layers' lines and rings pooled: the detail reached by 1% of them or 100, "
        "whichever is fewer, or the finer one reached by as many of all their segments, "
        "and the finest imagery"
        if len(layers) > 1
        else tally.methods.get(f"resolution_m[{layers[0].name}]", "not measurable")
        if layers
        else "not measurable: no layers"
    )
    if profile.detail is not None and profile.detail.points_unmeasured:
        profile.methods["resolution_m"] = describe(profile.detail, None)
    if any(o.resolution_m is not None for o in overlays):
        profile.methods["resolution_m"] += (
            " and the ground size of the pixels of the images draped over the ground "
            "(each overlay's edges, geodesic, over its image's width and height)"
        )
