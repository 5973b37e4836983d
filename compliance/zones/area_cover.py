"""Indexes of areas in a data CRS that grow with the data they are asked about.

An index *covers* a box in the data's CRS when it holds every area that can meet anything
inside that box. Before features are tested, the index is asked to cover the box of the
coordinates actually read (never a declared extent); when it does not yet, the box is
carried back to lon/lat with a margin and the areas whose reach meets it are added.
Where the box cannot be carried back safely (a pole inside it, coordinates outside the
projection's domain, a fold), every area is indexed, as if nothing were known.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS

from compliance.geo.crs_identity import WGS84, crs_key, is_wgs84
from compliance.geo.geodesy import to_lonlat, transformer
from compliance.zones.area_index import AreaIndex
from compliance.zones.areas import TURNS, AreaSet
from compliance.zones.prefilter import CellGrid

__all__ = ["GrowingIndex", "growing_index", "lonlat_region"]

Box = tuple[float, float, float, float]
EVERYWHERE: Box = (-np.inf, -np.inf, np.inf, np.inf)

_EDGE_POINTS = 65
_INTERIOR_POINTS = 17
# Carried-back boxes grow by this share of their span, plus a fixed slack in degrees:
# samples along an edge miss only the bend between them, a far smaller amount.
_MARGIN_SHARE = 0.01
_MARGIN_DEG = 0.001
# A growing index takes in more than asked, so data read in spatial order grows it a few
# times rather than at every batch.
_GROWTH_SHARE = 0.25
_FAR = 1e300  # "everywhere" as a finite box, for the cell grid


def lonlat_region(box: Box, crs: CRS) -> Box | None:
    """A lon/lat box that holds every point of ``box`` (given in ``crs``), or None when that
    cannot be established. The lon/lat box may run past ±180° when the data does."""
    minx, miny, maxx, maxy = box
    t = np.linspace(0.0, 1.0, _EDGE_POINTS)
    xs, ys = minx + (maxx - minx) * t, miny + (maxy - miny) * t
    ring_x = np.concatenate([xs, np.full_like(t, maxx), xs[::-1], np.full_like(t, minx)])
    ring_y = np.concatenate([np.full_like(t, miny), ys, np.full_like(t, maxy), ys[::-1]])
    u = np.linspace(0.0, 1.0, _INTERIOR_POINTS)
    grid_x, grid_y = np.meshgrid(minx + (maxx - minx) * u, miny + (maxy - miny) * u)
    lon, lat = to_lonlat(
        crs, np.concatenate([ring_x, grid_x.ravel()]), np.concatenate([ring_y, grid_y.ravel()])
    )
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    ring_lon, ring_lat = lon[: ring_x.size], lat[: ring_x.size]
    # A jump of half a turn along the outline: it crosses the antimeridian as PROJ wraps it.
    if ring_lon.size > 1 and np.abs(np.diff(ring_lon)).max() > 180.0:
        return None
    west, east = ring_lon.min(), ring_lon.max()
    south, north = ring_lat.min(), ring_lat.max()
    span = max(east - west, north - south)
    pad = span * _MARGIN_SHARE + _MARGIN_DEG
    region = (west - pad, south - pad, east + pad, north + pad)
    inner_lon, inner_lat = lon[ring_x.size :], lat[ring_x.size :]
    # Inside points outside the outline's box: the projection folds here; trust nothing.
    if not (
        (inner_lon >= region[0]).all()
        and (inner_lon <= region[2]).all()
        and (inner_lat >= region[1]).all()
        and (inner_lat <= region[3]).all()
    ):
        return None
    if _holds_a_pole(box, crs):
        return None
    return region


def _holds_a_pole(box: Box, crs: CRS) -> bool:
    if is_wgs84(crs):
        return False
    x, y = transformer(WGS84, crs).transform([0.0, 0.0], [90.0, -90.0], errcheck=False)
    for px, py in zip(np.atleast_1d(x), np.atleast_1d(y), strict=True):
        if (
            np.isfinite(px)
            and np.isfinite(py)
            and box[0] <= px <= box[2]
            and box[1] <= py <= box[3]
        ):
            return True
    return False


def _within(inner: Box, outer: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _grown(box: Box) -> Box:
    pad = max(box[2] - box[0], box[3] - box[1]) * _GROWTH_SHARE
    return (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)


@dataclass
class _Indexed:
    """Chosen areas, their index and (built when first asked for) their cell grid."""

    index: AreaIndex
    # Positions asked for (those the CRS cannot draw kept in lon/lat by the index), then in
    # lon/lat data those also copied a turn west and east: equal keys mean equal indexes.
    chosen: np.ndarray
    coarse: bool = False  # territory tiles: large areas, a coarse grid that knows inside cells
    box: Box = EVERYWHERE  # what the index covers, in the data's CRS

    @cached_property
    def grid(self) -> CellGrid | None:
        """The cell grid that clears vector features by their boxes alone."""
        polygons, inside = self.index.geometries, self.coarse
        if self.index.far_positions.size:
            # Areas tested in lon/lat have no shape in this CRS: no feature in the covered
            # box may be cleared by the grid, nor taken as inside one by it.
            reach = np.clip(np.array(self.box, dtype=float), -_FAR, _FAR)
            polygons, inside = np.concatenate([polygons, [shapely.box(*reach)]]), False
        return CellGrid.build(polygons, cells=128 if self.coarse else 1024, find_inside=inside)


@dataclass(frozen=True)
class Cover:
    """An index that holds every area that can meet anything in ``box`` (data CRS). A cover
    grown without new areas shares its predecessor's index and grid."""

    box: Box
    indexed: _Indexed

    @property
    def index(self) -> AreaIndex:
        return self.indexed.index

    @property
    def grid(self) -> CellGrid | None:
        return self.indexed.grid


