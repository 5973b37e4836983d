"""One pass over a raster: every image of the file and every placement its sidecars give,
placed, met with the zones and territories, and measured from the header the readers
described (no pixel is read)."""

from __future__ import annotations

import shapely

from compliance.dataset_profile import Profile
from compliance.measure.declared_scale import declared_scale
from compliance.measure.inspection import Inspection
from compliance.measure.leaks import find_leaks
from compliance.measure.placement import PlacedImage, crs_label, place_image
from compliance.measure.profile_finish import finish_profile
from compliance.measure.raster_profile import looks_like_elevation, may_hold_heights
from compliance.readers.sources import RasterSource
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.territory import Territory
from compliance.zones.zone_set import ZoneSet

__all__ = ["inspect_raster"]


def inspect_raster(src: RasterSource, zones: ZoneSet, territories: list[Territory]) -> Inspection:
    """Profile a raster and find the zones and territories its images' outlines meet."""
    acc = OverlapAccumulator(zones.areas)
    hits = {t.pack: OverlapAccumulator(t.areas) for t in territories}
    notes: list[str] = []
    off_aou: list[str] = []
    # A container with no image of its own (a netCDF of several variables) is its images.
    images = ([src] if src.count or not src.other_images else []) + src.other_images
    notes += _sidecar_notes(src)
    placements = [p for i in images for p in i.placements]
    placed = [
        place_image(i, acc, hits, zones, territories, notes, off_aou) for i in images + placements
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
    levels = _finer_levels(images + placements, placed, finest)
    notes += [
        f"{where}an overview level of {w} x {h} px is finer than the image itself "
        f"({i.width} x {i.height} px): GDAL serves it over the same ground, so its pixels count"
        for i, where, (w, h) in levels
    ]
    union = shapely.union_all(footprints) if footprints else None
    shown = images[0] if images else src
    heights = any(looks_like_elevation(i) for i in images)
    profile = finish_profile(
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
            declared_scale_denominator=declared_scale(
                [src.tags] + [i.tags for i in src.other_images]
            ),
            band_count=shown.count,
            has_z=heights,
            elevation_unsure=not heights and any(may_hold_heights(i) for i in images),
            width=shown.width,
            height=shown.height,
            overviews=shown.overviews,
            methods=_methods(src, finest, coarsest, len(images), bool(placements), bool(levels)),
            notes=notes,
            unread_tables=list(src.unread_tables),
        ),
        union,
        "pixel-grid outline (densified edges) projected to WGS84",
    )
    profile.leaks = find_leaks(src, zones, acc)
    return Inspection(profile, located, acc, hits, union, off_aou)


def _finer_levels(
    images: list[RasterSource], placed: list[PlacedImage], finest: float | None
) -> list[tuple[RasterSource, str, tuple[int, int]]]:
    """Each image whose finest pixels, the file's finest, are an overview level's: the
    image, how a note names it, and the level's size."""
    return [
        (image, f"image {image.label}: " if image.label else "", p.finer_level)
        for image, p in zip(images, placed, strict=True)
        if p.finer_level is not None and p.sizes is not None and p.sizes[0] == finest
    ]


def _methods(
    src: RasterSource,
    finest: float | None,
    coarsest: float | None,
    image_count: int,
    other_placements: bool,
    overview_counted: bool,
) -> dict[str, str]:
    """How the raster's resolution and georeferencing were found, in words."""
    uneven = src.axis_centres is not None
    return {
        "resolution_m": (
            "shortest geodesic distance between neighbouring pixel centres (the reduced "
            "pixel lattice), sampled over the whole extent, far edges included, and refined "
            f"where finest (coarsest {coarsest:.4g} m)"
            + (", over every image in the file" if image_count > 1 else "")
            + (", over every placement its header and sidecars give" if other_placements else "")
            + (
                ", and over each overview level that may be finer than its image (a level of "
                "w x h px over an image of W x H px: the image's pixel-to-CRS mapping scaled "
                "by W/w and H/h); the finest is an overview level's, finer than the image itself"
                if overview_counted
                else ""
            )
            + (", through the GCPs (thin-plate spline)" if src.gcps else "")
            + (", each pixel where the file's uneven coordinate arrays put it" if uneven else "")
            if finest is not None and coarsest is not None
            else "not measurable: "
            + (
                "its coordinate arrays are no grid or cannot be read"
                if uneven
                else "no CRS or geotransform"
            )
        ),
        "georeferencing": src.transform_source,
    }


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
