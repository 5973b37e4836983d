"""Contour levels kept in a field whose name says nothing.

The move: a field named as heights (``ELEVATION``) beside 2-D contour lines makes them 3-D
data, with the rules that follow (``test_named_heights``). The exporter renames it ``v``
(or writes the level as text, moves it off a round step, or cuts each contour into
pieces), and 1 m contours of Delhi drawn at 2 m came out
``allow`` again, where the same lines with the level as Z are denied by IN-VERTICAL-3M.

Claim under test: a numeric field whose values lie on the lines as contour levels do (each
line crossing no line of another level, the nearest lines of other levels being of the next
level up or down) holds the verdict for review where reading it as heights would change it
(``MAPGATE-ELEVATION-UNSURE``, naming the rules), in two places, three formats and two
CRSs; where both readings agree nothing is held. Numbers that do not lie so (lane counts on
crossing roads, floors of buildings, row numbers, two levels) hold nothing.

Truth: the rings are drawn here with pyproj's geodesic (a ring every 20 m, a vertex every
2 m or 10 m on the ground); the rules heights fire are those the same rings with their
level as Z fire; the layout of the controls is checked with shapely here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from compliance import Checker, Effect
from compliance.measure import contour_levels, level_values
from compliance.measure.contour_levels import MAX_LEVELS
from compliance.readers import sources

UNSURE = "MAPGATE-ELEVATION-UNSURE"
# place -> (lon, lat, pack, the rule heights fire there, vertex spacing in metres)
PLACES = {
    "delhi": (77.209, 28.614, "in", "in:IN-VERTICAL-3M (deny)", 2.0),
    "seoul": (126.978, 37.566, "kr", "kr:KR-IMAGERY-COORDINATES-3D (allow_with_conditions)", 10.0),
}
LEVELS = np.arange(200.0, 215.0)
DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}


def _circle(place: str, radius: float, spacing: float | None = None) -> np.ndarray:
    lon, lat, _, _, default = PLACES[place]
    n = int(2 * np.pi * radius / (spacing or default))
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    x, y, _ = Geod(ellps="WGS84").fwd(
        np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius)
    )
    return np.column_stack([np.append(x, x[0]), np.append(y, y[0])])


def _rings(place: str, levels=LEVELS, spacing: float | None = None, z: bool = False):
    """A ring around a hill every 20 m, one per level, innermost highest... as drawn."""
    out = []
    for i, level in enumerate(levels):
        xy = _circle(place, 100.0 + 20.0 * i, spacing)
        out.append(shapely.linestrings(np.column_stack([xy, np.full(len(xy), level)]) if z else xy))
    return out


def _write(path, geometry, fields: dict[str, object], epsg: int = 4326, layer: str = "lines"):
    frame = gpd.GeoDataFrame(fields, geometry=list(geometry), crs=4326).to_crs(epsg)
    pyogrio.write_dataframe(frame, path, driver=DRIVERS[path.suffix[1:]], layer=layer)
    return path


def _rules(verdict) -> set[str]:
    return {f.rule_id for f in verdict.findings}


def _if_heights(verdict) -> list[str]:
    return next(f for f in verdict.findings if f.rule_id == UNSURE).facts["rules_if_heights"]


@pytest.mark.parametrize("suffix", DRIVERS)
@pytest.mark.parametrize(("place", "epsg"), [("delhi", 4326), ("delhi", 32643), ("seoul", 5186)])
def test_levels_in_a_field_named_v_hold_the_verdict(tmp_path, place, epsg, suffix):
    checker = Checker(packs=[PLACES[place][2]])
    verdict = checker.check(_write(tmp_path / f"c.{suffix}", _rings(place), {"v": LEVELS}, epsg))
    as_z = checker.check(_write(tmp_path / f"z.{suffix}", _rings(place, z=True), {"id": range(15)}))
    flat = checker.check(_write(tmp_path / f"f.{suffix}", _rings(place), {"id": range(15)}))
    fired = {f"{PLACES[place][2]}:{f.rule_id} ({f.effect.value})" for f in as_z.findings}
    fired -= {f"{PLACES[place][2]}:{f.rule_id} ({f.effect.value})" for f in flat.findings}
    assert fired == {PLACES[place][3]}
    assert not verdict.profile.has_z and verdict.profile.elevation_unsure
    assert not flat.profile.elevation_unsure and UNSURE not in _rules(flat)
    assert verdict.verdict == Effect.review  # Delhi: allow on the last head
    assert _if_heights(verdict) == [PLACES[place][3]]
    layer = verdict.profile.layers[0].name
    assert "v: 15 levels" in verdict.profile.methods[f"elevation_unsure[{layer}]"]


def _pieces(place: str) -> tuple[list, list[float]]:
    """Each ring cut into four arcs that meet end to end, written in a shuffled order."""
    geoms, values = [], []
    for ring, level in zip(_rings(place), LEVELS, strict=True):
        xy = shapely.get_coordinates(ring)
        cuts = np.linspace(0, len(xy) - 1, 5).astype(int)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            geoms.append(shapely.linestrings(xy[a : b + 1]))
            values.append(level)
    order = np.random.default_rng(3).permutation(len(geoms))
    return [geoms[i] for i in order], [values[i] for i in order]


@pytest.mark.parametrize(
    "variant", ["off_step", "depths", "text", "pieces", "two_hills", "float_step"]
)
def test_the_levels_are_found_however_they_are_laid_out(tmp_path, variant):
    rings = _rings("delhi")
    fields: dict[str, object] = {"v": LEVELS}
    if variant == "off_step":
        fields = {"v": 200.37 + 2.5 * np.arange(15)}
    elif variant == "float_step":
        fields = {"v": np.round(0.1 * np.arange(15) + 12.3, 1)}
    elif variant == "depths":
        fields = {"v": -LEVELS}
    elif variant == "text":
        fields = {"v": [f"{v:.0f}" for v in LEVELS]}
    elif variant == "pieces":
        rings, values = _pieces("delhi")
        fields = {"v": values}
        assert shapely.touches(rings[0], rings).sum() >= 2  # arcs of a level meet end to end
    elif variant == "two_hills":
        far = [shapely.affinity.translate(r, 0.01, 0.0) for r in rings]  # 1 km east
        assert not shapely.intersects(shapely.MultiLineString(rings), shapely.MultiLineString(far))
        rings = rings + far
        fields = {"v": np.concatenate([LEVELS, LEVELS + 7])}
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", rings, fields))
    assert verdict.profile.elevation_unsure and not verdict.profile.has_z
    assert verdict.verdict == Effect.review
    assert _if_heights(verdict) == ["in:IN-VERTICAL-3M (deny)"]


@pytest.mark.parametrize("decoys", [1, 3])
def test_lines_drawn_across_the_contours_do_not_clear_them(tmp_path, decoys):
    """A decoy of a far level drawn across every ring touches every contour: set aside
    (with one ring each), it does not spoil the rest."""
    rings = _rings("delhi")
    lon, lat = PLACES["delhi"][:2]
    across = [
        shapely.segmentize(shapely.LineString([(lon - 0.004, lat + k * 1e-4), (lon + 0.004, lat + k * 1e-4)]), 2e-5)
        for k in range(decoys)
    ]  # fmt: skip
    assert all(shapely.intersects(line, rings).all() for line in across)
    fields = {"v": np.concatenate([LEVELS, np.full(decoys, 999.0)])}
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", rings + across, fields))
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert _if_heights(verdict) == ["in:IN-VERTICAL-3M (deny)"]


def test_where_both_readings_agree_nothing_is_held(tmp_path):
    """Drawn every 5 m, the rings are coarser than India's 3 m as lines and as heights."""
    rings = _rings("delhi", spacing=5.0)
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", rings, {"v": LEVELS}))
    assert verdict.profile.elevation_unsure
    assert UNSURE not in _rules(verdict) and verdict.verdict == Effect.allow


