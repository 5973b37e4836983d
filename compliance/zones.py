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

from compliance.areas import TURNS, AreaSet
from compliance.errors import ZonesError
from compliance.footprint import shapes_to_wgs84
from compliance.geodesy import WGS84, ground_areas_km2, to_crs_many
from compliance.locations import default_zones
from compliance.verdict import ClassOverlap, ZoneHit, ZoneSummary

# Zones grow by this much beyond their buffer so that projection error and round-off can
# only add overlaps, never lose one that touches a boundary.
TOLERANCE_M = 0.5
_DENSIFY_DEG = 0.01  # ~1 km: edges bend when reprojected, so add vertices first


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

    @classmethod
    def build(
        cls,
        areas: AreaSet,
        crs: CRS,
        positions: np.ndarray | None = None,
        region: tuple[float, float, float, float] | None = None,
    ) -> AreaIndex:
        """Reproject the areas at ``positions`` (default all) that can matter into ``crs``.

        Areas far outside the CRS's area of use are left out: data placed there in this CRS
        is flagged as a CRS mismatch anyway. Which areas can meet the data is decided by the
        caller from the coordinates read, never from the data's declared extent, because a
        stale or forged extent must not hide a zone.
        """
        picked = np.arange(len(areas)) if positions is None else np.asarray(positions, np.int64)
        aou = crs.area_of_use
        if aou is not None and not crs.is_geographic and aou.west <= aou.east and picked.size:
            margin = 10.0
            region = (
                aou.west - margin,
                max(aou.south - margin, -90),
                aou.east + margin,
                min(aou.north + margin, 90),
            )
            picked = picked[np.isin(picked, areas.near(region))]
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
            local = to_crs_many(shapely.segmentize(source, _DENSIFY_DEG), crs)
        else:
            # Not reprojected, so no edge bends: densifying would only add vertices to test.
            local = np.array(source, dtype=object)
        finite = np.ones(local.size, dtype=bool)
        if local.size:
            coords, owner = shapely.get_coordinates(local, return_index=True)
            # Outside the projection's domain: no data in this CRS can lie there.
            np.logical_and.at(finite, owner, np.isfinite(coords).all(axis=1))
        local, picked = local[finite], picked[finite]
        invalid = ~shapely.is_valid(local)
        if invalid.any():
            local[invalid] = shapely.make_valid(local[invalid])
        shapely.prepare(local)
        return cls(crs, picked.astype(np.int64), local, shapely.STRtree(local))


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
        if not index.positions.size or not geoms.size:
            return
        # Boxes from the tree, then the exact test with the area as the prepared side: areas
        # are few and often detailed, features many and usually simple.
        feat_idx, local_idx = index.tree.query(geoms)
        if feat_idx.size == 0:
            return
        with index.prepared() as areas:
            self._add_hits(geoms, index, areas, feat_idx, local_idx, areas_too)

    def _add_hits(
        self,
        geoms: np.ndarray,
        index: AreaIndex,
        areas: np.ndarray,
        feat_idx: np.ndarray,
        local_idx: np.ndarray,
        areas_too: bool,
    ) -> None:
        hit = shapely.intersects(areas[local_idx], geoms[feat_idx])
        feat_idx, local_idx = feat_idx[hit], local_idx[hit]
        if feat_idx.size == 0:
            return
        area_idx = index.positions[local_idx]
        # Features per class, each counted once however many areas of the class it meets.
        n_classes = len(self.areas.class_names)
        pairs = np.unique(feat_idx * n_classes + self.areas.class_codes[area_idx])
        per_class = np.bincount(pairs % n_classes, minlength=n_classes)
        for code in np.flatnonzero(per_class):
            self.features_by_class[self.areas.class_names[code]] += int(per_class[code])
        np.add.at(self._features, area_idx, 1)
        if areas_too:
            polygonal = shapely.get_dimensions(geoms[feat_idx]) == 2
            if polygonal.any():
                feats = geoms[feat_idx[polygonal]]
                zones = areas[local_idx[polygonal]]
                # A feature wholly inside its zone overlaps by itself: skip the intersection.
                inside = shapely.contains_properly(zones, feats)
                pieces = feats.copy()
                if (~inside).any():
                    pieces[~inside] = _intersections(feats[~inside], zones[~inside])
                np.add.at(self._km2, area_idx[polygonal], ground_areas_km2(pieces, index.crs))

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
