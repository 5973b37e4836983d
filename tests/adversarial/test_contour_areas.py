"""Contour levels drawn as polygons, under a field whose name says nothing.

The move: contour lines with their level in a field ``v`` are held (``test_unnamed_levels``).
The exporter draws the same contours as areas: filled contours (each level's area, the
next level's nested inside it), or bands between two levels, as ``gdal_contour -p`` writes
them, renaming its ``ELEV_MIN``/``ELEV_MAX`` fields (``-amin lo -amax hi``). 1 m contours
of Delhi drawn at 2 m then came out ``allow``, where the bands with the fields so named are
denied by IN-VERTICAL-3M.

Claim under test: a numeric field whose values lie on polygons as filled contours (each
area within an area one level away, their edges lying as contour lines do) or as bands
(each touching bands one level away and none of another level) holds the verdict for
review where reading it as heights would change it, in two places, three formats and two
CRSs. Buildings' floors (apart, or in touching rows) and parcels' codes hold nothing.

Truth: the rings are drawn with pyproj's geodesic (``test_unnamed_levels``); the rules
heights fire are those the same rings as lines with their level as Z fire beyond the 2-D
lines; the layouts (nesting, touching) are checked with shapely here.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from compliance import Checker, Effect
from compliance.measure import contour_levels
from compliance.readers import sources
from tests.adversarial.test_unnamed_levels import (
    DRIVERS,
    LEVELS,
    PLACES,
    UNSURE,
    _circle,
    _delhi_utm,
    _if_heights,
    _lonlat,
    _rings,
    _rules,
    _squares,
    _write,
)


def _filled(place: str) -> list:
    """Each level's area: a disc within the disc of the level below it."""
    return [shapely.Polygon(ring.coords) for ring in _rings(place)]


def _bands(place: str) -> list:
    """The areas between two rings, and the disc inside the first: as contour bands."""
    rings = _rings(place)
    inner = [shapely.Polygon(rings[0].coords)]
    return inner + [
        shapely.Polygon(b.coords, [a.coords]) for a, b in zip(rings[:-1], rings[1:], strict=True)
    ]


LOW, HIGH = np.r_[199.0, LEVELS[:-1]], LEVELS  # each band's lower and upper level


def _heights_fire(checker: Checker, place: str, tmp_path, suffix: str) -> set[str]:
    """The rules the rings fire with their level as Z, beyond those the 2-D rings fire."""
    pack = PLACES[place][2]
    as_z = checker.check(_write(tmp_path / f"z.{suffix}", _rings(place, z=True), {"id": range(15)}))
    flat = checker.check(_write(tmp_path / f"f.{suffix}", _rings(place), {"id": range(15)}))
    fired = {f"{pack}:{f.rule_id} ({f.effect.value})" for f in as_z.findings}
    return fired - {f"{pack}:{f.rule_id} ({f.effect.value})" for f in flat.findings}


@pytest.mark.parametrize("suffix", DRIVERS)
@pytest.mark.parametrize(("place", "epsg"), [("delhi", 4326), ("delhi", 32643), ("seoul", 5186)])
@pytest.mark.parametrize("drawn", ["filled", "bands"])
def test_contour_areas_hold_the_verdict(tmp_path, place, epsg, suffix, drawn):
    checker = Checker(packs=[PLACES[place][2]])
    if drawn == "filled":
        assert shapely.within(_filled(place)[0], _filled(place)[1])
        geoms, fields = _filled(place), {"v": LEVELS}
    else:
        geoms, fields = _bands(place), {"lo": LOW, "hi": HIGH}
        assert shapely.touches(geoms[3], geoms[4]) and not shapely.intersects(geoms[3], geoms[5])
    verdict = checker.check(_write(tmp_path / f"c.{suffix}", geoms, fields, epsg, layer="areas"))
    assert _heights_fire(checker, place, tmp_path, suffix) == {PLACES[place][3]}
    assert not verdict.profile.has_z and verdict.profile.elevation_unsure
    assert verdict.verdict == Effect.review  # Delhi: allow on the last head
    assert _if_heights(verdict) == [PLACES[place][3]]
    method = verdict.profile.methods[f"elevation_unsure[{verdict.profile.layers[0].name}]"]
    assert ("v: 15 levels" in method) if drawn == "filled" else ("lo: 15 levels" in method)


def _multi_bands() -> list:
    """Two hills 1 km apart, each band's two annuli one multipolygon (``gdal_contour -p``)."""
    here = _bands("delhi")
    there = [shapely.affinity.translate(b, 0.01, 0.0) for b in here]
    assert not shapely.intersects(shapely.union_all(here), shapely.union_all(there))
    return [shapely.MultiPolygon([a, b]) for a, b in zip(here, there, strict=True)]


@pytest.mark.parametrize("variant", ["multi", "shuffled", "text", "decoy", "off_step"])
def test_bands_are_found_however_they_are_laid_out(tmp_path, variant):
    geoms, fields = _bands("delhi"), {"lo": LOW}
    if variant == "multi":
        geoms = _multi_bands()
    elif variant == "shuffled":
        order = np.random.default_rng(5).permutation(len(geoms))
        geoms, fields = [geoms[i] for i in order], {"lo": LOW[order]}
    elif variant == "text":
        fields = {"lo": [f"{v:.0f}" for v in LOW]}
    elif variant == "decoy":
        lon, lat = PLACES["delhi"][:2]
        box = shapely.box(lon - 0.004, lat - 0.0005, lon + 0.004, lat + 0.0005)
        assert shapely.intersects(box, geoms).all() and shapely.crosses(box.boundary, geoms[5])
        geoms, fields = geoms + [shapely.segmentize(box, 2e-5)], {"lo": np.r_[LOW, 999.0]}
    else:
        fields = {"lo": 37.25 + 2.5 * np.arange(15)}
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", geoms, fields))
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert _if_heights(verdict) == ["in:IN-VERTICAL-3M (deny)"]


