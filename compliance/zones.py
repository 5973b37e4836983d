"""Sensitive zones: load, buffer on the ground, index in the data's CRS, accumulate overlaps.

Zone ids and geometry are secret; this module keeps them and the summary decides
what leaves it (``ZoneSummary.hits`` only when revealed).
"""

from __future__ import annotations

import hashlib
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from compliance.errors import ZonesError
from compliance.geodesy import (
    WGS84,
    area_km2,
    buffer_on_ground,
    geometry_from_wgs84,
    geometry_to_wgs84,
)
from compliance.verdict import ClassOverlap, ZoneHit, ZoneSummary

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
DEFAULT_ZONES = RULES_DIR / "zones" / "demo_zones.geojson"
# Zones grow by this much beyond their buffer so that reprojection round-off can only add
# overlaps, never lose one that touches a boundary.
TOLERANCE_M = 0.05
_DENSIFY_DEG = 0.01  # ~1 km: edges bend when reprojected, so add vertices first


@dataclass(frozen=True)
class Area:
    """A polygon on the ground (lon/lat, already buffered) with its label."""

    area_id: str
    area_class: str
    geometry: BaseGeometry


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
class AreaIndex:
    """Areas reprojected into one data CRS, in an STR-tree."""

    crs: CRS
    positions: np.ndarray  # index into the full area list
    geometries: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def build(cls, areas: list[Area], crs: CRS) -> AreaIndex:
        """Reproject the areas that can matter into ``crs``.

        Areas far outside the CRS's area of use are left out: data placed there in this CRS
        is flagged as a CRS mismatch anyway. The data's own declared extent is never used
        to pre-filter, because a stale or forged extent must not hide a zone.
        """
        chosen = list(range(len(areas)))
        aou = crs.area_of_use
        if aou is not None and not crs.is_geographic and aou.west <= aou.east:
            margin = 10.0
            region = shapely.box(
                aou.west - margin,
                max(aou.south - margin, -90),
                aou.east + margin,
                min(aou.north + margin, 90),
            )
            chosen = [i for i in chosen if areas[i].geometry.intersects(region)]
        kept: list[int] = []
        geoms = []
        for i in chosen:
            dense = shapely.segmentize(areas[i].geometry, _DENSIFY_DEG)
            local = geometry_from_wgs84(dense, crs)
            if not np.all(np.isfinite(shapely.get_coordinates(local))):
                continue  # outside the projection's domain: no data in this CRS can lie there
            if not local.is_valid:
                local = shapely.make_valid(local)
            kept.append(i)
            geoms.append(local)
        array = np.array(geoms, dtype=object)
        shapely.prepare(array)
        return cls(crs, np.array(kept, dtype=np.int64), array, shapely.STRtree(array))


def _overlap_km2(geom: BaseGeometry, area: BaseGeometry, crs: CRS) -> float:
    try:
        inter = shapely.intersection(geom, area)
    except shapely.errors.GEOSException:
        inter = shapely.intersection(shapely.make_valid(geom), area)
    return area_km2(geometry_to_wgs84(inter, crs))


@dataclass
class OverlapAccumulator:
    """Counts, per area, the features that touch it and their overlap area on the ground.

    One accumulator serves every layer of a dataset; each batch comes with the index
    built for its layer's CRS.
    """

    areas: list[Area]
    features_by_class: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    features_by_area: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    km2_by_area: dict[int, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, geoms: np.ndarray, index: AreaIndex, areas_too: bool = True) -> None:
        """Record a batch; ``areas_too=False`` skips the overlap areas when only hits matter."""
        if not index.positions.size or not geoms.size:
            return
        feat_idx, local_idx = index.tree.query(geoms, predicate="intersects")
        if feat_idx.size == 0:
            return
        area_idx = index.positions[local_idx]
        classes = np.array([self.areas[i].area_class for i in area_idx])
        for cls_name in np.unique(classes):
            self.features_by_class[str(cls_name)] += int(
                np.unique(feat_idx[classes == cls_name]).size
            )
        for f, loc, a in zip(feat_idx.tolist(), local_idx.tolist(), area_idx.tolist(), strict=True):
            self.features_by_area[a] += 1
            geom = geoms[f]
            if areas_too and shapely.get_dimensions(geom) == 2:
                self.km2_by_area[a] += _overlap_km2(geom, index.geometries[loc], index.crs)

    @property
    def touched(self) -> bool:
        return bool(self.features_by_area)

    def summary(
        self, source: str, sha256: str | None, all_classes: list[str], reveal: bool
    ) -> ZoneSummary:
        by_class = {c: ClassOverlap(zones=0, features=0, overlap_km2=0.0) for c in all_classes}
        hits: list[ZoneHit] = []
        for a, n in sorted(self.features_by_area.items()):
            area = self.areas[a]
            entry = by_class.setdefault(
                area.area_class, ClassOverlap(zones=0, features=0, overlap_km2=0.0)
            )
            entry.zones += 1
            entry.overlap_km2 += self.km2_by_area.get(a, 0.0)
            hits.append(
                ZoneHit(
                    zone_id=area.area_id,
                    zone_class=area.area_class,
                    features=n,
                    overlap_km2=round(self.km2_by_area.get(a, 0.0), 6),
                    geometry_wkt=area.geometry.wkt if reveal else None,
                )
            )
        for c, n in self.features_by_class.items():
            by_class[c].features = n
        for entry in by_class.values():
            entry.overlap_km2 = round(entry.overlap_km2, 6)
        return ZoneSummary(
            source=source,
            sha256=sha256,
            count=len(hits),
            classes=sorted(c for c, e in by_class.items() if e.zones),
            by_class=by_class,
            revealed=reveal,
            hits=hits if reveal else None,
        )


@dataclass
class ZoneSet:
    """The sensitive zones a checker overlaps data with, buffered on the ground in lon/lat."""

    source: str
    sha256: str | None
    areas: list[Area]

    @property
    def classes(self) -> list[str]:
        return sorted({a.area_class for a in self.areas})

    @classmethod
    def load(cls, source: str | Path | None = None) -> ZoneSet:
        """Load zones from any OGR source with ``zone_id``, ``zone_class`` and optional ``buffer_m``.

        Raises
        ------
        ZonesError
            The source cannot be read, lacks the required fields, or has no CRS.
        """
        path = Path(source) if source is not None else DEFAULT_ZONES
        label = path.name if source is None else str(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = pyogrio.read_dataframe(path)
        except Exception as exc:  # pyogrio raises several unrelated types for bad sources
            raise ZonesError(f"zones source {label}: cannot be read: {exc}") from exc
        missing = {"zone_id", "zone_class"} - set(frame.columns)
        if missing:
            raise ZonesError(f"zones source {label}: missing field(s) {sorted(missing)}")
        if frame.crs is None:
            raise ZonesError(f"zones source {label}: has no CRS, so zones cannot be placed")
        frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
        crs = CRS.from_user_input(frame.crs)
        buffers = frame["buffer_m"].fillna(0).astype(float) if "buffer_m" in frame.columns else None
        areas: list[Area] = []
        for i, row in enumerate(frame.itertuples(index=False)):
            geom = shapely.make_valid(
                geometry_to_wgs84(row.geometry, crs) if not crs.equals(WGS84) else row.geometry
            )
            metres = (float(buffers.iloc[i]) if buffers is not None else 0.0) + TOLERANCE_M
            areas.append(
                Area(str(row.zone_id), str(row.zone_class), buffer_on_ground(geom, metres))
            )
        return cls(source=label, sha256=_sha256(path) if path.is_file() else None, areas=areas)
