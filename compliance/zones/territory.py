"""A pack's territory: the area its rules apply to, buffered on the ground.

A territory is cut into 1° tiles, and each tile is grown by the buffer only when data comes
near it (like zones, see ``compliance.zones.areas``). Growing a polygon by a distance distributes
over its parts, so the grown tiles together are exactly the grown territory; a file near
Seoul grows the few tiles around it instead of the whole coastline of Korea.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import ProjError
from shapely.geometry.base import BaseGeometry

from compliance.errors import RulePackError
from compliance.geo.footprint import shapes_to_wgs84
from compliance.geo.geodesy import ARC_TOLERANCE_M, area_km2
from compliance.version import ENGINE_VERSION
from compliance.zones.areas import TURNS, AreaSet
from compliance.zones.layer_file import read_layer
from compliance.zones.prepared_cache import load_geometries, store_geometries

__all__ = ["Territory", "load_territory"]

TILE_DEG = 1.0
# A territory's buffer (12 nautical miles) is drawn to within this share of it, outside:
# 2 m of 22 km, where a zone's is drawn to 0.1 m.
_TOLERANCE_SHARE = 1e-4


# Tile sets whose grown union a territory keeps: a warm checker (an audit, the service)
# checks file after file in the same few places, and the union is most of the cost.
_UNIONS_KEPT = 64

_TileKey = tuple[tuple[float, tuple[int, ...]], ...]


@dataclass(frozen=True)
class Territory:
    pack: str
    areas: AreaSet  # the territory's tiles, each grown by the buffer when first needed
    _unions: OrderedDict[_TileKey, BaseGeometry] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def near(self, footprint: BaseGeometry) -> BaseGeometry:
        """The grown territory wherever it can meet ``footprint`` (lon/lat); where the
        footprint runs past ±180°, with the tiles it meets there a turn east or west."""
        west, south, east, north = shapely.bounds(footprint)
        region = (west, south, east, north)
        key = tuple(
            (shift, tuple(met.tolist()))
            for shift in TURNS
            if (met := np.flatnonzero(self.areas.meets(region, shift))).size
        )
        with self._lock:
            if key in self._unions:
                self._unions.move_to_end(key)
                return self._unions[key]
        inside = self._union(key)
        shapely.prepare(inside)
        with self._lock:
            self._unions[key] = inside
            if len(self._unions) > _UNIONS_KEPT:
                self._unions.popitem(last=False)
        return inside

    def _union(self, key: _TileKey) -> BaseGeometry:
        """The grown tiles of ``key`` (each list moved by its turn), as one geometry."""
        pieces = []
        for shift, positions in key:
            tiles = self.areas.grown(np.array(positions, dtype=np.int64))
            pieces.append(shapely.transform(tiles, lambda xy, d=shift: xy + [d, 0.0]))
        if not pieces:
            return shapely.Polygon()
        tiles = np.concatenate(pieces)
        invalid = ~shapely.is_valid(tiles)
        if invalid.any():
            tiles[invalid] = shapely.make_valid(tiles[invalid])
        return shapely.union_all(tiles)

    def fraction_of(self, footprint: BaseGeometry | None) -> float | None:
        """Share of a footprint's ground area inside the territory (1.0 for points/lines inside)."""
        if footprint is None or footprint.is_empty:
            return None
        inside = self.near(footprint)
        if inside.contains(footprint):  # the usual case, and no areas to measure
            return 1.0
        total = area_km2(footprint)
        if total <= 0:
            return 1.0 if footprint.intersects(inside) else 0.0
        return min(1.0, area_km2(shapely.intersection(footprint, inside)) / total)


def _tiles(geom: BaseGeometry) -> np.ndarray:
    """``geom`` cut along whole degrees: pieces that are valid and together make it up."""
    west, south, east, north = shapely.bounds(geom)
    xs = np.arange(np.floor(west / TILE_DEG), np.ceil(east / TILE_DEG) + 1) * TILE_DEG
    ys = np.arange(np.floor(south / TILE_DEG), np.ceil(north / TILE_DEG) + 1) * TILE_DEG
    gx, gy = np.meshgrid(xs[:-1], ys[:-1])
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + TILE_DEG, gy.ravel() + TILE_DEG)
    shapely.prepare(geom)
    pieces = shapely.intersection(geom, cells[shapely.intersects(geom, cells)])
    pieces = pieces[~shapely.is_empty(pieces)]
    invalid = ~shapely.is_valid(pieces)
    if invalid.any():
        pieces[invalid] = shapely.make_valid(pieces[invalid])
    return pieces


@lru_cache(maxsize=16)
def load_territory(pack: str, path: Path, buffer_m: float) -> Territory:
    """A pack's territory, read once per process and shared by every checker in it."""
    tiles = _territory_tiles(path)
    areas = AreaSet(
        [f"{pack}-{i}" for i in range(len(tiles))],
        ["territory"] * len(tiles),
        tiles,
        np.full(len(tiles), float(buffer_m)),
        tolerance_m=max(ARC_TOLERANCE_M, float(buffer_m) * _TOLERANCE_SHARE),
    )
    return Territory(pack=pack, areas=areas)


def _territory_tiles(path: Path) -> np.ndarray:
    """The territory in ``path`` cut into tiles (lon/lat), cut once per content: a built-in
    pack's territory serves under its own name and as ``builtin:<name>``, and later
    processes read the tiles back from the verified cache (``prepared_cache``)."""
    return _tiles_of(path, _content_hash(path))


def _content_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # read_layer names the problem


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """The modules that read, carry and cut a territory, by content: tiles cut by other code
    (an edited checkout with the same version number) are never read back."""
    digest = hashlib.sha256()
    for function in (_tiles, shapes_to_wgs84, area_km2, read_layer):
        digest.update(Path(str(sys.modules[function.__module__].__file__)).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _tiles_of(path: Path, content: str | None) -> np.ndarray:
    # Whatever changes how the tiles come out is in the key: the file's content, how it is
    # cut, and the code and libraries that cut it.
    versions = (ENGINE_VERSION, _code_hash(), shapely.geos_version_string, pyproj.proj_version_str)
    key = "|".join([str(content), str(TILE_DEG), *versions])
    if content is not None:
        cached = load_geometries("territory-tiles", key)
        if cached is not None:
            return cached
    layer = read_layer(path, lambda why: RulePackError(f"territory {path.name}: {why}"))
    if layer.crs is None or layer.geometries.size == 0:
        raise RulePackError(f"territory {path.name}: needs polygons with a CRS")
    try:
        geom = shapes_to_wgs84(
            np.array([shapely.make_valid(shapely.union_all(layer.geometries))]), layer.crs
        )[0]
    except ProjError as exc:
        raise RulePackError(f"territory {path.name}: cannot be reprojected: {exc}") from exc
    if geom is None:
        raise RulePackError(f"territory {path.name}: cannot be placed on the Earth in its CRS")
    geom = shapely.make_valid(geom)
    tiles = _tiles(geom) if not geom.is_empty else np.empty(0, dtype=object)
    if content is not None and _content_hash(path) == content:  # not changed while cut
        store_geometries("territory-tiles", key, tiles)
    return tiles