def _terraces(rows: int = 10, houses: int = 12, width_m: float = 6.0) -> list:
    """Rows of houses in Delhi touching side by side, the rows 10 m apart."""
    x0, y0 = _delhi_utm()
    out = []
    for r in range(rows):
        for h in range(houses):
            x, y = x0 + h * width_m, y0 + r * 20.0
            out.append(shapely.segmentize(shapely.box(x, y, x + width_m, y + 10.0), 2.0))
    return _lonlat(out)


def _parcels(n: int = 12, side_m: float = 20.0) -> list:
    """A grid of parcels in Delhi, each touching its neighbours on four sides."""
    x0, y0 = _delhi_utm()
    boxes = [
        shapely.segmentize(shapely.box(x0 + i * side_m, y0 + j * side_m, x0 + (i + 1) * side_m, y0 + (j + 1) * side_m), 2.0)
        for i in range(n) for j in range(n)
    ]  # fmt: skip
    return _lonlat(boxes)


@pytest.mark.parametrize("control", ["floors", "terraces", "parcels", "floors_by_column"])
def test_numbers_on_areas_that_do_not_lie_as_contours_hold_nothing(tmp_path, control):
    rng = np.random.default_rng(9)
    if control in ("floors", "floors_by_column"):
        geoms = _squares()
        assert not shapely.intersects(geoms[0], geoms[1:]).any()
        # Floors rising one a column eastward: each building's nearest of another
        # level is one floor off, yet none lies within another or touches one.
        floors = np.repeat(np.arange(1, 13), 12) if control == "floors_by_column" else None
        fields = {"floors": floors if floors is not None else rng.integers(1, 11, len(geoms))}
    elif control == "terraces":
        geoms = _terraces()
        assert shapely.touches(geoms[0], geoms[1])
        fields = {"floors": rng.integers(1, 6, len(geoms))}
    else:
        geoms = _parcels()
        assert shapely.touches(geoms[0], geoms[1])
        fields = {"zoning": rng.integers(1, 6, len(geoms))}
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", geoms, fields))
    assert not verdict.profile.elevation_unsure, verdict.profile.methods
    assert UNSURE not in _rules(verdict) and verdict.verdict == Effect.allow


def test_bands_past_the_first_window_are_met_window_by_window(tmp_path, monkeypatch):
    """Past the geometry held at once, polygons are met whole in each window (here four
    bands each) and counted across them."""
    monkeypatch.setattr(contour_levels, "MAX_LEVEL_BYTES", 1_000)
    monkeypatch.setattr(sources, "BATCH_SIZE", 4)
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", _bands("delhi"), {"lo": LOW}))
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "lie as contours do" in verdict.profile.methods["elevation_unsure[lines]"]


def _nested_squares(n: int) -> list:
    """``n`` squares around one point of Delhi, a metre apart, four vertices each: boxes
    within boxes, whose meetings number the square of ``n``."""
    x0, y0 = _delhi_utm()
    r = 10.0 + np.arange(n)
    return _lonlat(list(shapely.box(x0 - r, y0 - r, x0 + r, y0 + r)))


@pytest.mark.parametrize("drawn", ["lines", "areas"])
def test_boxes_within_boxes_are_held_not_met(tmp_path, drawn):
    """Thousands of rings around one point with few vertices each: every ring's box holds
    the next, and meeting them would cost the square of their number (minutes, on the
    previous head, for the lines). Beside them, contours drawn finer than 3 m, 1 km away.
    The field is held, unmet, where heights would change the verdict: here, they do."""
    squares = _nested_squares(6_000)
    assert shapely.contains(shapely.Polygon(squares[1].exterior), squares[0])
    fine = [shapely.affinity.translate(g, 0.01, 0.0) for g in _filled("delhi")]
    geoms = squares + fine
    if drawn == "lines":
        geoms = list(shapely.boundary(geoms))
    values = np.r_[np.arange(6_000) % 50, LEVELS]
    path = _write(tmp_path / "c.gpkg", geoms, {"v": values})
    verdict = Checker(packs=["in"]).check(path)
    assert verdict.profile.elevation_unsure and verdict.verdict == Effect.review
    assert "too crowded to meet" in verdict.profile.methods["elevation_unsure[lines]"]
    assert _if_heights(verdict) == ["in:IN-VERTICAL-3M (deny)"]


@pytest.mark.parametrize("drawn", ["filled", "bands"])
def test_areas_whose_boxes_crowd_are_met_by_their_edges(tmp_path, drawn):
    """Sixty levels around one hill: every area's box holds the next (the boxes are too
    crowded to meet whole), while their edges, a vertex every 10 m, are not: met piece by
    piece, the areas are found all the same."""
    rings = [_circle("delhi", 100.0 + 10.0 * i, 10.0) for i in range(60)]
    discs = [shapely.Polygon(xy) for xy in rings]
    levels = 300.0 - np.arange(60)
    if drawn == "filled":
        geoms = discs
    else:
        geoms = [discs[0]] + [
            shapely.Polygon(b.exterior, [a.exterior])
            for a, b in zip(discs[:-1], discs[1:], strict=True)
        ]
    assert shapely.within(discs[0], discs[1]) and shapely.touches(geoms[1], geoms[2]) == (
        drawn == "bands"
    )
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", geoms, {"v": levels}))
    assert verdict.profile.elevation_unsure
    assert "lie as contours do" in verdict.profile.methods["elevation_unsure[lines]"]
