"""Areas (zones, territories) reprojected into one data CRS, in an STR-tree; those that cannot
be drawn there are kept in lon/lat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS

from compliance.arrays import distinct
from compliance.geo.crs_identity import is_wgs84
from compliance.geo.geodesy import to_crs_many
from compliance.zones.areas import TURNS, AreaSet
from compliance.zones.drawing import drawn_faithfully, lonlat_copies

__all__ = ["AreaIndex"]

_DENSIFY_DEG = 0.005  # ~500 m: edges bend when reprojected (under 1 cm), so add vertices first


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
        if source.size and not is_wgs84(crs):
            dense = shapely.segmentize(source, _DENSIFY_DEG)
            local = to_crs_many(dense, crs)
            placed = drawn_faithfully(dense, local, crs)
        else:
            # Not reprojected, so no edge bends: densifying would only add vertices to test.
            local = np.array(source, dtype=object)
            placed = np.ones(local.size, dtype=bool)
        far = distinct(picked[~placed])
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
