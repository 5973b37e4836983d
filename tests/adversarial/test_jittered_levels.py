"""Contour levels written a little off, each feature its own few centimetres.

The move: contours whose level is in a field ``v`` are held (``test_unnamed_levels``). The
exporter adds noise of a centimetre to each feature's level (``v + uniform(-0.01,
0.01)``): heights as good as before, but every feature is now a level of its own. The
arcs of one contour then touch "another level", two hills share no level, and a large
layer holds more distinct values than any contour set: 1 m contours of Delhi, written as
arcs so, came out ``allow``.

Written further off (a fifth to a third of a step either way) the groups touch, and the
exporter reads our limit in the findings' documentation.

Claim under test: values that fall in groups narrower than the gaps between them are read
as their groups' levels too, values written further off on the lattice they gather
about, and the field is levels if any reading lies as contours do: arcs, two hills,
bands and filled contours, more values than ``MAX_LEVELS``, and arcs past the first
window (met from their shared ends) hold the verdict in two places and three formats. Fields that do not fall so (floors, areas, evenly or randomly spread
values) are read as written, and hold what they held.

Truth: the levels are the values rounded in the test; the rings are drawn with pyproj's
geodesic (``test_unnamed_levels``).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from compliance import Checker, Effect
from compliance.measure import contour_levels
from compliance.measure.level_groups import SEPARATION, group_bounds, level_starts, ranks
from compliance.measure.level_lattice import lattice_of, lattice_starts
from tests.adversarial.test_contour_areas import HIGH, LOW, _bands, _filled
from tests.adversarial.test_unnamed_levels import (
    DRIVERS,
    LEVELS,
    PLACES,
    UNSURE,
    _if_heights,
    _pieces,
    _rings,
    _rules,
    _squares,
    _street_segments,
    _windows,
    _write,
)

CM = 0.01


def _jitter(values, amplitude: float = CM, seed: int = 0) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values + np.random.default_rng(seed).uniform(-amplitude, amplitude, values.size)


def _two_hills(geoms: list, east_deg: float = 0.01) -> list:
    return geoms + [shapely.affinity.translate(g, east_deg, 0.0) for g in geoms]


@pytest.mark.parametrize("suffix", DRIVERS)
@pytest.mark.parametrize(("place", "epsg"), [("delhi", 4326), ("delhi", 32643), ("seoul", 5186)])
def test_arcs_written_off_their_levels_hold_the_verdict(tmp_path, place, epsg, suffix):
    arcs, levels = _pieces(place)
    values = _jitter(levels)
    assert np.unique(values).size == len(arcs)  # each arc a value of its own
    assert (np.round(values) == levels).all()
    verdict = Checker(packs=[PLACES[place][2]]).check(
        _write(tmp_path / f"c.{suffix}", arcs, {"v": values}, epsg)
    )
    assert verdict.profile.elevation_unsure and not verdict.profile.has_z
    assert verdict.verdict == Effect.review  # Delhi: allow on the last head
    assert _if_heights(verdict) == [PLACES[place][3]]
    said = verdict.profile.methods[f"elevation_unsure[{verdict.profile.layers[0].name}]"]
    assert f"v: 15 levels from {values.min():g} to {values.max():g}" in said
    assert "each value written a little off its level" in said


@pytest.mark.parametrize("drawn", ["lines", "filled", "bands"])
def test_two_hills_written_off_their_levels_hold_the_verdict(tmp_path, drawn):
    """Two hills, the second 7 m higher: the levels they share are a value each per hill."""
    if drawn == "bands":
        geoms, low, high = _two_hills(_bands("delhi")), np.r_[LOW, LOW + 7], np.r_[HIGH, HIGH + 7]
        fields = {"lo": _jitter(low, seed=1), "hi": _jitter(high, seed=2)}
    else:
        geoms = _two_hills(_rings("delhi") if drawn == "lines" else _filled("delhi"))
        fields = {"v": _jitter(np.r_[LEVELS, LEVELS + 7])}
    assert not shapely.intersects(geoms[0], geoms[len(geoms) // 2])
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", geoms, fields))
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert _if_heights(verdict) == ["in:IN-VERTICAL-3M (deny)"]


def test_more_values_than_levels_are_kept_as_groups(tmp_path, monkeypatch):
    """More distinct values than ``MAX_LEVELS`` (here 40; a national layer's millions of
    arcs in life): the field is kept as its groups' bounds, and met grouped."""
    monkeypatch.setattr(contour_levels, "MAX_LEVELS", 40)
    arcs, levels = _pieces("delhi")
    arcs, levels = _two_hills(arcs), np.r_[levels, levels]
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", arcs, {"v": _jitter(levels)}))
    assert len(arcs) == 120 and verdict.verdict == Effect.review
    assert "15 levels" in verdict.profile.methods["elevation_unsure[lines]"]


