"""KML: precise positions in the views a document holds outside its placemarks.

The move: points snapped to about 100 m, and the precise positions written where no
reader takes them for data: a tour flying to each (``gx:Tour``, one ``gx:FlyTo`` with a
``LookAt`` or ``Camera`` per position), a folder per point whose own ``LookAt`` is the
precise one, or ``Region`` boxes on folders. GDAL's KML readers pass over them all.

Claim under test: a tour, or views on folders, of more than a few positions hold the file
for review (``MAPGATE-UNREAD-GEOMETRIES``) wherever they lie, and so does any view or
region off the box of what the document draws; a document's own view of its data and
a few folder views within it do not.

Truth: the positions are drawn here at random; the documents are written here; what GDAL
reads is pyogrio's answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest

from compliance import Checker, Effect
from tests.adversarial.test_gpkg_unlisted_tables import _positions
from tests.conftest import REAL_DATA

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
HELD = "placemarks, views or regions holding a position off their geometry"
TOUR_EXAMPLE = REAL_DATA / "vectors" / "pykml" / "complete_tour_example.kml"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _look(x: float, y: float, camera: bool = False) -> str:
    tag = "Camera" if camera else "LookAt"
    return (
        f"<{tag}><longitude>{x}</longitude><latitude>{y}</latitude><altitude>90</altitude></{tag}>"
    )


def _point(i: int, x: float, y: float) -> str:
    return f"<Placemark><name>p{i}</name><Point><coordinates>{x:.3f},{y:.3f}</coordinates></Point></Placemark>"  # fmt: skip


def _document(path: Path, body: str) -> Path:
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/'
                    'kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
                    f"<Document>{body}</Document></kml>")  # fmt: skip
    # GDAL reads the coarse points alone, a layer per folder.
    read = [pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)]
    assert sum(len(frame) for frame in read) == 30
    return path


def _coarse() -> tuple[np.ndarray, np.ndarray]:
    _, lonlat = _positions()
    return np.round(lonlat, 3), lonlat


def _tour(views: list[str]) -> str:
    steps = "".join(f"<gx:FlyTo><gx:duration>2</gx:duration>{v}</gx:FlyTo>" for v in views)
    return f"<gx:Tour><name>t</name><gx:Playlist>{steps}</gx:Playlist></gx:Tour>"


def _points() -> str:
    return "".join(_point(i, x, y) for i, (x, y) in enumerate(_coarse()[0]))


def _precise_views(camera: bool = False) -> list[str]:
    return [_look(x, y, camera) for x, y in _coarse()[1]]


BODIES = {
    "tour_first": lambda: _tour(_precise_views()) + _points(),
    "tour_last": lambda: _points() + _tour(_precise_views()),
    "tour_of_cameras": lambda: _points() + _tour(_precise_views(camera=True)),
    "tour_in_a_folder": lambda: f"<Folder><name>f</name>{_tour(_precise_views())}{_points()}</Folder>",
    "a_folder_per_point": lambda: "".join(
        f"<Folder><name>f{i}</name>{view}{_point(i, x, y)}</Folder>"
        for i, (view, (x, y)) in enumerate(zip(_precise_views(), _coarse()[0], strict=True))
    ),
}  # fmt: skip


@pytest.mark.parametrize("body", BODIES)
def test_precise_views_outside_placemarks_hold_the_file(tmp_path, checker, body):
    verdict = checker.check(_document(tmp_path / "f.kml", BODIES[body]()))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(u.startswith(f"30 {HELD}") for u in verdict.profile.unread_geometries), (
        verdict.profile.unread_geometries
    )


def _box() -> tuple[float, float, float, float]:
    coarse = _coarse()[0]
    return (*coarse.min(axis=0), *coarse.max(axis=0))


def _off_the_box() -> str:
    west, south, east, north = _box()
    return _look(east + 0.01, (south + north) / 2)


def _region(west: float, south: float, east: float, north: float) -> str:
    return (f"<Region><LatLonAltBox><north>{north}</north><south>{south}</south>"
            f"<east>{east}</east><west>{west}</west></LatLonAltBox></Region>")  # fmt: skip


@pytest.mark.parametrize(
    "extra, counted",
    [
        (lambda: _off_the_box(), 1),
        (lambda: f"<Folder><name>a</name>{_off_the_box()}</Folder>", 1),
        (lambda: _tour([_off_the_box()]), 1),
        (lambda: f"<Folder><name>r</name>{_region(*(np.array(_box()) + [0, 0, 0, 0.02]))}</Folder>", 1),
        (lambda: "".join(f"<Folder><name>{i}</name>{_within(i)}</Folder>" for i in range(5)), 5),
    ],
    ids=["document_view_off", "folder_view_off", "one_step_tour_off", "region_past_the_data", "five_views_within"],
)  # fmt: skip
def test_a_view_off_the_data_or_one_too_many_holds_the_file(tmp_path, checker, extra, counted):
    verdict = checker.check(_document(tmp_path / "f.kml", extra() + _points()))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert any(u.startswith(f"{counted} {HELD}") for u in verdict.profile.unread_geometries), (
        verdict.profile.unread_geometries
    )


def _centre() -> str:
    west, south, east, north = _box()
    return _look((west + east) / 2, (south + north) / 2)


def _within(i: int) -> str:
    """A precise position, moved into the box of the coarse points if it lies outside."""
    west, south, east, north = _box()
    x, y = _coarse()[1][i]
    return _look(min(max(x, west), east), min(max(y, south), north))


@pytest.mark.parametrize(
    "extra",
    [
        lambda: _centre(),
        lambda: "".join(f"<Folder><name>{i}</name>{_within(i)}</Folder>" for i in range(4)),
        lambda: _tour([_centre(), _look(*_coarse()[0][3])]),
        lambda: f"<Folder><name>r</name>{_region(*_box())}</Folder>",
        lambda: "<LookAt><heading>10</heading><range>900</range></LookAt>",
    ],
    ids=["document_view_of_its_data", "four_folder_views_within", "short_tour_within",
         "region_of_the_data", "heading_only"],
)  # fmt: skip
def test_a_few_views_of_the_data_itself_are_clean(tmp_path, checker, extra):
    verdict = checker.check(_document(tmp_path / "f.kml", extra() + _points()))
    assert verdict.verdict == Effect.allow, verdict.profile.unread_geometries


def test_a_real_tour_is_counted_step_by_step(checker):
    # Google's tour example: five flights to cameras and views by the features it shows.
    verdict = checker.check(TOUR_EXAMPLE)
    assert verdict.verdict == Effect.review
    assert verdict.profile.unread_geometries == [
        f"5 {HELD} (a LookAt, Camera, tour, Region, Model or address GDAL does not read)"
    ]
