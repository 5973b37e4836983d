"""Overlap of features with areas: which areas each batch touches, and by how much ground.

Zone ids and geometry are secret; the summary decides what leaves here
(``ZoneSummary.hits`` only when revealed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS

from compliance.arrays import distinct
from compliance.geo.crs_identity import WGS84
from compliance.geo.drawn_shapes import as_drawn
from compliance.geo.footprint import shapes_to_wgs84
from compliance.geo.geodesy import ground_areas_km2
from compliance.verdict import ClassOverlap, ZoneHit, ZoneSummary
from compliance.zones.area_index import AreaIndex
from compliance.zones.areas import AreaSet

__all__ = ["OverlapAccumulator"]


def _intersections(features: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Pairwise intersections; invalid features (self-intersections...) are repaired first."""
    try:
        return shapely.intersection(features, areas)
    except shapely.errors.GEOSException:
        return shapely.intersection(shapely.make_valid(features), areas)


@dataclass
class OverlapAccumulator:
    """Counts, per area, the features that touch it and their overlap area on the ground.

    One accumulator serves every layer of a dataset; each batch comes with the index
    built for its layer's CRS.
    """

    areas: AreaSet
    features_by_class: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Only the areas met: the territories' tiles are hundreds of thousands, and zeroing
    # arrays of them cost more than a small file's whole overlap.
    _features: dict[int, int] = field(default_factory=dict)
    _km2: dict[int, float] = field(default_factory=dict)

    @property
    def features_by_area(self) -> dict[int, int]:
        return {i: self._features[i] for i in sorted(self._features)}

    @property
    def km2_by_area(self) -> dict[int, float]:
        return {i: self._km2.get(i, 0.0) for i in sorted(self._features)}

    def add(
        self, geoms: np.ndarray, index: AreaIndex, areas_too: bool = True, drawn: bool = False
    ) -> None:
        """Record a batch; ``areas_too=False`` skips the overlap areas when only hits matter.
        Invalid geometries are tested as drawn (``compliance.geo.drawn_shapes``), unless
        the caller says it has already done so (``drawn``)."""
        if not geoms.size:
            return
        if not drawn:
            geoms = as_drawn(geoms)
        if index.far_positions.size:
            self._add_far(geoms, index, areas_too)
        if not index.positions.size:
            return
        # Boxes from the tree, then the exact test with the area as the prepared side: areas
        # are few and often detailed, features many and usually simple.
        feat_idx, local_idx = index.tree.query(geoms)
        if feat_idx.size == 0:
            return
        with index.prepared() as areas:
            hit = shapely.intersects(areas[local_idx], geoms[feat_idx])
            feat_idx, local_idx = feat_idx[hit], local_idx[hit]
            if feat_idx.size == 0:
                return
            area_idx = index.positions[local_idx]
            km2 = None
            if areas_too:
                km2 = self._overlap_km2(geoms[feat_idx], areas[local_idx], index.crs)
            self._record(feat_idx, area_idx, km2)

    def _add_far(self, geoms: np.ndarray, index: AreaIndex, areas_too: bool) -> None:
        """Test features against the areas that could not be drawn in their CRS, in lon/lat."""
        lonlat = shapes_to_wgs84(geoms, index.crs)
        # A feature that cannot be carried to lon/lat is nowhere these areas are.
        placed = np.flatnonzero([g is not None for g in lonlat])
        if not placed.size or index.far_tree is None:
            return
        lonlat = np.array(list(lonlat[placed]), dtype=object)
        feat, local = index.far_tree.query(lonlat)
        hit = shapely.intersects(index.far_geometries[local], lonlat[feat])
        feat, local = feat[hit], local[hit]
        if not feat.size:
            return
        km2 = None
        if areas_too:
            km2 = self._overlap_km2(lonlat[feat], index.far_geometries[local], WGS84)
        self._record(placed[feat], index.far_positions[local], km2)

    @staticmethod
    def _overlap_km2(feats: np.ndarray, zones: np.ndarray, crs: CRS) -> np.ndarray:
        """Ground area each polygonal feature shares with its zone (0 for points, lines)."""
        km2 = np.zeros(feats.size)
        polygonal = shapely.get_dimensions(feats) == 2
        if polygonal.any():
            feats, zones = feats[polygonal], zones[polygonal]
            # A feature wholly inside its zone overlaps by itself: skip the intersection.
            inside = shapely.contains_properly(zones, feats)
            pieces = feats.copy()
            if (~inside).any():
                pieces[~inside] = _intersections(feats[~inside], zones[~inside])
            km2[polygonal] = ground_areas_km2(pieces, crs)
        return km2

    def _record(self, feat_idx: np.ndarray, area_idx: np.ndarray, km2: np.ndarray | None) -> None:
        # Features per class, each counted once however many areas of the class it meets
        # (once among the areas drawn in its CRS, once among those tested in lon/lat).
        n_classes = len(self.areas.class_names)
        pairs = distinct(feat_idx * n_classes + self.areas.class_codes[area_idx])
        per_class = np.bincount(pairs % n_classes, minlength=n_classes)
        for code in np.flatnonzero(per_class):
            self.features_by_class[self.areas.class_names[code]] += int(per_class[code])
        met, where, counts = np.unique(area_idx, return_inverse=True, return_counts=True)
        for a, n in zip(met.tolist(), counts.tolist(), strict=True):
            self._features[a] = self._features.get(a, 0) + n
        if km2 is not None:
            # Summed in the batch's order onto each area's total so far, as one dense array
            # would be: the same additions, the same rounding.
            totals = np.array([self._km2.get(a, 0.0) for a in met.tolist()])
            np.add.at(totals, where, km2)
            self._km2.update(zip(met.tolist(), totals.tolist(), strict=True))

    forced_touch: bool = False

    def mark_touched(self) -> None:
        """Record a hit found without exact geometry (a feature box wholly inside an area)."""
        self.forced_touch = True

    @property
    def touched(self) -> bool:
        return self.forced_touch or bool(self._features)

    def summary(
        self, source: str, sha256: str | None, all_classes: list[str], reveal: bool
    ) -> ZoneSummary:
        by_class = {c: ClassOverlap(zones=0, features=0, overlap_km2=0.0) for c in all_classes}
        hits: list[ZoneHit] = []
        km2 = self.km2_by_area
        for a, n in sorted(self.features_by_area.items()):
            area_class = str(self.areas.classes[a])
            entry = by_class.setdefault(
                area_class, ClassOverlap(zones=0, features=0, overlap_km2=0.0)
            )
            entry.zones += 1
            entry.overlap_km2 += km2.get(a, 0.0)
            hits.append(
                ZoneHit(
                    zone_id=self.areas.ids[a],
                    zone_class=area_class,
                    features=n,
                    overlap_km2=round(km2.get(a, 0.0), 6),
                    geometry_wkt=self.areas.grown(np.array([a]))[0].wkt if reveal else None,
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
