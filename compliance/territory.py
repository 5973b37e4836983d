"""A pack's territory: the area its rules apply to, buffered on the ground."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from compliance.areas import AreaSet
from compliance.errors import RulePackError
from compliance.geodesy import WGS84, area_km2, buffer_on_ground, geometry_to_wgs84
from compliance.zones import read_layer


@dataclass(frozen=True)
class Territory:
    pack: str
    geometry: BaseGeometry  # lon/lat, buffered
    areas: AreaSet

    def fraction_of(self, footprint: BaseGeometry | None) -> float | None:
        """Share of a footprint's ground area inside the territory (1.0 for points/lines inside)."""
        if footprint is None or footprint.is_empty:
            return None
        total = area_km2(footprint)
        if total <= 0:
            return 1.0 if footprint.intersects(self.geometry) else 0.0
        return min(1.0, area_km2(shapely.intersection(footprint, self.geometry)) / total)


@lru_cache(maxsize=16)
def _load_geometry(path: Path, buffer_m: float) -> BaseGeometry:
    layer = read_layer(path, lambda why: RulePackError(f"territory {path.name}: {why}"))
    if layer.crs is None or layer.geometries.size == 0:
        raise RulePackError(f"territory {path.name}: needs polygons with a CRS")
    geom = shapely.make_valid(shapely.union_all(layer.geometries))
    if not layer.crs.equals(WGS84):
        geom = geometry_to_wgs84(geom, layer.crs)
    return shapely.make_valid(buffer_on_ground(geom, buffer_m))


def load_territory(pack: str, path: Path, buffer_m: float) -> Territory:
    geom = _load_geometry(path, buffer_m)
    parts = shapely.get_parts(geom)
    areas = AreaSet([f"{pack}-{i}" for i in range(len(parts))], ["territory"] * len(parts), parts)
    return Territory(pack=pack, geometry=geom, areas=areas)