def test_arcs_past_the_first_window_are_not_cleared_by_their_own_ends(tmp_path, monkeypatch):
    """Past the first window lines are met from the ends they share: arcs of one contour,
    each written a value of its own, share ends as lines of two levels would (a road
    network, cleared). Read grouped they are one level, and pair nothing."""
    _windows(monkeypatch, 16)
    streets = _street_segments()[:16]
    lanes = np.random.default_rng(4).integers(1, 5, 16)
    arcs, levels = _pieces("delhi")
    path = _write(tmp_path / "c.gpkg", streets + arcs, {"v": np.r_[lanes, _jitter(levels)]})
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "not cleared" in verdict.profile.methods["elevation_unsure[lines]"]


@pytest.mark.parametrize("field", ["area_m2", "floors", "perimeter"])
def test_fields_that_do_not_fall_in_groups_hold_nothing(tmp_path, field):
    squares = _squares(n=20)
    rng = np.random.default_rng(7)
    values = {
        "area_m2": rng.uniform(50.0, 400.0, len(squares)),
        "floors": rng.integers(1, 15, len(squares)),
        "perimeter": np.round(rng.uniform(20.0, 80.0, len(squares)), 2),
    }[field]
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "b.gpkg", squares, {field: values}))
    assert not verdict.profile.elevation_unsure and UNSURE not in _rules(verdict)
    assert verdict.verdict == Effect.allow


@pytest.mark.parametrize("step", [1.0, 2.5, 0.1])
@pytest.mark.parametrize("amplitude", [0.001, 0.05, 0.15])
def test_groups_are_the_rounded_levels(step, amplitude):
    """Jitter up to a sixth of the step (the limit ``SEPARATION`` sets): the groups start
    in the values that round to each level, computed here by rounding."""
    levels = np.repeat(100.0 + step * np.arange(30), 6)
    values = _jitter(levels, amplitude * step, seed=3)
    starts = level_starts(np.sort(np.unique(values)), 5_000)
    assert starts is not None
    rounded = np.round((values - 100.0) / step)
    truth = [values[rounded == k].min() for k in np.unique(rounded)]
    np.testing.assert_array_equal(starts, truth)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(200.0, 260.0),  # written exactly: one value a level
        np.random.default_rng(1).uniform(0.0, 1000.0, 3_000),  # at random
        np.linspace(0.0, 1.0, 4_000),  # evenly
        np.random.default_rng(2).exponential(10.0, 3_000),  # areas, lengths
        np.r_[0.0, 0.001, 5.0, 5.001],  # two groups: no contour set
    ],
    ids=["exact", "random", "even", "exponential", "two"],
)
def test_values_that_do_not_fall_in_groups_are_not_grouped(values):
    assert level_starts(np.sort(np.unique(values)), 5_000) is None


def test_jitter_past_a_sixth_of_the_step_is_not_parted():
    """The limit, stated: groups as wide as half the gap between them are not parted."""
    levels = np.repeat(np.arange(30.0), 6)
    values = np.sort(np.unique(_jitter(levels, 0.25, seed=5)))
    widest = max(np.ptp(values[np.round(values) == k]) for k in range(30))
    assert widest * SEPARATION > 1.0 - widest
    assert level_starts(values, 5_000) is None


def test_group_bounds_keep_what_a_later_parting_needs():
    values = np.sort(np.unique(_jitter(np.repeat(np.arange(50.0), 8), 0.05, seed=6)))
    starts = level_starts(values, 5_000)
    bounds = group_bounds(values, starts)
    assert bounds.size == 100
    np.testing.assert_array_equal(level_starts(bounds, 5_000), starts)
    more = np.sort(np.unique(np.r_[bounds, _jitter(np.arange(50.0), 0.05, seed=7)]))
    np.testing.assert_array_equal(np.round(level_starts(more, 5_000)), np.arange(50.0))


