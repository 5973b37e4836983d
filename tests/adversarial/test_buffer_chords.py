"""Move: stand just inside a territory's buffer where GEOS draws its arc as one long chord.

Claim: every point within a pack's territory buffer (on the ground) meets the grown
territory. GEOS rounds a buffer's join into round(turn / quantum) chords, so a chord spans
up to 1.5 quanta; growing the radius for a chord of one quantum left the buffer short by
about 1.1 times its tolerance (2.2 m of a 22 km territory) at every vertex whose outline
turns by about 1.45 quanta. The territory here is a regular polygon drawn with that turn
for the quanta a 22 km buffer used (59, 88 segments a quarter) and for a third count;
data 1 m inside the buffer, straight out from a vertex (whose nearest territory point is
that vertex: truth from pyproj.Geod alone), must have the pack applied.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from compliance import Checker
from compliance.verdict import Effect
from tests.builders import write_vector

GEOD = Geod(ellps="WGS84")
BUFFER_M = 22_224.0
CENTRE = (500_000.0, 4_000_000.0)  # UTM 52N, on the central meridian (129°E, 36.1°N)
RADIUS_M = 30_000.0


def _territory(folder: Path, quad_segs: int) -> tuple[Path, list[tuple[float, float]]]:
    """A regular polygon in UTM 52N whose every vertex turns by 1.45 quanta, in lon/lat."""
    turn = 1.45 * (np.pi / 2 / quad_segs)
    n = int(round(2 * np.pi / turn))
    t = np.arange(n) * 2 * np.pi / n
    xs, ys = CENTRE[0] + RADIUS_M * np.cos(t), CENTRE[1] + RADIUS_M * np.sin(t)
    lon, lat = Transformer.from_crs(32652, 4326, always_xy=True).transform(xs, ys)
    ring = [*zip(lon.tolist(), lat.tolist(), strict=True)]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "t"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }
    (folder / "territory.geojson").write_text(json.dumps(doc))
    pack = folder / "tt.yaml"
    pack.write_text(
        'pack: tt\nversion: "1"\ntitle: t\njurisdiction: TT\nterritory: territory.geojson\n'
        f"territory_buffer_m: {BUFFER_M}\nrules:\n"
        "  - id: TT-1\n    title: any data of the territory\n    when: dataset.area_km2 >= 0.0\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return pack, ring


@pytest.mark.parametrize("quad_segs", [59, 88, 40])
def test_data_just_inside_the_buffer_off_a_vertex_meets_the_territory(tmp_path, quad_segs):
    pack, ring = _territory(tmp_path, quad_segs)
    centre_lon, centre_lat = Transformer.from_crs(32652, 4326, always_xy=True).transform(*CENTRE)
    checker = Checker(packs=[str(pack)])
    for vertex in (ring[0], ring[len(ring) // 3], ring[len(ring) // 2]):
        azimuth, _, _ = GEOD.inv(centre_lon, centre_lat, *vertex)
        lon, lat, _ = GEOD.fwd(*vertex, azimuth, BUFFER_M - 1.0)
        # A square of 20 cm sides: every point of it is 0.86-1.14 m inside the buffer.
        d = 0.1 / 111_320.0
        square = shapely.box(lon - d, lat - d, lon + d, lat + d)
        _, _, dist = GEOD.inv(*vertex, lon, lat)
        assert dist == pytest.approx(BUFFER_M - 1.0, abs=1e-6)
        verdict = checker.check(write_vector(tmp_path / "inside.gpkg", [square], 4326))
        assert verdict.packs[0].applies, vertex
        assert verdict.verdict == Effect.deny


def test_control_data_well_beyond_the_buffer_meets_nothing(tmp_path):
    pack, ring = _territory(tmp_path, 59)
    centre_lon, centre_lat = Transformer.from_crs(32652, 4326, always_xy=True).transform(*CENTRE)
    azimuth, _, _ = GEOD.inv(centre_lon, centre_lat, *ring[0])
    lon, lat, _ = GEOD.fwd(*ring[0], azimuth, BUFFER_M * 1.01)
    d = 0.1 / 111_320.0
    path = write_vector(
        tmp_path / "beyond.gpkg", [shapely.box(lon - d, lat - d, lon + d, lat + d)], 4326
    )
    assert not Checker(packs=[str(pack)]).check(path).packs[0].applies
