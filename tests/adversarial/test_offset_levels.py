"""Contour levels lifted off each other's step, hill by hill.

The move: contours whose level is in a field ``v`` are held (``test_unnamed_levels``),
and read grouped where each is written a little off (``test_jittered_levels``). The
exporter lifts every other hill's contours by half a step (200.5, 201.5, ...) or each
hill by its own share of one. In the order of all values a ring's neighbours one level
up or down are then a step and a half away (the other hill's values lie between), and
no hill lies as contours do: two hills of Delhi's 1 m contours so lifted came out
``allow``.

Claim under test: values whose most frequent difference (wider than the narrowest gap)
is a step are read on that step too, and hold the verdict for lines, filled contours
and bands lifted so, in two places; a row number and fields of buildings hold nothing.

Truth: the step and the lifts are chosen in the test; the rings are drawn with pyproj's
geodesic (``test_unnamed_levels``).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from compliance import Checker, Effect
from compliance.measure.level_groups import common_step, ranks, readings
from tests.adversarial.test_contour_areas import HIGH, LOW, _bands, _filled
from tests.adversarial.test_unnamed_levels import (
    LEVELS,
    PLACES,
    UNSURE,
    _if_heights,
    _rings,
    _rules,
    _squares,
    _write,
)


def _hills(geoms: list, lifts: list[float]) -> tuple[list, np.ndarray]:
    """The hill copied 1 km further east for each lift, and each copy's index."""
    out, hill = [], []
    for i, _ in enumerate(lifts):
        out += [shapely.affinity.translate(g, 0.01 * i, 0.0) for g in geoms]
        hill += [i] * len(geoms)
    return out, np.array(hill)


@pytest.mark.parametrize("lifts", [[0.0, 0.5], [0.0, 7.5], [0.0, 0.3, 0.61], [0.0, 0.5, 0.25]])
@pytest.mark.parametrize("drawn", ["lines", "filled", "bands"])
@pytest.mark.parametrize("place", ["delhi", "seoul"])
def test_hills_lifted_off_each_others_step_hold_the_verdict(tmp_path, place, drawn, lifts):
    pack = PLACES[place][2]
    if drawn == "bands":
        geoms, hill = _hills(_bands(place), lifts)
        lift = np.asarray(lifts)[hill]
        fields = {"lo": np.tile(LOW, len(lifts)) + lift, "hi": np.tile(HIGH, len(lifts)) + lift}
    else:
        geoms, hill = _hills(_rings(place) if drawn == "lines" else _filled(place), lifts)
        fields = {"v": np.tile(LEVELS, len(lifts)) + np.asarray(lifts)[hill]}
    first = next(iter(fields.values()))
    # In the order of all values, a hill's next level is not the next value.
    order = np.searchsorted(np.unique(first), first)
    assert (np.diff(order[:15]) > 1).any()
    verdict = Checker(packs=[pack]).check(_write(tmp_path / "c.gpkg", geoms, fields))
    assert verdict.profile.elevation_unsure and not verdict.profile.has_z
    assert verdict.verdict == Effect.review  # allow on the last head
    assert _if_heights(verdict) == [PLACES[place][3]]


def test_a_lift_is_said():
    geoms, hill = _hills(_rings("delhi"), [0.0, 0.5])
    values = np.tile(LEVELS, 2) + 0.5 * hill
    assert common_step(np.unique(values), 5_000) == 1.0
    levels = readings(np.unique(values), True, 5_000)["stepped"]
    # Each hill's rings one level apart, whatever its lift: the lift is under a step.
    np.testing.assert_array_equal(ranks(levels, values), np.tile(np.arange(15), 2))


def test_a_lift_is_said_in_the_profile(tmp_path):
    geoms, hill = _hills(_rings("delhi"), [0.0, 0.5])
    path = _write(tmp_path / "c.gpkg", geoms, {"v": np.tile(LEVELS, 2) + 0.5 * hill})
    said = Checker(packs=["in"]).check(path).profile.methods["elevation_unsure[lines]"]
    assert "v: 15 levels from 200 to 214.5" in said and "read on their common step" in said


@pytest.mark.parametrize(
    ("values", "step"),
    [
        (np.r_[LEVELS, LEVELS + 0.5], 1.0),  # half a step: a lattice of half steps
        (np.r_[LEVELS, LEVELS + 0.3], 1.0),
        (200.37 + 2.5 * np.r_[np.arange(15), np.arange(15) + 0.4], 2.5),
        (np.arange(1.0, 16.0), 2.0),  # floors: their whole step is the narrowest gap
        (np.random.default_rng(0).uniform(0.0, 100.0, 3_000), None),
        (np.r_[0.0, 1.0, 2.0], None),
    ],
    ids=["half", "three_tenths", "float_step", "floors", "random", "few"],
)
def test_the_common_step_is_the_most_frequent_wider_difference(values, step):
    found = common_step(np.unique(values), 5_000)
    assert found == step if step is None else found == pytest.approx(step, rel=1e-12)


def test_a_row_number_is_no_level_read_any_way(tmp_path):
    """Rings numbered 0..14: each value its own, counting from 0, is a row number, though
    read on a step of two its rings lie as contours do."""
    verdict = Checker(packs=["in"]).check(
        _write(tmp_path / "c.gpkg", _rings("delhi"), {"id": np.arange(15)})
    )
    assert not verdict.profile.elevation_unsure and UNSURE not in _rules(verdict)


@pytest.mark.parametrize("field", ["floors", "half_floors"])
def test_buildings_read_on_a_step_hold_nothing(tmp_path, field):
    squares = _squares(n=20)
    floors = np.random.default_rng(8).integers(1, 15, len(squares)).astype(float)
    values = floors if field == "floors" else floors + 0.5 * (np.arange(len(squares)) % 2)
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "b.gpkg", squares, {field: values}))
    assert not verdict.profile.elevation_unsure and verdict.verdict == Effect.allow