def test_a_field_named_as_heights_is_heights_not_unsure(tmp_path):
    path = _write(tmp_path / "c.gpkg", _rings("delhi"), {"ELEVATION": LEVELS, "v": LEVELS})
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.has_z and not verdict.profile.elevation_unsure
    assert verdict.verdict == Effect.deny and UNSURE not in _rules(verdict)


def _delhi_utm() -> tuple[float, float]:
    """Delhi in UTM 43N, where the controls are drawn in metres."""
    return Transformer.from_crs(4326, 32643, always_xy=True).transform(*PLACES["delhi"][:2])


def _lonlat(geoms: list) -> list:
    """Geometries drawn in UTM 43N, as longitude and latitude."""
    back = Transformer.from_crs(32643, 4326, always_xy=True)
    return [shapely.transform(g, lambda c: np.column_stack(back.transform(*c.T))) for g in geoms]


def _squares(n: int = 12, side_m: float = 10.0, gap_m: float = 5.0) -> list:
    """Buildings in an n x n block of Delhi, each ``side_m`` a side, ``gap_m`` apart."""
    x0, y0 = _delhi_utm()
    out = []
    for i in range(n):
        for j in range(n):
            x, y = x0 + i * (side_m + gap_m), y0 + j * (side_m + gap_m)
            corners = np.array(
                [[x, y], [x + side_m, y], [x + side_m, y + side_m], [x, y + side_m], [x, y]]
            )
            # a vertex every 2 m along each side: drawn finer than 3 m
            out.append(shapely.segmentize(shapely.Polygon(corners), 2.0))
    return _lonlat(out)


