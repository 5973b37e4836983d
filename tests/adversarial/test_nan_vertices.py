"""Class 7: coordinates that are not numbers.

The claim under test: "a feature the checker cannot place is held for review, and its
other vertices still meet the zones". A NaN or infinite vertex used to reach GEOS, which
failed the whole check (a polygon ring with a NaN vertex beside a zone), or to be passed
over by the box reader, so that the feature counted as placed and measured.

Each file holds features beside or across the demo military zone near Seoul (127.02-127.04
E, 37.46-37.475 N, 500 m buffer), with a NaN or infinite coordinate in a line (first, middle
and last vertex), a polygon ring, a multi-line's second part, a point (NaN on one axis) and
a line inside a geometry collection, written as GeoPackage, FlatGeobuf (pyogrio, from WKB)
and GeoJSON (text, with the NaN and Infinity tokens GDAL reads). The control is the same
features with the bad vertices left out.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from shapely.geometry import mapping

from compliance import Checker

NAN, INF = float("nan"), float("inf")


def _features(bad: float | None) -> list:
    """Features near the zone; ``bad`` is the coordinate written at the bad vertices
    (None: those vertices are left out, the control)."""

    def line(points):
        kept = [(x, y) for x, y in points if bad is not None or np.isfinite(x + y)]
        return [
            (bad if not np.isfinite(x) else x, bad if not np.isfinite(y) else y) for x, y in kept
        ]

    return [
        shapely.LineString(line([(NAN, NAN), (127.041, 37.47), (127.0455, 37.471)])),
        shapely.LineString(line([(127.041, 37.47), (NAN, NAN), (127.0455, 37.471)])),
        shapely.LineString(line([(127.03, 37.47), (127.06, 37.47), (NAN, 37.4)])),
        shapely.Polygon(
            line([(127.041, 37.47), (127.046, 37.47), (NAN, NAN), (127.041, 37.472), (127.041, 37.47)])
        ),
        shapely.MultiLineString(
            [[(127.05, 37.48), (127.051, 37.481)], line([(127.042, 37.47), (NAN, 37.47), (127.043, 37.471)])]
        ),
        shapely.GeometryCollection(
            [shapely.Point(127.0, 37.0), shapely.LineString(line([(127.041, 37.465), (NAN, NAN), (127.042, 37.466)]))]
        ),
    ]  # fmt: skip


BAD_FEATURES = 6


def _point(bad: float | None) -> list:
    # A point NaN on one axis only is a coordinate, not an empty point: it cannot be placed.
    return [] if bad is None else [shapely.Point(127.041, bad)]


def _write(path, geoms: list, driver: str) -> str:
    if driver == "GeoJSON":
        features = [
            {"type": "Feature", "properties": {"id": i}, "geometry": mapping(g)}
            for i, g in enumerate(geoms)
        ]
        # Python's json writes the NaN and Infinity tokens, which GDAL's reader accepts.
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        return str(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely and GDAL warn of the NaN they are given
        wkb = shapely.to_wkb(np.array(geoms, dtype=object))
        table = pa.table({"id": np.arange(len(geoms)), "geometry": wkb})
        pyogrio.write_arrow(
            table, path, driver=driver, geometry_name="geometry", geometry_type="Unknown",
            crs="EPSG:4326",
        )  # fmt: skip
    return str(path)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


@pytest.mark.parametrize(
    ("driver", "suffix", "bad"),
    [("GPKG", "gpkg", NAN), ("FlatGeobuf", "fgb", NAN), ("GeoJSON", "geojson", NAN),
     ("GPKG", "gpkg", INF), ("GeoJSON", "geojson", INF)],
)  # fmt: skip
def test_non_finite_vertices_are_unplaceable_not_a_crash(tmp_path, checker, driver, suffix, bad):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely warns while the test builds the shapes
        geoms = _features(bad) + _point(bad)
    # No warning escapes the check itself: the suite turns warnings into errors.
    verdict = checker.check(_write(tmp_path / f"bad.{suffix}", geoms, driver))
    # GDAL's FlatGeobuf and GeoJSON readers give a point NaN on one axis as an empty point.
    want = BAD_FEATURES + (0 if driver != "GPKG" and bad != INF else 1)
    assert verdict.profile.unplaceable_geometries == want
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNPLACEABLE")
    assert finding.facts["unplaceable_geometries"] == want
    assert verdict.verdict != "allow"
    # Their finite vertices still met the zone they lie in.
    assert verdict.zones.count == 1 and verdict.zones.classes == ["military"]
    # The control: the same features without the bad vertices are placed and measured.
    control = checker.check(_write(tmp_path / f"good.{suffix}", _features(None), driver))
    assert control.profile.unplaceable_geometries == 0
    assert "MAPGATE-UNPLACEABLE" not in [f.rule_id for f in control.findings]
    assert control.zones.count == 1
