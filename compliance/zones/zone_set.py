"""The sensitive zones a checker overlaps data with: loaded from any OGR source, buffered on
the ground in lon/lat.

Zone ids and geometry are secret: they stay in the ``AreaSet``; what a verdict shows of them
is decided by ``OverlapAccumulator.summary`` and ``compliance.disclosure``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from compliance.errors import ZonesError
from compliance.geo.footprint import shapes_to_wgs84
from compliance.locations import default_zones
from compliance.zones.areas import AreaSet
from compliance.zones.layer_file import read_layer

__all__ = ["TOLERANCE_M", "ZoneSet"]

# Zones grow by this much beyond their buffer so that projection error and round-off can
# only add overlaps, never lose one that touches a boundary.
TOLERANCE_M = 0.5


def _number(value: Any) -> float:
    """A buffer distance; missing (null or NaN) means none."""
    if value is None:
        return 0.0
    number = float(value)
    return 0.0 if np.isnan(number) else number


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = (
        sorted(p for p in path.parent.iterdir() if p.stem == path.stem)
        if path.suffix == ".shp"
        else [path]
    )
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()


@dataclass
class ZoneSet:
    """The sensitive zones a checker overlaps data with, buffered on the ground in lon/lat."""

    source: str
    sha256: str | None
    areas: AreaSet

    @property
    def classes(self) -> list[str]:
        return self.areas.class_names

    @classmethod
    def load(cls, source: str | Path | None = None) -> ZoneSet:
        """Load zones from any OGR source with ``zone_id``, ``zone_class`` and optional ``buffer_m``.

        Raises
        ------
        ZonesError
            The source cannot be read, lacks the required fields, or has no CRS.
        """
        path = Path(source) if source is not None else default_zones()
        # Only the file name leaves the checker: a server path says nothing the caller needs.
        label = path.name
        layer = read_layer(path, lambda why: ZonesError(f"zones source {label}: {why}"))
        missing = {"zone_id", "zone_class"} - set(layer.columns)
        if missing:
            raise ZonesError(f"zones source {label}: missing field(s) {sorted(missing)}")
        if layer.crs is None:
            raise ZonesError(f"zones source {label}: has no CRS, so zones cannot be placed")
        keep = ~(shapely.is_missing(layer.geometries) | shapely.is_empty(layer.geometries))
        geoms = layer.geometries[keep]
        try:
            geoms = shapes_to_wgs84(geoms, layer.crs)
        except Exception as exc:  # pyproj raises several types for unusable CRSs
            raise ZonesError(f"zones source {label}: cannot be reprojected: {exc}") from exc
        unplaced = [i for i, g in enumerate(geoms) if g is None]
        if unplaced:
            first = layer.columns["zone_id"][np.flatnonzero(keep)[unplaced[0]]]
            raise ZonesError(
                f"zones source {label}: {len(unplaced)} zone(s) cannot be placed on the Earth "
                f"in the source's CRS (first: {first})"
            )
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            geoms[invalid] = shapely.make_valid(geoms[invalid])
        rows = np.flatnonzero(keep)
        try:
            buffers = np.array(
                [_number(layer.columns["buffer_m"][i]) for i in rows]
                if "buffer_m" in layer.columns
                else np.zeros(rows.size),
                dtype=float,
            )
        except (TypeError, ValueError) as exc:
            raise ZonesError(f"zones source {label}: buffer_m must be a number: {exc}") from exc
        if not np.isfinite(buffers).all() or (buffers < 0).any():
            raise ZonesError(
                f"zones source {label}: buffer_m must be a finite, non-negative number"
            )
        # Buffered on the ground when a file first comes near them: most zones never are.
        areas = AreaSet(
            [str(layer.columns["zone_id"][i]) for i in rows],
            [str(layer.columns["zone_class"][i]) for i in rows],
            geoms,
            buffers + TOLERANCE_M,
        )
        return cls(source=label, sha256=_sha256(path) if path.is_file() else None, areas=areas)
