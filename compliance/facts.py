"""The facts a rule's ``when`` may read, and the CEL context built from a check's results.

This registry is the contract between the measuring stages and the rule packs: a pack
that reads a fact not listed here fails validation when it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.dataset_profile import (
    DEFAULT_DETAIL_COUNT,
    DEFAULT_DETAIL_SHARE,
    DEFAULT_SCALE_FACTOR,
    Profile,
    detail_unknown,
    resolution_for,
    settle_scale,
)
from compliance.verdict import ZoneSummary

__all__ = ["FACTS", "ROOTS", "Evidence", "dataset_facts", "sample_context", "zone_facts"]

# name -> (CEL type, description). Measured facts are null when they cannot be measured.
FACTS: dict[str, tuple[str, str]] = {
    "dataset.kind": ("string", '"raster" or "vector"'),
    "dataset.format": ("string", "GDAL driver short name"),
    "dataset.crs": ("string|null", '"EPSG:n" or WKT'),
    "dataset.has_crs": ("bool", "the dataset declares a CRS"),
    "dataset.georeferenced": ("bool", "the data can be placed on the Earth"),
    "dataset.area_km2": ("double|null", "geodesic area of the footprint, km²"),
    "dataset.resolution_m": ("double|null", "ground size of the finest detail, metres"),
    "dataset.has_imagery": (
        "bool",
        "a raster, or vector data carrying imagery (raster tables, images draped over the ground)",
    ),
    "dataset.imagery_resolution_m": (
        "double|null",
        "ground size of the finest pixel of the imagery the dataset is or carries, metres",
    ),
    "dataset.scale_denominator": ("double|null", "declared or estimated scale denominator"),
    "dataset.scale_source": ("string|null", '"declared" or "estimated"'),
    "dataset.declared_scale_denominator": ("double|null", "scale found in the metadata"),
    "dataset.feature_count": ("int|null", "features over all layers (vector)"),
    "dataset.layer_count": ("int|null", "layers (vector)"),
    "dataset.band_count": ("int|null", "bands (raster)"),
    "dataset.has_z": (
        "bool",
        "3-D coordinates (Z, or M: heights too; a format's own height field such as "
        "GPX's ele; a field named as heights, such as ELEVATION, holding numbers; a layer "
        "named as heights, such as contours) or an elevation raster",
    ),
    "dataset.fields": ("list(string)", "attribute names over all layers"),
    "dataset.layers": ("list(string)", "layer and table names (vector)"),
    "dataset.width": ("int|null", "raster width, pixels"),
    "dataset.height": ("int|null", "raster height, pixels"),
    "dataset.overview_count": ("int", "raster overview levels"),
    "dataset.bounds_wgs84": ("list(double)|null", "[min lon, min lat, max lon, max lat]"),
    "dataset.overview_leak_pixels": (
        "int",
        "pixels of overviews and other images valid where the level above them is all masked",
    ),
    "dataset.deleted_geometries": (
        "int",
        "deleted geometries still in the file (SQLite free space, shapes of deleted .dbf records)",
    ),
    "dataset.deleted_geometries_unplaced": ("int", "of those, the ones that cannot be placed"),
    "dataset.free_pages_with_data": (
        "int",
        "SQLite free pages still holding bytes of deleted rows (not rebuilt into geometries)",
    ),
    "dataset.metadata_coordinates": (
        "list(string)",
        "positions carried by imagery that cannot be placed (sidecars, EXIF, XMP, metadata)",
    ),
    "zones.count": (
        "int|null",
        "distinct sensitive zones overlapped; null when the location is unknown",
    ),
    "zones.classes": ("list(string)|null", "classes of the zones overlapped"),
    "zones.by_class": (
        "map(string, {zones, features, overlap_km2})|null",
        "overlap per zone class",
    ),
    "territory.fraction": ("double|null", "share of the footprint inside the pack's territory"),
    "territory.touches": ("bool|null", "the data touches the pack's territory"),
    "request.destination": ("string|null", "ISO country code the data is going to"),
    "request.purpose": ("string|null", "declared purpose of the export"),
}
ROOTS = frozenset(name.split(".")[0] for name in FACTS)


def dataset_facts(
    profile: Profile,
    scale_factor: float = DEFAULT_SCALE_FACTOR,
    detail_share: float = DEFAULT_DETAIL_SHARE,
    detail_count: int = DEFAULT_DETAIL_COUNT,
) -> dict[str, Any]:
    """``dataset.*`` for one pack: the resolution is re-measured at the pack's own detail
    share and count, and the scale re-estimated with its own conversion."""
    resolution = (
        resolution_for(profile, detail_share, detail_count)
        if profile.kind == "vector"
        else profile.resolution_m
    )
    denominator, source, _ = settle_scale(
        resolution,
        profile.declared_scale_denominator,
        scale_factor,
        detail_unknown=detail_unknown(profile),
    )
    return {
        "kind": profile.kind,
        "format": profile.format,
        "crs": profile.crs,
        "has_crs": profile.has_crs,
        "georeferenced": profile.georeferenced,
        "area_km2": profile.area_km2,
        "resolution_m": resolution,
        "has_imagery": profile.has_imagery,
        "imagery_resolution_m": profile.imagery_resolution_m,
        "scale_denominator": denominator,
        "scale_source": source,
        "declared_scale_denominator": profile.declared_scale_denominator,
        "feature_count": profile.feature_count,
        "layer_count": profile.layer_count,
        "band_count": profile.band_count,
        "has_z": profile.has_z,
        "fields": list(profile.fields),
        "layers": [layer.name for layer in profile.layers if layer.geometry_type != "Raster"],
        "width": profile.width,
        "height": profile.height,
        "overview_count": len(profile.overviews),
        "bounds_wgs84": profile.bounds_wgs84,
        "overview_leak_pixels": profile.leaks.overview_pixels,
        "deleted_geometries": profile.leaks.deleted_geometries,
        "deleted_geometries_unplaced": profile.leaks.deleted_geometries_unplaced,
        "free_pages_with_data": profile.leaks.free_pages_with_data,
        "metadata_coordinates": list(profile.leaks.metadata_coordinates),
    }


def zone_facts(summary: ZoneSummary, located: bool) -> dict[str, Any]:
    if not located:
        return {"count": None, "classes": None, "by_class": None}
    return {
        "count": summary.count,
        "classes": list(summary.classes),
        "by_class": {k: v.model_dump() for k, v in summary.by_class.items()},
    }


def sample_context() -> dict[str, Any]:
    """A fully populated context, used to type-check expressions when a pack is loaded."""
    return {
        "dataset": {
            "kind": "vector",
            "format": "GPKG",
            "crs": "EPSG:5186",
            "has_crs": True,
            "georeferenced": True,
            "area_km2": 12.5,
            "resolution_m": 2.5,
            "has_imagery": False,
            "imagery_resolution_m": 0.5,
            "scale_denominator": 5000.0,
            "scale_source": "estimated",
            "declared_scale_denominator": 5000.0,
            "feature_count": 10,
            "layer_count": 1,
            "band_count": 3,
            "has_z": False,
            "fields": ["name"],
            "layers": ["buildings"],
            "width": 100,
            "height": 100,
            "overview_count": 0,
            "bounds_wgs84": [126.9, 37.5, 127.0, 37.6],
            "overview_leak_pixels": 0,
            "deleted_geometries": 0,
            "deleted_geometries_unplaced": 0,
            "free_pages_with_data": 0,
            "metadata_coordinates": ["EXIF GPS position 37.5N 127.0E"],
        },
        "zones": {
            "count": 1,
            "classes": ["military"],
            "by_class": {"military": {"zones": 1, "features": 2, "overlap_km2": 0.5}},
        },
        "territory": {"fraction": 1.0, "touches": True},
        "request": {"destination": "US", "purpose": "navigation"},
    }


@dataclass(frozen=True)
class Evidence:
    """What mapgate's own ``MAPGATE-*`` findings read: the Profile, plus what the measuring
    and pack-coverage stages established about it that the Profile does not carry.

    ``checker`` builds it from the measurement; the rules stage never sees the measuring
    stage's working objects.
    """

    profile: Profile
    # Whether the data could be placed on the Earth (a CRS, georeferencing, finite coordinates).
    located: bool
    # Layers and images whose coordinates do not fit their CRS tag, each with why.
    crs_mismatches: tuple[str, ...] = ()
    # Files an archive or folder holds besides the dataset checked (paths inside it).
    unchecked_files: tuple[str, ...] = ()
    # Built-in packs whose territory holds data that no selected pack covers.
    packs_not_applied: tuple[str, ...] = ()
    # Where the raster may hold heights (``Profile.elevation_unsure``) and the verdict would
    # change if it did: the rules that would then fire, each as "pack:rule (effect)".
    rules_if_heights: tuple[str, ...] = ()
