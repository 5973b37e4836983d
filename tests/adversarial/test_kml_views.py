"""KML: precise positions in what a placemark says beside its geometry.

The move: points snapped to about 100 m, each placemark given the precise position as
where to look at it from (``LookAt``, ``Camera``), where it shows (a ``Region``'s
``LatLonAltBox``), where its model stands (``Model``'s ``Location``) or as its
``address``. GDAL's KML readers pass over them all.

Claim under test: each is held for review (``MAPGATE-UNREAD-GEOMETRIES``), the
placemarks counted; a view from straight above each point, a view of heading and range
alone, and a view of a polygon from inside its box, are not.

Truth: the positions are drawn here at random; the documents are written here; what
GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from compliance import Checker, Effect
from tests.adversarial.test_gpkg_unlisted_tables import _positions

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
HELD = "placemarks, views or regions holding a position off their geometry"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _kml(path: Path, beside: Callable[[int, float, float], str], polygons: bool = False) -> Path:
    """Placemarks at the snapped points (or small squares around them), each with
    ``beside(i, lon, lat)`` of its precise position."""
    _, lonlat = _positions()
    coarse = np.round(lonlat, 3)
    marks = []
    for i, ((x, y), (px, py)) in enumerate(zip(coarse, lonlat, strict=True)):
        if polygons:
            ring = " ".join(f"{x + dx:.4f},{y + dy:.4f}" for dx, dy in
                            [(-3e-4, -3e-4), (3e-4, -3e-4), (3e-4, 3e-4), (-3e-4, 3e-4), (-3e-4, -3e-4)])  # fmt: skip
            shape = f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>"  # fmt: skip
        else:
            shape = f"<Point><coordinates>{x:.3f},{y:.3f}</coordinates></Point>"
        marks.append(f"<Placemark><name>p{i}</name>{beside(i, px, py)}{shape}</Placemark>")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/'
                    f'kml/2.2"><Document>{"".join(marks)}</Document></kml>')  # fmt: skip
    assert len(pyogrio.read_dataframe(path)) == len(coarse)
    return path


MOVES = {
    "lookat": lambda i, x, y: (
        f"<LookAt><longitude>{x}</longitude><latitude>{y}</latitude><range>300</range></LookAt>"
    ),
    "camera": lambda i, x, y: (
        f"<Camera><longitude>{x}</longitude><latitude>{y}</latitude>"
        "<altitude>120</altitude></Camera>"
    ),
    "region": lambda i, x, y: (
        f"<Region><LatLonAltBox><north>{y}</north><south>{y}</south>"
        f"<east>{x}</east><west>{x}</west></LatLonAltBox></Region>"
    ),
    "model": lambda i, x, y: (
        f"<Model><Location><longitude>{x}</longitude><latitude>{y}</latitude></Location></Model>"
    ),
    "address": lambda i, x, y: f"<address>{y:.6f}, {x:.6f}</address>",
}


@pytest.mark.parametrize("move", MOVES)
def test_a_precise_position_beside_each_placemark_holds_the_file(tmp_path, checker, move):
    verdict = checker.check(_kml(tmp_path / "f.kml", MOVES[move]))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(u.startswith(f"30 {HELD}") for u in verdict.profile.unread_geometries), (
        verdict.profile.unread_geometries
    )


def _above(i: int, x: float, y: float) -> str:
    _, lonlat = _positions()
    cx, cy = np.round(lonlat[i], 3)
    return f"<LookAt><longitude>{cx:.3f}</longitude><latitude>{cy:.3f}</latitude></LookAt>"


@pytest.mark.parametrize(
    "view, polygons",
    [(_above, False), (_above, True),
     (lambda i, x, y: "<LookAt><heading>30</heading><range>500</range></LookAt>", False)],
    ids=["above_point", "inside_polygon", "heading_only"],
)  # fmt: skip
def test_views_from_the_placemark_itself_are_clean(tmp_path, checker, view, polygons):
    verdict = checker.check(_kml(tmp_path / "f.kml", view, polygons))
    assert verdict.verdict == Effect.allow, verdict.profile.unread_geometries
