"""OpenStreetMap PBF: precise positions in nodes GDAL's OSM driver does not draw.

The move, as in OSM XML (``test_xml_unread_parts``): tagged nodes snapped to about
100 m, and each precise position in a node GDAL makes no feature of: an untagged node no
way or relation takes in, a node tagged only ``created_by``, a vertex of an untagged way
in no relation, or the value of a tag GDAL ignores (``note``). Written as PBF, the
XML reading never saw it: the previous head gave ``allow``. And a relation whose member
is another relation numbered as the loose node must not pass for drawing that node.

Claim under test: such a PBF is held for review (``MAPGATE-UNREAD-GEOMETRIES``) in three
places; the same files without the trick, a way's untagged vertices, an untagged way a
relation draws, and pyogrio's own sample PBF (a real extract) are not.

Truth: the files are written with pyosmium (libosmium); what GDAL reads is pyogrio's
answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import osmium
import pyogrio
import pytest
from osmium.osm import mutable

from compliance import Checker, Effect
from tests.adversarial.snapped_points import PLACES, in_box

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
N = 30
FIRST = 1001  # the precise nodes' ids
SAMPLE = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _positions(place: str) -> tuple[np.ndarray, np.ndarray]:
    return in_box(place, N, seed=61, half=0.003)


Extra = Callable[[osmium.SimpleWriter, np.ndarray], None]  # writer, precise lon/lat


def _pbf(path: Path, place: str, extra: Extra) -> Path:
    """Tagged nodes at the snapped positions, then ``extra`` (nodes before ways before
    relations, as PBF orders them)."""
    precise, coarse = _positions(place)
    writer = osmium.SimpleWriter(str(path))
    try:
        for i, (x, y) in enumerate(coarse.tolist()):
            writer.add_node(mutable.Node(id=i + 1, location=(x, y), tags={"amenity": "bench"}))
        extra(writer, precise)
    finally:
        writer.close()
    points = pyogrio.read_dataframe(path, layer="points")
    assert np.allclose(np.column_stack([points.geometry.x, points.geometry.y])[:N], coarse)
    return path


def _nodes(tags: dict[str, str]) -> Extra:
    def write(writer: osmium.SimpleWriter, precise: np.ndarray) -> None:
        for i, (x, y) in enumerate(precise.tolist()):
            writer.add_node(mutable.Node(id=FIRST + i, location=(x, y), tags=tags))

    return write


def _way(tags: dict[str, str], in_relation: bool = False) -> Extra:
    """The precise positions as the untagged vertices of one way."""

    def write(writer: osmium.SimpleWriter, precise: np.ndarray) -> None:
        _nodes({})(writer, precise)
        writer.add_way(mutable.Way(id=5000, nodes=list(range(FIRST, FIRST + N)), tags=tags))
        if in_relation:
            writer.add_relation(
                mutable.Relation(id=9000, members=[("w", 5000, "outer")], tags={"type": "route"})
            )

    return write


def _notes(writer: osmium.SimpleWriter, precise: np.ndarray) -> None:
    for i, (x, y) in enumerate(precise.tolist()):
        writer.add_node(
            mutable.Node(id=FIRST + i, location=(x + 0.01, y), tags={"note": f"{y:.7f} {x:.7f}",
                                                                       "amenity": "bench"})
        )  # fmt: skip


def _relation_numbered_as_the_nodes(writer: osmium.SimpleWriter, precise: np.ndarray) -> None:
    _nodes({})(writer, precise)
    members = [("r", FIRST + i, "") for i in range(N)]
    writer.add_relation(mutable.Relation(id=9001, members=members, tags={"type": "collection"}))


LEAKS: dict[str, Extra] = {
    "untagged nodes": _nodes({}),
    "nodes tagged only created_by": _nodes({"created_by": "JOSM"}),
    "vertices of an untagged way": _way({}),
    "note tags": _notes,
    "relation members numbered as the nodes": _relation_numbered_as_the_nodes,
}
CLEAN: dict[str, Extra] = {
    "nothing more": lambda writer, precise: None,
    "vertices of a tagged way": _way({"highway": "footway"}),
    "an untagged way a relation draws": _way({}, in_relation=True),
}


def _held(verdict) -> bool:
    return UNREAD in {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("trick", LEAKS)
def test_positions_in_nodes_gdal_does_not_draw_hold_a_pbf(tmp_path, checker, trick, place):
    verdict = checker.check(_pbf(tmp_path / "leak.osm.pbf", place, LEAKS[trick]))
    assert _held(verdict), verdict.profile.unread_geometries
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("what", CLEAN)
def test_what_gdal_draws_leaves_a_pbf_clean(tmp_path, checker, what, place):
    verdict = checker.check(_pbf(tmp_path / "clean.osm.pbf", place, CLEAN[what]))
    assert not _held(verdict), verdict.profile.unread_geometries


def test_a_real_pbf_extract_is_clean(checker):
    if not SAMPLE.is_file():
        pytest.skip("this pyogrio install ships no test fixtures")
    verdict = checker.check(SAMPLE)
    assert verdict.profile.format == "OSM" and not _held(verdict)
    assert verdict.verdict == Effect.allow


def test_a_damaged_pbf_is_not_passed(tmp_path, checker):
    path = _pbf(tmp_path / "leak.osm.pbf", "seoul", LEAKS["untagged nodes"])
    data = path.read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) - 40])  # the last block's end cut off
    verdict = checker.check(cut)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