def test_far_decoys_do_not_make_the_levels_one_group(tmp_path, monkeypatch):
    """Two features of far levels: the clearest gaps in the values are theirs, and parting
    there would read every contour as one level. A group of half the values is no level."""
    values = _jitter(np.r_[np.repeat(LEVELS, 4), 5_000.0, 9_000.0])
    starts = level_starts(np.sort(values), 5_000)
    np.testing.assert_array_equal(np.round(starts), np.r_[LEVELS, 5_000.0, 9_000.0])
    monkeypatch.setattr(contour_levels, "MAX_LEVELS", 40)
    arcs, levels = _pieces("delhi")
    decoys = [shapely.affinity.translate(a, 0.02, 0.0) for a in arcs[:2]]
    arcs, levels = _two_hills(arcs) + decoys, np.r_[levels, levels, 5_000.0, 9_000.0]
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", arcs, {"v": _jitter(levels)}))
    assert verdict.verdict == Effect.review
    assert "17 levels" in verdict.profile.methods["elevation_unsure[lines]"]


# Written well off: up to a third of a step, where the groups touch (``level_lattice``).
@pytest.mark.parametrize(("place", "epsg"), [("delhi", 32643), ("seoul", 5186)])
@pytest.mark.parametrize("amplitude", [0.2, 0.3])
def test_arcs_written_well_off_their_levels_hold_the_verdict(tmp_path, place, epsg, amplitude):
    arcs, levels = _pieces(place)
    arcs, levels = _two_hills(arcs), np.r_[levels, levels]
    values = _jitter(levels, amplitude, seed=9)
    assert level_starts(np.unique(values), 5_000) is None  # the groups touch
    verdict = Checker(packs=[PLACES[place][2]]).check(
        _write(tmp_path / "c.gpkg", arcs, {"v": values}, epsg)
    )
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert _if_heights(verdict) == [PLACES[place][3]]
    assert "read on the lattice" in verdict.profile.methods["elevation_unsure[lines]"]


def test_rings_written_well_off_a_value_each_hold_the_verdict(tmp_path):
    """The noise drawn once a ring, its four arcs sharing it: most features then share
    their value with others, and eight hills' rings give 120 values to find the lattice in."""
    arcs, levels = _pieces("delhi")
    hills = 8
    arcs = [a for h in range(hills) for a in _two_hills(arcs, 0.01 * h)[len(arcs) :]]
    ring = np.repeat(np.arange(hills), len(levels)) * 1_000 + np.tile(levels, hills)
    keys = np.unique(ring)
    noise = dict(zip(keys, _jitter(np.zeros(keys.size), 0.3, seed=12), strict=True))
    values = np.tile(levels, hills) + np.array([noise[k] for k in ring])
    assert np.unique(values).size == len(values) // 4 == 120
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", arcs, {"v": values}))
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "read on the lattice" in verdict.profile.methods["elevation_unsure[lines]"]


def test_more_values_than_levels_well_off_are_kept_on_their_lattice(tmp_path, monkeypatch):
    monkeypatch.setattr(contour_levels, "MAX_LEVELS", 40)
    arcs, levels = _pieces("delhi")
    arcs, levels = _two_hills(arcs), np.r_[levels, levels]
    path = _write(tmp_path / "c.gpkg", arcs, {"v": _jitter(levels, 0.3, seed=9)})
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.verdict == Effect.review
    assert "15 levels" in verdict.profile.methods["elevation_unsure[lines]"]


@pytest.mark.parametrize("levels", [15, 300, 3_000])
@pytest.mark.parametrize("amplitude", [0.05, 0.2, 0.35])
def test_the_lattice_puts_each_value_on_its_rounded_level(levels, amplitude):
    truth = np.tile(np.arange(levels, dtype=float), max(8, 6_000 // levels)) * 2.5 + 100.0
    values = _jitter(truth, amplitude * 2.5, seed=11)
    lattice = lattice_of(values, 5_000)
    assert lattice is not None and lattice[0] == pytest.approx(2.5, rel=5e-3)
    starts = lattice_starts(lattice, values.min(), values.max(), 5_000)
    assert starts.size == levels
    np.testing.assert_array_equal(ranks(starts, values), np.round((truth - 100.0) / 2.5))


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).uniform(0.0, 1000.0, 3_000),
        np.random.default_rng(2).exponential(10.0, 300),
        np.random.default_rng(3).lognormal(3.0, 1.0, 2_000),
        np.random.default_rng(4).normal(10.0, 3.0, 5_000),
        np.random.default_rng(5).pareto(1.5, 1_000),
        np.repeat(np.arange(30.0), 6) + np.random.default_rng(6).uniform(-0.45, 0.45, 180),
    ],
    ids=["uniform", "exponential", "lognormal", "normal", "pareto", "nearly_even"],
)
def test_values_without_a_lattice_have_none(values):
    """Spreads of areas and lengths peak at low frequencies, slowly falling: no lattice.
    Noise of nearly half a step leaves too little of one: the limit, stated."""
    assert lattice_of(values, 5_000) is None