def _roads(n: int = 10, length_m: float = 400.0) -> list:
    """A grid of streets in Delhi: every street crosses every street the other way."""
    x0, y0 = _delhi_utm()
    lines = []
    for k in range(n):
        offset = k * length_m / n
        lines.append(shapely.LineString([(x0, y0 + offset), (x0 + length_m, y0 + offset)]))
        lines.append(shapely.LineString([(x0 + offset, y0), (x0 + offset, y0 + length_m)]))
    return _lonlat([shapely.segmentize(line, 2.0) for line in lines])


@pytest.mark.parametrize("control", ["lanes", "streets", "floors", "ids", "two_values", "points"])
def test_numbers_that_do_not_lie_as_contours_hold_nothing(tmp_path, control):
    rng = np.random.default_rng(8)
    if control == "lanes":
        geoms = _roads()
        assert shapely.crosses(geoms[2], geoms[5])
        fields = {"lanes": np.arange(len(geoms)) % 4 + 1}
    elif control == "streets":
        geoms = _street_segments()
        assert shapely.touches(geoms[0], geoms[1])
        fields = {"lanes": rng.integers(1, 5, len(geoms))}
    elif control == "floors":
        geoms = _squares()
        assert not shapely.intersects(geoms[0], geoms[1:]).any()
        fields = {"floors": rng.integers(1, 11, len(geoms))}
    elif control == "ids":
        geoms = _squares()
        fields = {"id": np.arange(1, len(geoms) + 1)}
    elif control == "two_values":
        geoms = _rings("delhi")
        fields = {"v": np.arange(15) % 2}
    else:
        geoms = [shapely.Point(c) for r in _rings("delhi") for c in shapely.get_coordinates(r)[:5]]
        fields = {"v": np.repeat(LEVELS, 5)}
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", geoms, fields))
    assert not verdict.profile.elevation_unsure, verdict.profile.methods
    assert UNSURE not in _rules(verdict)
    # Points are drawn at no detail the check can measure: held for that, and only that.
    unmeasured = control == "points"
    assert verdict.verdict == (Effect.review if unmeasured else Effect.allow)
    assert ("IN-UNMEASURED" in _rules(verdict)) == unmeasured


