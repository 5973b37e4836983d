"""What one pass over a dataset hands on: its profile, and where it met the zones and
the packs' territories. The pass itself is ``vector_inspection`` or ``raster_inspection``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from compliance.dataset_profile import Profile
from compliance.zones.overlap import OverlapAccumulator

__all__ = ["Inspection"]


@dataclass
class Inspection:
    """A dataset's profile, its footprint, and the overlaps its one pass found."""

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
