"""The leak rows of mapgate's findings table (``MAPGATE-LEAK-OVERVIEW`` and the others
below): data a file carries where its readers do not look (stale overviews, deleted rows
still in the file, records GDAL does not read, coordinates kept in the metadata of imagery
that cannot be placed, RPCs that place a placed image elsewhere). Their facts come from
``compliance.measure.leaks`` through the profile; docs/findings.md ("Leak checks")."""

from __future__ import annotations

from compliance.facts import Evidence
from compliance.rules.engine_finding import EngineFinding
from compliance.verdict import Effect

__all__ = ["LEAK_FINDINGS"]


def _shown(items: list[str], most: int) -> str:
    more = len(items) - most
    return "; ".join(items[:most]) + (f" and {more} more" if more > 0 else "")


def _deleted_message(e: Evidence) -> str:
    leaks = e.profile.leaks
    unplaced, pages = leaks.deleted_geometries_unplaced, leaks.free_pages_with_data
    parts = []
    if leaks.deleted_geometries:
        parts.append(
            f"{leaks.deleted_geometries} deleted geometries are still in the file"
            + (f" ({unplaced} of them cannot be placed)" if unplaced else "")
        )
    if pages:
        parts.append(f"{pages} free pages still hold bytes of deleted rows")
    # Nothing of the zones here: a submitter reads it, and the count that met a zone is a
    # zone fact (withheld from whoever has no clearance, as zones.* are).
    return (
        "; ".join(parts) + " (free pages and free space of an SQLite file, or shapes of "
        "records deleted from a shapefile's .dbf): anyone who reads the raw file recovers "
        "them, and their detail was not measured. VACUUM the GeoPackage or repack the "
        "shapefile"
    )


def _unindexed_message(e: Evidence) -> str:
    leaks = e.profile.leaks
    unplaced, damaged = leaks.unindexed_records_unplaced, leaks.unindexed_damaged
    parts = []
    if leaks.unindexed_records:
        parts.append(
            f"{leaks.unindexed_records} records are in the file that GDAL does not read "
            "(shapes a shapefile's .shx or .dbf leaves out, FlatGeobuf features past the "
            "count in its header)" + (f", {unplaced} of them cannot be placed" if unplaced else "")
        )
    if damaged:
        parts.append(
            "parts of the file could not be walked to its end or hold what no reader reads ("
            + _shown(damaged, 3)
            + ")"
        )
    # Nothing of the zones here, as for deleted features: that count is a zone fact.
    return (
        "; ".join(parts) + ": anyone who reads the raw file recovers them, and their detail "
        "was not measured. Write the file afresh (ogr2ogr) from the features it should hold"
    )


LEAK_FINDINGS: tuple[EngineFinding, ...] = (
    EngineFinding(
        "MAPGATE-LEAK-OVERVIEW",
        Effect.review,
        "Overviews show what the full resolution masks",
        lambda e: bool(e.profile.leaks.overview_pixels),
        lambda e: (
            f"{e.profile.leaks.overview_pixels} pixels of overviews or other images of the "
            "same ground are valid where every pixel of the level above them is masked ("
            + "; ".join(e.profile.leaks.overview_levels[:10])
            + "): what the full resolution masks is still shown zoomed out; rebuild the "
            "overviews from the masked image"
        ),
        lambda e: {
            "dataset.overview_leak_pixels": e.profile.leaks.overview_pixels,
            "overview_levels": e.profile.leaks.overview_levels[:100],
        },
    ),
    EngineFinding(
        "MAPGATE-LEAK-DELETED-FEATURES",
        Effect.review,
        "Deleted features are still in the file",
        lambda e: bool(e.profile.leaks.deleted_geometries or e.profile.leaks.free_pages_with_data),
        _deleted_message,
        lambda e: {
            "dataset.deleted_geometries": e.profile.leaks.deleted_geometries,
            "dataset.deleted_geometries_unplaced": e.profile.leaks.deleted_geometries_unplaced,
            "dataset.free_pages_with_data": e.profile.leaks.free_pages_with_data,
            "zones.deleted_geometries": e.profile.leaks.deleted_geometries_in_zones,
        },
    ),
    EngineFinding(
        "MAPGATE-LEAK-UNINDEXED-RECORDS",
        Effect.review,
        "Records the readers skip are still in the file",
        lambda e: bool(e.profile.leaks.unindexed_records or e.profile.leaks.unindexed_damaged),
        _unindexed_message,
        lambda e: {
            "dataset.unindexed_records": e.profile.leaks.unindexed_records,
            "dataset.unindexed_records_unplaced": e.profile.leaks.unindexed_records_unplaced,
            "unindexed_damaged": e.profile.leaks.unindexed_damaged[:100],
            "zones.unindexed_records": e.profile.leaks.unindexed_records_in_zones,
        },
    ),
    EngineFinding(
        "MAPGATE-LEAK-METADATA-COORDINATES",
        Effect.review,
        "The file keeps coordinates its placement does not show",
        lambda e: bool(e.profile.leaks.metadata_coordinates),
        lambda e: (
            "the file carries coordinates beside (or instead of) a placement mapgate checked ("
            + _shown(e.profile.leaks.metadata_coordinates, 5)
            + "): its location leaves with it; strip them (imagery: or georeference it) and "
            "check it again"
        ),
        lambda e: {"dataset.metadata_coordinates": e.profile.leaks.metadata_coordinates[:100]},
    ),
    EngineFinding(
        "MAPGATE-LEAK-UNCHECKED",
        Effect.review,
        "A leak check could not read what it looks at",
        lambda e: bool(e.profile.leaks.unchecked),
        lambda e: (
            "a leak check could not read what it looks at ("
            + "; ".join(e.profile.leaks.unchecked[:5])
            + "): what the file hides there is unknown"
        ),
        lambda e: {"unchecked": e.profile.leaks.unchecked[:100]},
    ),
)
