"""A layer's declared extent only gives the zone index a head start: the features decide.

A GeoPackage states its extent in ``gpkg_contents``, which the exporter writes. The index
of zones is grown over it beside the first reads; a stated extent that misses the data, or
holds only a corner of it, must not change which zones the features are found in.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker
from compliance.readers.sources import BATCH_SIZE
from tests.builders import write_vector

CRS = "EPSG:5186"  # Korea 2000 / Central Belt 2010


def _zones(path, zone):
    """One zone, given in lon/lat as zone files are, with no buffer."""
    to_lonlat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lonlat = shapely.transform(zone, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    return write_vector(
        path, [lonlat], "EPSG:4326", zone_id=["Z-1"], zone_class=["military"], buffer_m=[0.0]
    )


def _declare_extent(path, box):
    with sqlite3.connect(path) as con:
        con.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?", tuple(box)
        )


@pytest.mark.parametrize(
    "declared",
    [
        (250_000.0, 600_000.0, 260_000.0, 610_000.0),  # 60 km away from every feature
        (200_000.0, 550_000.0, 200_050.0, 550_050.0),  # a 50 m corner of the data
        (195_000.0, 545_000.0, 196_000.0, 546_000.0),  # beside the data, none of it
    ],
)
def test_a_declared_extent_that_lies_does_not_hide_a_zone(tmp_path, declared):
    rng = np.random.default_rng(7)
    n = 3 * BATCH_SIZE  # enough batches for the scan to read in a thread
    x = 200_000 + rng.random(n) * 20_000
    y = 550_000 + rng.random(n) * 20_000
    buildings = shapely.box(x, y, x + 8, y + 8)
    zone = shapely.box(214_000, 564_000, 216_000, 566_000)  # far from the lying extents
    # None within 2 m outside the zone: the checker's 0.5 m tolerance decides nothing here.
    near = ~shapely.intersects(buildings, zone) & (shapely.distance(buildings, zone) < 2.0)
    buildings = buildings[~near]
    path = write_vector(tmp_path / "buildings.gpkg", list(buildings), CRS)
    _declare_extent(path, declared)
    assert tuple(pyogrio.read_info(path)["total_bounds"]) == pytest.approx(declared)
    inside = int(shapely.intersects(buildings, zone).sum())  # truth, by shapely alone
    assert inside > 50
    zones = _zones(tmp_path / "zones.gpkg", zone)
    for helpers in (True, False):
        verdict = Checker(zones=zones, packs=["kr"], helper_threads=helpers).check(path)
        military = verdict.zones.by_class["military"]
        assert (verdict.zones.count, military.features) == (1, inside), helpers
        assert verdict.verdict != "allow"
