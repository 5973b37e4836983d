"""Class 1 (continued): points written as lines and rings that draw one position.

The claim under test: "points stored at full precision hold the verdict for review,
whatever else the file holds". The same 500 positions written as zero-length lines (P to
P), as collapsed polygons (P, P, P, P), as multi-lines of zero-length parts or as
collections of both, beside one coarse 5 km outline, measured nothing: a zero-length
segment is not detail, so those coordinates counted neither as lines nor as points, and the
outline decided. Each such line or ring is a position and counts as one point.

Truth is the positions written (numbers of features and parts, counted here), and for the
quantised control the ground size of the grid step, measured with pyproj (Geod.inv on
WGS84). The control is the same positions as Point features, which must give the same
facts and verdict.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker
from tests.adversarial.test_vector_detail import GEOD, PLACES, squares, write

KINDS = ("lines", "rings", "multilines", "collections")
CRSS = (("EPSG:5186", "daejeon"), ("EPSG:4326", "gwangju"), ("EPSG:32652", "cheongju"))


@pytest.fixture(scope="module")
def kr() -> Checker:
    return Checker(packs=["kr"])


def _positions(place: str, crs: str, decimals: int | None = None) -> np.ndarray:
    """500 positions within 0.05 degrees of ``place`` in ``crs``, (500, 2): at full
    precision, or rounded to ``decimals``."""
    lon, lat = PLACES[place]
    rng = np.random.default_rng(500)
    xs, ys = lon + rng.uniform(0, 0.05, 500), lat + rng.uniform(0, 0.05, 500)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(xs, ys)
    if decimals is not None:
        x, y = np.round(x, decimals), np.round(y, decimals)
    return np.column_stack([x, y])


def _drawn_as(kind: str, xy: np.ndarray) -> np.ndarray:
    """The positions as features of ``kind``, each line or ring one position."""
    if kind == "points":
        return shapely.points(xy)
    if kind == "lines":  # P to P: read from the WKB bytes, one simple row each
        return shapely.linestrings(np.stack([xy, xy], axis=1))
    if kind == "rings":  # P, P, P, P: a closed ring of one position
        return shapely.polygons(shapely.linearrings(np.stack([xy] * 4, axis=1)))
    if kind == "multilines":  # five zero-length parts a feature, decoded by GEOS
        parts = shapely.linestrings(np.stack([xy, xy], axis=1))
        return np.array([shapely.MultiLineString(list(p)) for p in parts.reshape(-1, 5)])
    # A zero-length line and a collapsed polygon a feature, in a geometry collection.
    lines, rings = _drawn_as("lines", xy[0::2]), _drawn_as("rings", xy[1::2])
    return np.array([shapely.GeometryCollection([a, b]) for a, b in zip(lines, rings, strict=True)])


def _outline(place: str, crs: str) -> np.ndarray:
    """One coarse line: the outline of a 5 km square."""
    square = squares(np.array([5000.0]), place, crs)[0]
    return np.array([shapely.LineString(square.exterior.coords)], dtype=object)


def _file(path, kind: str, xy: np.ndarray, place: str, crs: str) -> str:
    return write(path, np.concatenate([_drawn_as(kind, xy), _outline(place, crs)]), crs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("crs", "place"), CRSS)
def test_full_precision_positions_drawn_as_lines_or_rings(tmp_path, kr, kind, crs, place):
    xy = _positions(place, crs)
    geoms = _drawn_as(kind, xy)
    # Truth: the features draw exactly the 500 positions, each line or ring one of them.
    assert shapely.get_num_coordinates(geoms).sum() >= 500
    assert np.array_equal(np.unique(shapely.get_coordinates(geoms), axis=0), np.unique(xy, axis=0))
    path = _file(tmp_path / f"{kind}.gpkg", kind, xy, place, crs)
    verdict = kr.check(path)
    assert verdict.profile.resolution_m is None
    assert verdict.profile.scale_denominator is None
    assert verdict.verdict != "allow"
    detail = verdict.profile.detail
    assert detail is not None and detail.points_unmeasured
    assert (detail.points, detail.lines_measured) == (500, 1)
    # The control: the same positions as points beside the same outline.
    control = kr.check(_file(tmp_path / "points.gpkg", "points", xy, place, crs))
    assert control.profile.detail is not None and control.profile.detail.points == 500
    assert control.profile.resolution_m is None and control.verdict == verdict.verdict


@pytest.mark.parametrize("kind", ("lines", "rings", "multilines"))
@pytest.mark.parametrize(("crs", "place"), CRSS)
def test_quantised_positions_drawn_as_lines_take_their_grid(tmp_path, kr, kind, crs, place):
    # Positions rounded to 1e-3 degree or 100 m, drawn as zero-length lines, have the
    # detail of points on that grid: its ground size, as the same points would.
    decimals = 3 if crs == "EPSG:4326" else -2
    xy = _positions(place, crs, decimals)
    verdict = kr.check(_file(tmp_path / f"{kind}.gpkg", kind, xy, place, crs))
    detail = verdict.profile.detail
    assert detail is not None and not detail.points_unmeasured
    assert detail.points == 500
    step = 10.0 ** (-decimals)
    mx, my = np.median(xy[:, 0]), np.median(xy[:, 1])
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = to_ll.transform([mx, mx + step, mx], [my, my, my + step])
    _, _, d = GEOD.inv([lon[0], lon[0]], [lat[0], lat[0]], lon[1:], lat[1:])
    # Measured at the middle of the layer's extent rather than the positions' median: the
    # grid's ground size differs by the scale change over a few km (under 1e-3).
    assert verdict.profile.resolution_m == pytest.approx(float(np.min(np.abs(d))), rel=1e-3)
    control = kr.check(_file(tmp_path / "points.gpkg", "points", xy, place, crs))
    assert control.profile.resolution_m == pytest.approx(verdict.profile.resolution_m, rel=1e-9)
