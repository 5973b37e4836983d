"""FlatGeobuf: precise positions kept in the spatial index beside coarsened features.

The move: snap the features' vertices to a coarse grid (50-100 m), write them with GDAL and its spatial
index, then write each feature's precise box into its leaf of the index, and rebuild the
nodes above so that the tree stays a well-formed R-tree (GDAL reads the file as before and
a spatial query still finds every feature). A point's leaf box is the point itself. No
reader shows a leaf box as geometry; they leave with the file. Variants: the leaves
swapped between features, and numbers written into the nodes above the leaves, into
their child positions or into the header's envelope.

Claim under test: every number of the index must be what the features make it (a leaf,
its feature's box; a node, the union of its children and its first child's position; the
envelope, the root's box), else the verdict is held (never ``allow``).

Truth: the index is read and rebuilt here with struct, in plain Python (the packed
R-tree of the FlatGeobuf specification: root first, 40-byte nodes, the leaves last);
GDAL's reading is pyogrio's; the features' boxes are shapely's. The controls are the
files GDAL writes, in four CRSs, and the real FlatGeobuf files of other projects.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from tests.adversarial.unindexed_files import CODE, far_zone, features, write
from tests.measure.leak_files import PLACES, origin, zone_file, zone_pack

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
NODE = 40


def _tree(path: Path) -> tuple[int, int, list[int]]:
    """Where the index starts, how many features there are, and each level's node count
    from the leaves up (node size 16, GDAL's)."""
    data = path.read_bytes()
    header_size = struct.unpack_from("<I", data, 8)[0]
    count = len(pyogrio.read_arrow(path)[1])
    levels = [count]
    while True:
        levels.append(math.ceil(levels[-1] / 16))
        if levels[-1] == 1:
            break
    return 12 + header_size, count, levels


def _nodes(path: Path) -> list[list[float | int]]:
    at, _, levels = _tree(path)
    data = path.read_bytes()
    return [list(struct.unpack_from("<4dQ", data, at + i * NODE)) for i in range(sum(levels))]


def _rebuilt(nodes: list[list[float | int]], levels: list[int]) -> list[list[float | int]]:
    """The nodes above the leaves, rebuilt from the leaves as the writers build them."""
    out = [list(n) for n in nodes]
    end = len(out)
    for below, size in zip(levels, levels[1:], strict=False):
        child_at, at = end - below, end - below - size
        for j in range(size):
            first = child_at + j * 16
            kids = out[first : min(first + 16, end)]
            box = [min(k[0] for k in kids), min(k[1] for k in kids)]
            box += [max(k[2] for k in kids), max(k[3] for k in kids)]
            out[at + j] = box + [first]
        end = child_at
    return out


def _unlike_children(nodes: list[list[float | int]], levels: list[int]) -> int:
    """Truth: how many nodes above the leaves hold a box other than their children's."""
    rebuilt = _rebuilt(nodes, levels)  # each node from its own children, as stored
    count = 0
    end = len(nodes)
    for below, size in zip(levels, levels[1:], strict=False):
        at, child_at = end - below - size, end - below
        for j in range(size):
            first = child_at + j * 16
            kids = nodes[first : min(first + 16, end)]
            box = [min(k[0] for k in kids), min(k[1] for k in kids)]
            box += [max(k[2] for k in kids), max(k[3] for k in kids)]
            count += box != nodes[at + j][:4]
        end = child_at
    assert rebuilt[-levels[0] :] == nodes[-levels[0] :]
    return count


def _put(path: Path, nodes: list[list[float | int]], envelope: bool = True) -> None:
    """Write the nodes back, and the root's box as the header's envelope."""
    at, _, _ = _tree(path)
    data = bytearray(path.read_bytes())
    old_root = struct.pack("<4d", *_nodes(path)[0][:4])
    for i, node in enumerate(nodes):
        struct.pack_into("<4dQ", data, at + i * NODE, *node)
    if envelope:
        where = data.index(old_root, 12, at)  # the header's envelope vector
        struct.pack_into("<4d", data, where, *nodes[0][:4])
    path.write_bytes(bytes(data))


def _snapped(geoms: list[shapely.Geometry], step: float) -> list[shapely.Geometry]:
    return [shapely.set_precision(g, step, mode="pointwise") for g in geoms]


def _precise_leaves(path: Path, precise: list[shapely.Geometry]) -> int:
    """Write each feature's precise box into its leaf, rebuild the tree; how many leaves
    now differ from their features' boxes (truth)."""
    _, count, levels = _tree(path)
    nodes = _nodes(path)
    leaves = nodes[len(nodes) - count :]
    read = pyogrio.read_dataframe(path)
    starts = sorted(int(leaf[4]) for leaf in leaves)  # the features, in file order
    changed = 0
    for leaf in leaves:
        row = starts.index(int(leaf[4]))
        feature = read.geometry.iloc[row]
        assert list(leaf[:4]) == list(feature.bounds)  # GDAL's leaf: the feature's box
        new = list(precise[int(read["n"].iloc[row])].bounds)
        changed += new != list(leaf[:4])
        leaf[:4] = new
    _put(path, _rebuilt(nodes, levels))
    return changed


CASES = {
    "oslo_points": ("oslo_utm32", "point", 100.0),
    "sydney_lines": ("sydney_mga56", "line", 50.0),
    "buenos_aires_polygons": ("buenos_aires_webmerc", "polygon", 50.0),
    "nairobi_points_degrees": ("nairobi_wgs84", "point", 1e-3),
}


def _geoms(place: str, kind: str, n: int = 300) -> list[shapely.Geometry]:
    """``n`` features 60 m apart (lines drawn with 10 m steps), each nudged off the grid
    by a few metres."""
    rng = np.random.default_rng(7)
    geoms = features(place, kind, [False] * n)
    unit = 1e-5 if PLACES[place][2] == "EPSG:4326" else 1.0
    return [shapely.affinity.translate(g, *(rng.uniform(3, 40, 2) * unit)) for g in geoms]


@pytest.fixture
def checker(tmp_path):  # type: ignore[no-untyped-def]
    def make(place: str) -> Checker:
        zones = zone_file(tmp_path, far_zone(place))
        return Checker(packs=[str(zone_pack(tmp_path))], zones=zones)

    return make


@pytest.mark.parametrize("name", CASES)
def test_precise_leaf_boxes_beside_coarse_features_hold_the_verdict(tmp_path, checker, name):
    place, kind, step = CASES[name]
    crs = PLACES[place][2]
    precise = _geoms(place, kind)
    coarse = _snapped(precise, step)
    control = write(tmp_path / "control.fgb", crs, coarse, driver="FlatGeobuf")
    verdict = checker(place).check(control)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.unread_geometries == []

    path = write(tmp_path / "trick.fgb", crs, coarse, driver="FlatGeobuf")
    changed = _precise_leaves(path, precise)
    assert changed == len(precise)
    # GDAL reads the coarse features as before, and still finds them through the index.
    read = pyogrio.read_dataframe(path)
    assert [g.wkb for g in read.geometry] == [
        g.wkb for g in pyogrio.read_dataframe(control).geometry
    ]
    box = shapely.total_bounds(precise + coarse)
    assert len(pyogrio.read_arrow(path, bbox=tuple(box))[1]) == len(coarse)

    verdict = checker(place).check(path)
    assert verdict.verdict != Effect.allow
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert verdict.profile.unread_geometries == [
        f"trick.fgb: {changed} leaves of its spatial index hold boxes that are not their features'"
    ]
    # The tree above the leaves was rebuilt: nothing else is out of place.
    assert verdict.profile.leaks.unindexed_damaged == []


def test_leaves_swapped_between_features_hold_the_verdict(tmp_path, checker):
    place = "oslo_utm32"
    geoms = _geoms(place, "polygon", 40)
    path = write(tmp_path / "f.fgb", PLACES[place][2], geoms, driver="FlatGeobuf")
    _, count, levels = _tree(path)
    nodes = _nodes(path)
    a, b = len(nodes) - count, len(nodes) - count + 5
    nodes[a][4], nodes[b][4] = nodes[b][4], nodes[a][4]
    _put(path, _rebuilt(nodes, levels))
    verdict = checker(place).check(path)
    assert verdict.verdict == Effect.review
    assert verdict.profile.unread_geometries == [
        "f.fgb: 2 leaves of its spatial index hold boxes that are not their features'"
    ]


@pytest.mark.parametrize("what", ["node_box", "node_offset", "envelope", "leaf_offset"])
def test_numbers_in_the_tree_above_the_leaves_hold_the_verdict(tmp_path, checker, what):
    place = "sydney_mga56"
    x, y = origin(place)
    geoms = _geoms(place, "line")
    path = write(tmp_path / "f.fgb", PLACES[place][2], geoms, driver="FlatGeobuf")
    _, count, levels = _tree(path)
    nodes = _nodes(path)
    wrong = 0
    if what == "node_box":  # a precise position, inside the node's box: queries still work
        nodes[3][:4] = [x + 12.345, y + 0.678, nodes[3][2], nodes[3][3]]
        _put(path, nodes)
        wrong = _unlike_children(_nodes(path), levels)
        assert wrong >= 1
    elif what == "node_offset":  # eight bytes of anything in a node's child position
        nodes[2][4] = struct.unpack("<Q", struct.pack("<d", x + 12.345))[0]
        _put(path, nodes)
    elif what == "envelope":
        root = nodes[0]
        data = bytearray(path.read_bytes())
        where = data.index(struct.pack("<4d", *root[:4]), 12)
        struct.pack_into("<2d", data, where, x + 12.345, y + 0.678)
        path.write_bytes(bytes(data))
    else:  # a leaf pointing inside its feature: the features are no longer where it says
        nodes[len(nodes) - count + 7][4] += 8
        _put(path, _rebuilt(nodes, levels))
    assert len(pyogrio.read_arrow(path)[1]) == count  # GDAL reads the file as before
    verdict = checker(place).check(path)
    assert verdict.verdict == Effect.review
    assert CODE in {f.rule_id for f in verdict.findings}
    damaged = verdict.profile.leaks.unindexed_damaged
    expected = {
        "node_box": f"f.fgb: {wrong} nodes of its spatial index hold boxes other than their "
        "children's",
        "node_offset": "f.fgb: 1 nodes of its spatial index point elsewhere than their children",
        "envelope": "f.fgb: its header's envelope is not the box of its features",
        "leaf_offset": "f.fgb: the leaves of its spatial index point where no feature starts",
    }[what]
    assert damaged == [expected]


@pytest.mark.parametrize(
    ("place", "kind"),
    [
        ("oslo_utm32", "multiline"),
        ("sydney_mga56", "point"),
        ("nairobi_wgs84", "polygon"),
        ("buenos_aires_webmerc", "line"),
    ],
)
@pytest.mark.parametrize("n", [1, 16, 17, 300])
def test_an_index_gdal_writes_is_clean(tmp_path, checker, place, kind, n):
    geoms = _geoms(place, kind, n)
    path = write(tmp_path / "f.fgb", PLACES[place][2], geoms, driver="FlatGeobuf")
    assert _nodes(path)[:-n] == _rebuilt(_nodes(path), _tree(path)[2])[:-n]  # truth: it is
    verdict = checker(place).check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.unread_geometries == []
    assert verdict.profile.leaks.unindexed_damaged == []


def test_a_3d_layer_indexed_in_2d_is_clean(tmp_path, checker):
    place = "oslo_utm32"
    geoms = [shapely.force_3d(g, 55.5) for g in _geoms(place, "line", 40)]
    path = write(tmp_path / "f.fgb", PLACES[place][2], geoms, driver="FlatGeobuf")
    verdict = checker(place).check(path)
    assert verdict.profile.unread_geometries == []
    assert verdict.profile.leaks.unindexed_damaged == []


@pytest.mark.parametrize(
    "name", ["countries.fgb", "mp_overlapping.fgb", "poly00.fgb", "alldatatypes.fgb"]
)
def test_real_indexed_flatgeobuf_files_are_clean(real_data, name):
    path = real_data / "vectors" / "flatgeobuf" / name
    verdict = Checker(packs=["kr"]).check(path)
    assert verdict.profile.unread_geometries == []
    assert verdict.profile.leaks.unindexed_damaged == []
