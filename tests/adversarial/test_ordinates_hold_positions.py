"""Precise positions kept in the geometry's own Z and M values.

The move: the features are drawn coarse (snapped to 0.001 degree, or to 100 m), and
each one's precise position is written in its third or fourth ordinate: a line of two
vertices whose Z values are the precise longitude and latitude, a point whose Z is its
precise northing, a measured line whose M values are the position. Every reader hands
them over with the geometry, and anyone who knows the layout reads them back. Numbers
kept in attributes are met with each row's position (``attribute_tracks``); Z and M
values were not, so on the previous head every file here came out ``allow`` (or, in
Korea, ``allow_with_conditions`` for its 3-D data).

Claim under test: the Z and M values are met as an attribute's numbers are, so these
files are held for review (``MAPGATE-COORDINATES-IN-TABLE``, naming the geometry's Z
and M values), in three places, in degrees and in metres, in GeoPackage, GeoJSON,
FlatGeobuf and shapefile, a layer without fields too; heights in Z are not taken for
positions.

Truth: the precise positions are drawn with pyproj's geodesic (``snapped_points``) and
projected with pyproj; files are written with pyogrio and read back with shapely.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker
from compliance.measure.attribute_reading import ORDINATES
from compliance.verdict import Effect
from tests.adversarial.snapped_points import around

HELD = "MAPGATE-COORDINATES-IN-TABLE"
PROJECTED = {"seoul": 5186, "sydney": 28356, "denver": 32613}
DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON", "fgb": "FlatGeobuf", "shp": "ESRI Shapefile"}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _write(path, wkt: list[str], epsg: int, fields: bool = True, kind: str = "Unknown"):
    """Features from their WKT, written by GDAL as ISO WKB (Z and M kept)."""
    geoms = shapely.from_wkt(wkt)
    columns = {"id": pa.array(np.arange(len(wkt)))} if fields else {}
    table = pa.table({**columns, "geometry": pa.array(shapely.to_wkb(geoms, flavor="iso"))})
    pyogrio.write_arrow(table, path, driver=DRIVERS[path.suffix[1:]], geometry_name="geometry",
                        geometry_type=kind, crs=f"EPSG:{epsg}")  # fmt: skip
    with warnings.catch_warnings():  # pyogrio's own read warns that it drops M
        warnings.simplefilter("ignore", UserWarning)
        _, back = pyogrio.read_arrow(path)
    kept = shapely.from_wkb(np.asarray(back.column(back.schema.names[-1]), dtype=object))
    assert np.array_equal(
        shapely.has_z(kept) | shapely.has_m(kept), shapely.has_z(geoms) | shapely.has_m(geoms)
    )
    return path


def _held(verdict) -> list[list[str] | None]:
    return [layer.coordinate_columns for layer in verdict.profile.layers]


@pytest.mark.parametrize("place", ["seoul", "sydney", "denver"])
@pytest.mark.parametrize("suffix", ["gpkg", "geojson", "fgb"])
def test_lines_whose_z_values_are_their_precise_positions_are_held(
    tmp_path, checker, place, suffix
):
    precise, snapped = around(place, 40, seed=11)
    wkt = [
        f"LINESTRING Z ({x} {y} {float(lon)!r}, {x} {y + 0.001} {float(lat)!r})"
        for (x, y), (lon, lat) in zip(snapped, precise, strict=True)
    ]
    verdict = checker.check(_write(tmp_path / f"roads.{suffix}", wkt, 4326, kind="LineString Z"))
    assert verdict.profile.has_z
    assert _held(verdict) == [[ORDINATES]]
    assert HELD in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize("place", ["seoul", "sydney", "denver"])
def test_points_whose_z_is_their_precise_northing_are_held(tmp_path, checker, place):
    """In metres: points snapped to 100 m, a layer without fields."""
    precise, _ = around(place, 40, seed=12)
    x, y = Transformer.from_crs(4326, PROJECTED[place], always_xy=True).transform(*precise.T)
    wkt = [
        f"POINT Z ({round(a, -2)} {round(b, -2)} {float(b)!r})" for a, b in zip(x, y, strict=True)
    ]
    path = _write(tmp_path / "sites.gpkg", wkt, PROJECTED[place], fields=False, kind="Point Z")
    verdict = checker.check(path)
    assert _held(verdict) == [[ORDINATES]]
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize("suffix", ["gpkg", "shp", "fgb"])
def test_measured_lines_whose_m_values_are_their_precise_positions_are_held(
    tmp_path, checker, suffix
):
    precise, snapped = around("seoul", 40, seed=13)
    wkt = [
        f"LINESTRING M ({x} {y} {float(lon)!r}, {x} {y + 0.001} {float(lat)!r})"
        for (x, y), (lon, lat) in zip(snapped, precise, strict=True)
    ]
    path = _write(tmp_path / f"routes.{suffix}", wkt, 4326, kind="Measured LineString")
    verdict = checker.check(path)
    assert _held(verdict) == [[ORDINATES]]
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize("place", ["seoul", "sydney", "denver"])
@pytest.mark.parametrize("suffix", ["gpkg", "geojson"])
def test_heights_in_z_are_not_positions(tmp_path, checker, place, suffix):
    """The same lines with heights above ground as their Z (a road's profile, 20 to
    400 m, varying along it): no column is held, the verdict is the 2-D lines'."""
    precise, snapped = around(place, 40, seed=11)
    rng = np.random.default_rng(14)
    heights = rng.uniform(20, 400, (40, 2))
    wkt_3d = [
        f"LINESTRING Z ({x} {y} {float(a)!r}, {x} {y + 0.001} {float(b)!r})"
        for (x, y), (a, b) in zip(snapped, heights, strict=True)
    ]
    wkt_2d = [f"LINESTRING ({x} {y}, {x} {y + 0.001})" for x, y in snapped]
    verdict = checker.check(
        _write(tmp_path / f"profile.{suffix}", wkt_3d, 4326, kind="LineString Z")
    )
    flat = checker.check(_write(tmp_path / f"flat.{suffix}", wkt_2d, 4326))
    assert verdict.profile.has_z and _held(verdict) == [None]
    assert HELD not in {f.rule_id for f in verdict.findings}
    assert {f.rule_id for f in flat.findings} <= {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("place", ["seoul", "sydney", "denver"])
def test_one_line_whose_z_values_are_a_table_of_positions_is_held(tmp_path, checker, place):
    """The positions of forty snapped points, all in the Z values of one more line drawn
    beside them (longitude, latitude, longitude, ...): a table of its own."""
    precise, snapped = around(place, 40, seed=15)
    x, y = snapped[0]
    zs = precise.ravel()
    table = ", ".join(f"{x + 1e-4 * i} {y} {float(z)!r}" for i, z in enumerate(zs))
    wkt = [f"POINT Z ({a} {b} 0)" for a, b in snapped] + [f"LINESTRING Z ({table})"]
    verdict = checker.check(_write(tmp_path / "decoy.gpkg", wkt, 4326, kind="Unknown"))
    assert _held(verdict) == [[ORDINATES]]
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize("place", ["seoul", "sydney", "denver"])
def test_long_lines_climbing_past_their_own_coordinates_are_not_held(tmp_path, checker, place):
    """Roads of 3,000 vertices climbing from 20 to 400 m pass heights equal to their own
    latitude and longitude (in degrees: Sydney's as a magnitude); no value of theirs is a
    position."""
    lon0, lat0 = around(place, 1, seed=16)[0][0]
    rng = np.random.default_rng(16)
    t = np.linspace(0, 1, 3000)
    wkt = []
    for k in range(20):
        x = lon0 + 0.05 * t + 0.002 * k
        y = lat0 + 0.02 * np.sin(3 * t) + 0.002 * k
        z = 20 + 380 * t + rng.normal(0, 0.5, t.size)
        wkt.append(
            "LINESTRING Z ("
            + ", ".join(f"{a} {b} {c}" for a, b, c in zip(x, y, z, strict=True))
            + ")"
        )
    verdict = checker.check(_write(tmp_path / "climb.gpkg", wkt, 4326, kind="LineString Z"))
    assert verdict.profile.has_z and _held(verdict) == [None]
