"""A polygon's "hole" drawn outside its shell is still drawn: zones and territories meet it.

GEOS takes a polygon's envelope from its shell, so a tree query and ``intersects`` passed
over linework an exporter carries as holes of a small shell far away: buildings inside a
zone, written as holes of a shell 3 km off, met no zone, and a whole city's buildings as
holes of a shell at sea met no territory, so its pack did not apply. Truth here comes from
shapely and pyproj alone: each hole ring lies inside the zone, and GEOS's own
``intersects`` of the zone with the trick polygon is False (the blind spot is real).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from compliance import Checker, Effect
from tests.measure.leak_files import zone_file, zone_pack

GEOD = Geod(ellps="WGS84")
# Place, the data's CRS, the format written.
CASES = [
    ((127.03, 37.50), 5186, "GPKG"),
    ((129.05, 35.15), 32652, "GeoJSON"),
    ((34.78, 32.08), 2039, "FlatGeobuf"),
    ((77.21, 28.61), 4326, "GPKG"),
]
SUFFIX = {"GPKG": ".gpkg", "GeoJSON": ".geojson", "FlatGeobuf": ".fgb"}
ZONE_DEG = 0.01  # the zone's side, about 1 km


def _zone(folder: Path, lon: float, lat: float) -> tuple[Path, shapely.Geometry]:
    zone = shapely.box(lon, lat, lon + ZONE_DEG, lat + ZONE_DEG)
    return zone_file(folder, zone), zone


def _squares(lon: float, lat: float, n: int, side_deg: float = 0.0004) -> list[np.ndarray]:
    """``n`` small squares (lon/lat rings) in a row from (lon, lat)."""
    rings = []
    for i in range(n):
        x, y = lon + i * 2 * side_deg, lat
        rings.append(np.array([(x, y), (x + side_deg, y), (x + side_deg, y + side_deg),
                               (x, y + side_deg), (x, y)]))  # fmt: skip
    return rings


def _far_shell(lon: float, lat: float, metres: float) -> np.ndarray:
    """A small square ring ``metres`` due east of (lon, lat), on the ground."""
    x, y, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return _squares(x, y, 1)[0]


def _write(path: Path, geoms: list[shapely.Geometry], epsg: int, driver: str) -> Path:
    t = Transformer.from_crs(4326, epsg, always_xy=True)
    native = shapely.transform(
        np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(*xy.T))
    )
    table = pa.table({"id": np.arange(len(geoms)), "geometry": shapely.to_wkb(native)})
    pyogrio.write_arrow(table, path, driver=driver, geometry_name="geometry",
                        geometry_type="Unknown", crs=f"EPSG:{epsg}")  # fmt: skip
    return path


def _inside_zone(lon: float, lat: float) -> list[np.ndarray]:
    return _squares(lon + 0.002, lat + 0.004, 5)


@pytest.mark.parametrize(("place", "epsg", "driver"), CASES)
def test_holes_inside_a_zone_meet_it_whatever_their_shell(tmp_path, place, epsg, driver):
    lon, lat = place
    zones, zone = _zone(tmp_path, lon, lat)
    holes = _inside_zone(lon, lat)
    shell = _far_shell(lon, lat, 3_000.0)
    trick = shapely.Polygon(shell, holes)
    # The truth the test stands on, from shapely alone.
    assert all(zone.contains(shapely.LineString(h)) for h in holes)
    assert not trick.is_valid and not zone.intersects(trick)
    assert not zone.intersects(shapely.Polygon(shell))
    checker = Checker(packs=[zone_pack(tmp_path)], zones=zones)

    path = _write(tmp_path / f"trick{SUFFIX[driver]}", [trick], epsg, driver)
    verdict = checker.check(path)
    assert verdict.zones.count == 1
    assert verdict.zones.by_class["military"].features == 1
    assert verdict.profile.invalid_geometries == 1
    assert verdict.verdict == Effect.deny

    # Control: the same rings as polygons of their own.
    control = [shapely.Polygon(shell)] + [shapely.Polygon(h) for h in holes]
    path = _write(tmp_path / f"control{SUFFIX[driver]}", control, epsg, driver)
    verdict = checker.check(path)
    assert verdict.zones.by_class["military"].features == len(holes)
    assert verdict.verdict == Effect.deny


@pytest.mark.parametrize("epsg", [5186, 4326, 32652])
def test_a_hole_as_part_of_a_multipolygon_meets_the_zone(tmp_path, epsg):
    lon, lat = 127.03, 37.50
    zones, zone = _zone(tmp_path, lon, lat)
    holes = _inside_zone(lon, lat)
    part = shapely.Polygon(_far_shell(lon, lat, 5_000.0), holes[:2])
    other = shapely.Polygon(_far_shell(lon, lat, 9_000.0))
    trick = shapely.MultiPolygon([other, part])
    assert not zone.intersects(trick)
    checker = Checker(packs=[zone_pack(tmp_path)], zones=zones)
    verdict = checker.check(_write(tmp_path / "mp.gpkg", [trick], epsg, "GPKG"))
    assert verdict.zones.count == 1
    assert verdict.verdict == Effect.deny


@pytest.mark.parametrize("epsg", [4326, 5186, 32652])
def test_a_city_drawn_as_holes_of_a_shell_at_sea_is_in_the_territory(tmp_path, epsg):
    # Buildings across Seoul, written as holes of one shell in the Yellow Sea, far outside
    # Korea's territory: the Korean pack must still apply.
    # Squares 2 m across: detail the Korean pack holds at any scale finer than 1:25,000.
    seoul = [r for k in range(4) for r in _squares(127.00, 37.52 + k * 0.002, 30, 0.00002)]
    sea = _squares(123.50, 35.50, 1, 0.01)[0]
    trick = shapely.Polygon(sea, seoul)
    assert not trick.is_valid
    checker = Checker(packs=["kr"], zones=None)
    verdict = checker.check(_write(tmp_path / "city.gpkg", [trick], epsg, "GPKG"))
    kr = next(p for p in verdict.packs if p.name == "kr")
    assert kr.applies
    assert verdict.profile.resolution_m is not None and verdict.profile.resolution_m < 2.5
    assert verdict.verdict != Effect.allow
    # Control: the shell alone is outside the territory, and Korea's pack does not apply.
    verdict = checker.check(_write(tmp_path / "sea.gpkg", [shapely.Polygon(sea)], epsg, "GPKG"))
    assert not next(p for p in verdict.packs if p.name == "kr").applies
