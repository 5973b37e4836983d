"""Sensitive zones: load, buffer on the ground, index in the data's CRS, accumulate overlaps.

Zone ids and geometry are secret; this module keeps them and the summary decides
what leaves it (``ZoneSummary.hits`` only when revealed).
"""

from __future__ import annotations

import hashlib
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from compliance.errors import ZonesError
from compliance.geo.footprint import shapes_to_wgs84
from compliance.geo.geodesy import WGS84, ground_areas_km2, to_crs_many
from compliance.locations import default_zones
from compliance.verdict import ClassOverlap, ZoneHit, ZoneSummary
from compliance.zones.areas import TURNS, AreaSet
from compliance.zones.drawing import drawn_faithfully, lonlat_copies

# Zones grow by this much beyond their buffer so that projection error and round-off can
# only add overlaps, never lose one that touches a boundary.
TOLERANCE_M = 0.5
_DENSIFY_DEG = 0.005  # ~500 m: edges bend when reprojected (under 1 cm), so add vertices first


@dataclass
class Layer:
    """A small polygon layer (zones, a territory), read whole: its attribute columns as
    Python values, its geometries (None where missing) and its CRS."""

    columns: dict[str, list[Any]]
    geometries: np.ndarray
    crs: CRS | None


def read_layer(path: Path, error: Callable[[str], Exception]) -> Layer:
    """Read a small polygon layer through Arrow: a fraction of a data frame's cost."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta, table = pyogrio.read_arrow(path)
        column = meta.get("geometry_name") or "wkb_geometry"
        wkb = np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=object)
        geometries = shapely.from_wkb(wkb)
        crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    except Exception as exc:  # pyogrio, shapely and pyproj raise several unrelated types
        raise error(f"cannot be read: {exc}") from exc
    columns = {
        name: table.column(name).to_pylist() for name in table.column_names if name != column
    }
    return Layer(columns, np.asarray(geometries, dtype=object), crs)


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
class AreaIndex:
    """Areas reprojected into one data CRS, in an STR-tree."""

    crs: CRS
    positions: np.ndarray  # index into the full area list
    geometries: np.ndarray
    tree: shapely.STRtree
    # Prepared copies of ``geometries`` not in use; ``geometries`` itself is the first.
    _idle: list[np.ndarray] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._idle.append(self.geometries)

    @contextmanager
    def prepared(self) -> Iterator[np.ndarray]:
        """The geometries, prepared, for the caller alone until it is done with them.

        GEOS prepared geometries are not thread-safe (libgeos/geos#825) and shapely tests
        them without the GIL, so two checks sharing an index at once crashed the process.
        Each concurrent user gets its own prepared copy; copies are kept for reuse, so
        there are never more than checks ever ran at once on this index.
        """
        try:
            geoms = self._idle.pop()  # list.pop and append are atomic under the GIL
        except IndexError:
            geoms = shapely.from_wkb(shapely.to_wkb(self.geometries))
            shapely.prepare(geoms)
        try:
            yield geoms
        finally:
            self._idle.append(geoms)

    # Areas that cannot be drawn faithfully in ``crs`` (outside the projection's domain, or
    # not coming back to where they were): the features are carried to lon/lat and tested
    # against these there instead, so that no area near the data is ever left out.
    far_positions: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    far_geometries: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    far_tree: shapely.STRtree | None = None

    @classmethod
    def build(
        cls,
        areas: AreaSet,
        crs: CRS,
        positions: np.ndarray | None = None,
        region: tuple[float, float, float, float] | None = None,
    ) -> AreaIndex:
        """Reproject the areas at ``positions`` (default all) into ``crs``.

        Which areas can meet the data is decided by the caller from the coordinates read,
        never from the data's declared extent (a stale or forged extent must not hide a
        zone) nor from the CRS's area of use (data may lie far past it). An area that
        cannot be drawn in ``crs`` is kept in lon/lat (``far_positions``).
        """
        picked = np.arange(len(areas)) if positions is None else np.asarray(positions, np.int64)
        source = areas.grown(picked) if picked.size else np.empty(0, dtype=object)
        if crs.is_geographic and source.size:
            # Lon/lat data may run past ±180° (a polygon written 170..190 across the antimeridian):
            # add an area a turn east or west where it then reaches the data's lon/lat
            # ``region`` (everywhere when none is known), so such data still meets it. Copies
            # nowhere near the data would stretch the cell grid over two turns and clear nothing.
            copies, owners = [source], [picked]
            for shift in TURNS[1:]:
                near = (
                    np.ones(picked.size, bool)
                    if region is None
                    else areas.meets(region, shift)[picked]
                )
                copies.append(shapely.transform(source[near], lambda xy, d=shift: xy + [d, 0.0]))
                owners.append(picked[near])
            source, picked = np.concatenate(copies), np.concatenate(owners)
        if source.size and not crs.equals(WGS84):
            dense = shapely.segmentize(source, _DENSIFY_DEG)
            local = to_crs_many(dense, crs)
            placed = drawn_faithfully(dense, local, crs)
        else:
            # Not reprojected, so no edge bends: densifying would only add vertices to test.
            local = np.array(source, dtype=object)
            placed = np.ones(local.size, dtype=bool)
        far = np.unique(picked[~placed])
        local, picked = local[placed], picked[placed]
        invalid = ~shapely.is_valid(local)
        if invalid.any():
            local[invalid] = shapely.make_valid(local[invalid])
        shapely.prepare(local)
        index = cls(crs, picked.astype(np.int64), local, shapely.STRtree(local))
        if far.size:
            index.far_positions, index.far_geometries = lonlat_copies(areas, far)
            index.far_tree = shapely.STRtree(index.far_geometries)
        return index


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
    _features: np.ndarray = field(init=False)
    _km2: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self._features = np.zeros(len(self.areas), dtype=np.int64)
        self._km2 = np.zeros(len(self.areas))

    @property
    def features_by_area(self) -> dict[int, int]:
        return {int(i): int(self._features[i]) for i in np.flatnonzero(self._features)}

    @property
    def km2_by_area(self) -> dict[int, float]:
        return {int(i): float(self._km2[i]) for i in np.flatnonzero(self._features)}

    def add(self, geoms: np.ndarray, index: AreaIndex, areas_too: bool = True) -> None:
        """Record a batch; ``areas_too=False`` skips the overlap areas when only hits matter."""
        if not geoms.size:
            return
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
        pairs = np.unique(feat_idx * n_classes + self.areas.class_codes[area_idx])
        per_class = np.bincount(pairs % n_classes, minlength=n_classes)
        for code in np.flatnonzero(per_class):
            self.features_by_class[self.areas.class_names[code]] += int(per_class[code])
        np.add.at(self._features, area_idx, 1)
        if km2 is not None:
            np.add.at(self._km2, area_idx, km2)

    forced_touch: bool = False

    def mark_touched(self) -> None:
        """Record a hit found without exact geometry (a feature box wholly inside an area)."""
        self.forced_touch = True

    @property
    def touched(self) -> bool:
        return self.forced_touch or bool(self._features.any())

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