def _street_segments(n: int = 12, step_m: float = 50.0) -> list:
    """A street grid in Delhi cut at every junction: segments that meet end to end."""
    x0, y0 = _delhi_utm()
    out = []
    for i in range(n):
        for j in range(n):
            x, y = x0 + i * step_m, y0 + j * step_m
            for dx, dy in ((step_m, 0.0), (0.0, step_m)):
                line = shapely.LineString([(x, y), (x + dx, y + dy)])
                out.append(shapely.segmentize(line, 2.0))
    return _lonlat(out)


def _windows(monkeypatch, rows: int) -> None:
    """Geometry held a window of one batch of ``rows`` features at a time."""
    monkeypatch.setattr(contour_levels, "MAX_LEVEL_BYTES", 1_000)
    monkeypatch.setattr(sources, "BATCH_SIZE", rows)


def test_a_large_street_network_is_cleared_by_its_shared_ends(tmp_path, monkeypatch):
    """Past the first window, lines of two levels that end where the other ends clear
    the field batch by batch: no fifth of the streets set aside could part them."""
    _windows(monkeypatch, 16)
    streets = _street_segments()
    lanes = np.random.default_rng(4).integers(1, 5, len(streets))
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", streets, {"lanes": lanes}))
    assert not verdict.profile.elevation_unsure, verdict.profile.methods
    assert verdict.verdict == Effect.allow


def test_contours_met_in_the_first_window_are_found(tmp_path, monkeypatch):
    _windows(monkeypatch, 64)
    verdict = Checker(packs=["in"]).check(
        _write(tmp_path / "c.gpkg", _rings("delhi"), {"v": LEVELS})
    )
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "100% of its features" in verdict.profile.methods["elevation_unsure[lines]"]


def test_contours_after_a_window_of_streets_are_not_cleared(tmp_path, monkeypatch):
    """The first window holds streets (no contours there); the contours come after it,
    where lines are met from their ends only: they share none, and stay unmet."""
    _windows(monkeypatch, 16)
    streets = _street_segments()[:16]
    lanes = np.random.default_rng(4).integers(1, 5, 16)
    path = _write(tmp_path / "c.gpkg", streets + _rings("delhi"), {"v": np.r_[lanes, LEVELS]})
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "not cleared" in verdict.profile.methods["elevation_unsure[lines]"]


def test_crossing_lines_past_the_first_window_are_not_cleared(tmp_path, monkeypatch):
    """Past the first window, levels on lines that cross (sharing no end) may still be
    contours for all the batches tell: they stay unmet."""
    _windows(monkeypatch, 4)
    path = _write(tmp_path / "c.gpkg", _roads(), {"lanes": np.arange(20) % 4 + 1})
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "not cleared" in verdict.profile.methods["elevation_unsure[lines]"]


def test_many_texts_are_read_as_few_are(monkeypatch):
    """Past ``FEW_TEXTS`` rows of text a batch, Arrow's kernels pick the texts shaped as
    numbers; below it, Python: both read the same numbers, and nothing else."""
    texts = [f"{v}" for v in range(600)] + ["name 1", " 12.5 ", "-3e2", "x12", "12x", "", None]
    column = pa.array(texts * 2)
    assert len(column) > level_values.FEW_TEXTS
    many = level_values.row_numbers(column, MAX_LEVELS)
    monkeypatch.setattr(level_values, "FEW_TEXTS", 10_000)
    few = level_values.row_numbers(column, MAX_LEVELS)
    assert many is not None and few is not None
    assert np.array_equal(many, few, equal_nan=True)
    assert np.array_equal(
        many[598:607],
        [598, 599, np.nan, 12.5, -300, np.nan, np.nan, np.nan, np.nan],
        equal_nan=True,
    )
