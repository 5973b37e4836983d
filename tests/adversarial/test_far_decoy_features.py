"""A feature far away, added so that what lies beside the others is not met.

The move: numbers hidden beside a layer (a plain table, text GDAL does not read) are met
with where the layer's features lie, but only with a box narrower than 10 degrees:
numbers anywhere on Earth could be anything. So the sender adds one feature on the far
side of the world (a waypoint at 25 N 140 E, a point in the Southern Ocean, a vertex of
a multipoint), the layer's box is then wider than the limit, and on the previous head the
table of precise positions beside the coarse points went unmet: ``allow``.

Claim under test: the features are met where they gather (``feature_places``), so the
positions are found beside the coarse points whatever else the layer holds, in three
places and in lon/lat and projected CRSs; a layer spread over a country wider than
10 degrees is met in cells; features in more places than the windows hold leave hidden
numbers unpassed; and numbers that are no positions there still pass.

Truth: positions drawn here with pyproj's geodesic and carried with pyproj; the layers
and tables written with pyogrio (GDAL); what GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from compliance import Checker, Effect
from compliance.measure.feature_places import MAX_WINDOWS, FeaturePlaces
from tests.adversarial.attribute_layers import held
from tests.adversarial.snapped_points import PLACES, around

DECOYS = {"far east": (140.0, 25.0), "southern ocean": (10.0, -60.0)}
PROJECTED = {"seoul": 5186, "sydney": 28356, "denver": 32613}  # Korea 2000, MGA 56, UTM 13N
N = 30
UNREAD = "MAPGATE-UNREAD-GEOMETRIES"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _positions(place: str) -> tuple[np.ndarray, np.ndarray]:
    return around(place, N, seed=41)


def _gpx(path: Path, place: str, decoys: list[tuple[float, float]], hidden: bool) -> Path:
    """Snapped waypoints, each with its precise position in a comment after it."""
    precise, coarse = _positions(place)
    points = [
        f'<wpt lat="{y:.3f}" lon="{x:.3f}"><name>p{i}</name></wpt>'
        + (f"<!-- {px:.7f},{py:.7f} -->" if hidden else "")
        for i, ((x, y), (px, py)) in enumerate(zip(coarse, precise, strict=True))
    ]
    points += [f'<wpt lat="{y:.3f}" lon="{x:.3f}"><name>far</name></wpt>' for x, y in decoys]
    path.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1">\n' + "\n".join(points) + "\n</gpx>\n"
    )
    frame = pyogrio.read_dataframe(path, layer="waypoints")
    assert len(frame) == N + len(decoys)  # GDAL reads the decoys as waypoints too
    return path


def _gpkg(path: Path, geoms: np.ndarray, epsg: int, table: dict[str, object] | None) -> Path:
    """A layer ``sites`` and, given ``table``, a plain table ``survey_log`` beside it."""
    kind = {0: "Point", 4: "MultiPoint"}[int(shapely.get_type_id(geoms[0]))]
    pyogrio.write_arrow(
        pa.table({"id": list(range(len(geoms))), "geometry": shapely.to_wkb(geoms)}), path,
        layer="sites", driver="GPKG", geometry_name="geometry", geometry_type=kind,
        crs=f"EPSG:{epsg}",
    )  # fmt: skip
    if table is not None:
        pyogrio.write_arrow(pa.table(table), path, layer="survey_log", append=True)
    return path


def _table_columns(checker: Checker, path: Path) -> tuple[list[str], Effect]:
    verdict = checker.check(path)
    (table,) = [layer for layer in verdict.profile.layers if layer.name == "survey_log"]
    if table.coordinate_columns:
        assert held(verdict)
    return table.coordinate_columns or [], verdict.verdict


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("decoy", DECOYS)
def test_a_far_waypoint_does_not_hide_positions_in_comments(tmp_path, checker, place, decoy):
    path = _gpx(tmp_path / "w.gpx", place, [DECOYS[decoy]], hidden=True)
    verdict = checker.check(path)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


@pytest.mark.parametrize("place", PLACES)
def test_far_waypoints_without_hidden_positions_stay_clean(tmp_path, checker, place):
    path = _gpx(tmp_path / "w.gpx", place, list(DECOYS.values()), hidden=False)
    verdict = checker.check(path)
    assert UNREAD not in {f.rule_id for f in verdict.findings}


def _in_crs(lonlat: np.ndarray, epsg: int) -> np.ndarray:
    to = Transformer.from_crs(4326, epsg, always_xy=True)
    return np.column_stack(to.transform(lonlat[:, 0], lonlat[:, 1]))


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("frame", ["lon/lat", "projected"])
@pytest.mark.parametrize("decoy", ["a far point", "a far vertex of one multipoint"])
def test_a_far_feature_does_not_hide_a_plain_table(tmp_path, checker, place, frame, decoy):
    precise, coarse = _positions(place)
    epsg = 4326 if frame == "lon/lat" else PROJECTED[place]
    far = np.array([DECOYS["far east"] if place != "seoul" else DECOYS["southern ocean"]])
    if frame == "projected":  # a decoy the CRS can still carry: 25 degrees of latitude off
        far = np.array([[PLACES[place][0], PLACES[place][1] - np.sign(PLACES[place][1]) * 25]])
    sites = np.concatenate([coarse, far])
    if epsg != 4326:
        sites = _in_crs(sites, epsg)
    geoms = shapely.points(sites)
    if decoy == "a far vertex of one multipoint":
        geoms = np.array([shapely.multipoints(sites)])  # one feature holds them all
    table = {"k": list(range(N)), "p": precise[:, 0], "q": precise[:, 1]}
    path = _gpkg(tmp_path / "s.gpkg", geoms, epsg, table)
    box = pyogrio.read_info(path, layer="sites")["total_bounds"]
    assert box[3] - box[1] > 10 if epsg == 4326 else box[3] - box[1] > 1_000_000
    columns, effect = _table_columns(checker, path)
    assert columns == ["p", "q"]
    assert effect not in (Effect.allow, Effect.allow_with_conditions)


def test_a_table_beside_a_layer_spread_wider_than_ten_degrees_is_met_in_cells(tmp_path, checker):
    """Points every 0.5 degree from Seoul 20 degrees west (touching tiles, one group too
    wide for a window), the table of positions beside those near Seoul."""
    precise, coarse = _positions("seoul")
    chain = np.column_stack([126.978 - np.arange(0, 20, 0.5), np.full(40, 37.566)])
    path = _gpkg(tmp_path / "s.gpkg", shapely.points(np.concatenate([coarse, chain])), 4326,
                 {"k": list(range(N)), "p": precise[:, 0], "q": precise[:, 1]})  # fmt: skip
    assert _table_columns(checker, path)[0] == ["p", "q"]


def test_a_chain_of_decoys_does_not_cut_a_countrys_table_apart(tmp_path, checker):
    """Points over a country 7.4 x 4 degrees (126.2-133.6 E: four tiles that grids
    offset by half a cell would cut) and a chain of decoys every degree east to 154 E,
    touching: one group too wide for a window. Eight precise positions, two by each
    corner, are met whole in one cell."""
    rng = np.random.default_rng(45)
    corners = np.array([(126.5, 34.5), (133.2, 34.6), (126.6, 37.9), (133.3, 38.0)])
    precise = np.repeat(corners, 2, axis=0) + rng.uniform(-0.05, 0.05, (8, 2))
    country = np.column_stack([rng.uniform(126.2, 133.6, 300), rng.uniform(34.2, 38.3, 300)])
    chain = np.column_stack([np.arange(134.5, 154.5, 1.0), np.full(20, 36.0)])
    sites = np.round(np.concatenate([country, precise, chain]), 3)
    table = {"k": list(range(8)), "p": precise[:, 0], "q": precise[:, 1]}
    path = _gpkg(tmp_path / "s.gpkg", shapely.points(sites), 4326, table)
    assert _table_columns(checker, path)[0] == ["p", "q"]


@pytest.mark.parametrize("place", PLACES)
def test_numbers_that_are_no_positions_there_stay_clean_beside_far_features(
    tmp_path, checker, place
):
    _, coarse = _positions(place)
    rng = np.random.default_rng(43)
    geoms = shapely.points(np.concatenate([coarse, np.array(list(DECOYS.values()))]))
    table = {"k": list(range(N)), "temp": rng.uniform(10, 30, N), "hum": rng.uniform(20, 90, N)}
    path = _gpkg(tmp_path / "s.gpkg", geoms, 4326, table)
    assert _table_columns(checker, path)[0] == []


def _scattered(count: int) -> np.ndarray:
    """Points in ``count`` places 10 degrees apart, none touching another's tile."""
    grid = np.array([(i % 30, i // 30) for i in range(count)], dtype=float)
    return np.column_stack([-150 + grid[:, 0] * 10, -60 + grid[:, 1] * 10])


def test_features_in_more_places_than_windows_leave_a_table_unpassed(tmp_path, checker):
    """Fail closed: with the features in more places than windows are met in, a table of
    numbers that vary is held, the reason said; the same layer alone is not."""
    rng = np.random.default_rng(44)
    points = shapely.points(_scattered(MAX_WINDOWS + 6))
    alone = checker.check(_gpkg(tmp_path / "alone.gpkg", points, 4326, None))
    assert not held(alone)
    table = {"k": list(range(N)), "a": rng.uniform(0, 99, N), "b": rng.uniform(0, 99, N)}
    columns, effect = _table_columns(checker, _gpkg(tmp_path / "t.gpkg", points, 4326, table))
    assert columns == ["k", "a", "b"]
    assert effect not in (Effect.allow, Effect.allow_with_conditions)


def test_places_of_points_in_distinct_tiles_are_windows_of_their_own():
    places = FeaturePlaces(CRS.from_epsg(4326))
    points = np.array([[126.9, 37.5], [126.95, 37.55], [10.0, -60.0]])
    boxes = np.concatenate([points, points], axis=1)
    box = np.concatenate([points.min(axis=0), points.max(axis=0)])
    places.add(box, boxes, np.ones(3, dtype=bool), points, np.arange(3))
    found = places.places()
    assert found.complete
    # The tiles (2 degrees a side) that hold them, taken whole: one window each.
    assert sorted(w.box for w in found.windows) == [(10.0, -60.0, 12.0, -58.0),
                                                    (126.0, 36.0, 128.0, 38.0)]  # fmt: skip


def test_a_wide_features_vertices_are_placed_one_by_one():
    places = FeaturePlaces(CRS.from_epsg(4326))
    vertices = np.array([[126.9, 37.5], [126.95, 37.55], [10.0, -60.0]])
    box = np.concatenate([vertices.min(axis=0), vertices.max(axis=0)])
    places.add(box, box[None, :], np.ones(1, dtype=bool), vertices, np.zeros(3, dtype=int))
    assert len(places.places().windows) == 2


def test_too_many_places_are_incomplete():
    places = FeaturePlaces(CRS.from_epsg(4326))
    points = _scattered(MAX_WINDOWS + 1)
    boxes = np.concatenate([points, points], axis=1)
    box = np.concatenate([points.min(axis=0), points.max(axis=0)])
    places.add(box, boxes, np.ones(len(points), dtype=bool), points, np.arange(len(points)))
    found = places.places()
    assert not found.complete and not found.windows