@dataclass
class GrowingIndex:
    """One set of areas in one CRS; the current cover is replaced, never changed, so a
    thread holding it keeps a consistent index while another grows it."""

    areas: AreaSet
    crs: CRS
    coarse: bool = False  # territory tiles: large areas, a coarse grid that knows inside cells
    _cover: Cover | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def covering(self, box: Box) -> Cover:
        cover = self._cover
        if cover is not None and _within(box, cover.box):
            return cover
        with self._lock:
            cover = self._cover
            if cover is not None and _within(box, cover.box):
                return cover
            self._cover = cover = self._grow(cover, box)
            return cover

    def _grow(self, cover: Cover | None, box: Box) -> Cover:
        wanted = box if cover is None else _union(cover.box, box)
        padded = _grown(wanted)
        region = lonlat_region(padded, self.crs)
        if region is None:
            padded, region = wanted, lonlat_region(wanted, self.crs)
        if region is None:
            return self._cover_all()
        chosen = self.areas.near(region)
        # Which areas, and which of them also a turn west or east (lon/lat data only).
        key = chosen
        if self.crs.is_geographic:
            n = len(self.areas)
            key = np.concatenate(
                [chosen]
                + [
                    chosen[self.areas.meets(region, s)[chosen]] + k * n
                    for k, s in enumerate(TURNS[1:], 1)
                ]
            )
        if cover is not None and np.array_equal(key, cover.indexed.chosen):
            return Cover(padded, cover.indexed)
        index = AreaIndex.build(self.areas, self.crs, chosen, region)
        return Cover(padded, _Indexed(index, key, coarse=self.coarse, box=padded))

    def _cover_all(self) -> Cover:
        index = AreaIndex.build(self.areas, self.crs)
        everything = _Indexed(index, np.arange(len(self.areas)), coarse=self.coarse)
        return Cover(EVERYWHERE, everything)


_INDEXES: dict[tuple[int, str], GrowingIndex] = {}
_INDEXES_LOCK = threading.Lock()


def growing_index(areas: AreaSet, crs: CRS, coarse: bool = False) -> GrowingIndex:
    """The growing index of these areas in ``crs``; cached, since a checker's zones and
    territories never change while many files in the same CRS pass through."""
    key = (id(areas), crs_key(crs))
    with _INDEXES_LOCK:
        hit = _INDEXES.get(key)
        if hit is not None and hit.areas is areas:
            return hit
        if len(_INDEXES) >= 32:
            _INDEXES.pop(next(iter(_INDEXES)))
        hit = _INDEXES[key] = GrowingIndex(areas, crs, coarse)
        return hit
