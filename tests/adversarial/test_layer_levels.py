"""Contour levels laid one to a layer.

The move: contours whose level is in a field ``v`` are held (``test_unnamed_levels``). The
exporter splits them by level into layers, ``ogr2ogr -where "v = 200" -nln L200`` once a
level: each layer's ``v`` is one value, or the level is only in the layer's name, and no
layer holds three levels. 1 m contours of Delhi so split came out ``allow``.

Claim under test: layers that draw lines or polygons, each holding one value in a field
or one number in its name, are met together as one layer's levels: arcs, filled
contours and bands so split hold the verdict in two places, in a GeoPackage and a zip of
shapefiles, with ``rules_if_heights`` what the same rings with their level as Z fire.
Layers of other data with a value each (roads, buildings and rivers by source; parcels
of three zones) hold nothing.

Truth: the rings are drawn with pyproj's geodesic (``test_unnamed_levels``); the rules
heights fire are computed in the test from the rings written with Z.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from compliance import Checker, Effect
from tests.adversarial.test_contour_areas import HIGH, LOW, _bands, _filled, _heights_fire
from tests.adversarial.test_unnamed_levels import (
    LEVELS,
    PLACES,
    UNSURE,
    _if_heights,
    _pieces,
    _roads,
    _rules,
    _squares,
    _write,
)

KEY = "elevation_unsure[(its layers, a level each)]"


def _split(path, geoms, levels, named, drawn="lines", epsg=4326):
    """One layer a level: the level in ``v`` and the layer's name, or in the name alone."""
    levels = np.asarray(levels, dtype=float)
    for at, level in enumerate(LEVELS):
        mine = np.flatnonzero(levels == level)
        fields: dict[str, object] = {"id": np.arange(mine.size)}
        if drawn == "bands":
            fields = {"lo": np.full(mine.size, LOW[at]), "hi": np.full(mine.size, HIGH[at])}
        elif named == "field":
            fields = {"v": np.full(mine.size, level)}
        name = f"L{level:.0f}" if named != "field" else f"layer_{'abcdefghijklmno'[at]}"
        if path.suffix == ".zip":
            shp = path.parent / f"{name}.shp"
            _write(shp, [geoms[i] for i in mine], fields, epsg)
            with zipfile.ZipFile(path, "a") as archive:
                for part in path.parent.glob(f"{name}.*"):
                    if part.suffix != ".zip":
                        archive.write(part, part.name)
        else:
            _write(path, [geoms[i] for i in mine], fields, epsg, layer=name)
    return path


@pytest.mark.parametrize("suffix", ["gpkg", "zip"])
@pytest.mark.parametrize("named", ["field", "name"])
@pytest.mark.parametrize(("place", "epsg"), [("delhi", 32643), ("seoul", 5186)])
def test_arcs_split_a_level_to_a_layer_hold_the_verdict(tmp_path, place, epsg, named, suffix):
    arcs, levels = _pieces(place)
    path = _split(tmp_path / f"c.{suffix}", arcs, levels, named, epsg=epsg)
    checker = Checker(packs=[PLACES[place][2]])
    verdict = checker.check(path)
    assert len(verdict.profile.layers) == 15
    assert all(layer.feature_count == 4 for layer in verdict.profile.layers)
    assert verdict.profile.elevation_unsure and not verdict.profile.has_z
    assert verdict.verdict == Effect.review  # Delhi: allow on the last head
    assert set(_if_heights(verdict)) == _heights_fire(checker, place, tmp_path, "gpkg")
    said = verdict.profile.methods[KEY]
    assert ("v: 15 levels" if named == "field" else "in each layer's name): 15 levels") in said


@pytest.mark.parametrize("drawn", ["filled", "bands"])
def test_areas_split_a_level_to_a_layer_hold_the_verdict(tmp_path, drawn):
    geoms = _filled("delhi") if drawn == "filled" else _bands("delhi")
    path = _split(tmp_path / "c.gpkg", geoms, LEVELS, "field", drawn)
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert _if_heights(verdict) == ["in:IN-VERTICAL-3M (deny)"]


@pytest.mark.parametrize("amplitude", [0.01, 0.3])
def test_layers_a_level_each_written_off_hold_the_verdict(tmp_path, amplitude):
    """Each layer's level written off, arc by arc: no layer holds one value."""
    arcs, levels = _pieces("delhi")
    path = tmp_path / "c.gpkg"
    noise = np.random.default_rng(13).uniform(-amplitude, amplitude, len(arcs))
    for at, level in enumerate(LEVELS):
        mine = np.flatnonzero(np.asarray(levels) == level)
        name = f"layer_{'abcdefghijklmno'[at]}"
        _write(path, [arcs[i] for i in mine], {"v": level + noise[mine]}, 32643, layer=name)
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "v: 15 levels" in verdict.profile.methods[KEY]


def test_layers_of_other_data_with_a_value_each_hold_nothing(tmp_path):
    """Roads, buildings and rivers, each layer a ``source`` of its own, one number in each
    name; and parcels of three zones apart."""
    path = tmp_path / "m.gpkg"
    roads = _roads()
    _write(path, roads[:7], {"source": np.full(7, 1)}, layer="roads_1")
    _write(path, _squares(n=5), {"source": np.full(25, 2)}, layer="buildings_2")
    _write(path, roads[7:], {"source": np.full(13, 3)}, layer="rivers_3")
    lengths = np.random.default_rng(14).uniform(10.0, 500.0, 13)
    _write(path, roads[7:], {"length_m": lengths}, layer="tracks")
    parcels = _squares(n=6)
    for zone in (1, 2, 3):
        mine = parcels[zone - 1 :: 3]
        _write(path, mine, {"zone": np.full(len(mine), zone)}, layer=f"zone{zone}")
    verdict = Checker(packs=["in"]).check(path)
    assert not verdict.profile.elevation_unsure and UNSURE not in _rules(verdict)
    assert KEY not in verdict.profile.methods and verdict.verdict == Effect.allow
