"""Shapefiles: precise positions kept in the boxes and ranges beside coarse points.

The move: snap the features to a coarse grid and write them with GDAL, then with struct
write into each .shp record's box the precise box of its feature (GDAL reads the points
and uses a record's box only to skip it under a spatial filter), or the precise extent
into the .shp header (and the .shx header), or only into the .shx header; or keep the
x/y box true and write a precise position as a 3-D line's Z range or a measured line's M
range; or write numbers into the box of a record with no point. GDAL reads the same
features either way.

Claim under test: each record's box, Z range and M range must be the range of its
points, to the number; both headers' box and ranges must be those of the records (GDAL
starts them from zeros when its first record has no point); else the verdict is held
(review). The shapefiles GDAL writes (2-D, Z, M, ZM; nulls and empty shapes first or
in the middle) and the real shapefiles of other projects are clean.

Truth: the records are walked and rewritten here with struct (ESRI Shapefile Technical
Description, 1998); the precise boxes are shapely's; GDAL's reading is pyogrio's.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from compliance.readers.raw import shp_boxes
from compliance.readers.raw.shp_records import read_offsets, shp_records
from tests.adversarial.test_leak_shapefile_slack import _records, _rewrite
from tests.adversarial.unindexed_files import CODE, far_zone, features, shp_walk, write
from tests.measure.leak_files import PLACES, zone_file, zone_pack

_BOXED = {3, 5, 8, 13, 15, 18, 23, 25, 28, 31}


def _checker(tmp_path: Path, place: str) -> Checker:
    return Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, far_zone(place)))


def _coarse_and_precise(place: str, kind: str, n: int = 40) -> tuple[list, list, float]:
    """``n`` features nudged a few metres off a coarse grid, and the same snapped to it."""
    rng = np.random.default_rng(5)
    unit = 1e-5 if PLACES[place][2] == "EPSG:4326" else 1.0
    base = features(place, kind, [False] * n)
    if kind == "multipoint":
        base = [
            shapely.MultiPoint(shapely.get_coordinates(g)[::4])
            for g in features(place, "line", [False] * n)
        ]
    precise = [shapely.affinity.translate(g, *(rng.uniform(3, 40, 2) * unit)) for g in base]
    step = 50 * unit
    return precise, [shapely.set_precision(g, step, mode="pointwise") for g in precise], step


def _patch(shp: Path, record: int, offset: int, numbers: tuple[float, ...]) -> bool:
    """Write ``numbers`` (doubles) at ``offset`` in the content of record ``record``;
    whether that changed a byte."""
    data = bytearray(shp.read_bytes())
    at = shp_walk(shp)[record] + 8 + offset
    new = struct.pack(f"<{len(numbers)}d", *numbers)
    changed = data[at : at + len(new)] != new
    data[at : at + len(new)] = new
    shp.write_bytes(bytes(data))
    return changed


def _geometries(shp: Path) -> pa.Array:
    return pyogrio.read_arrow(shp)[1].column("wkb_geometry")


def _faults(shp: Path) -> list[str]:
    """What the range check says of ``shp``, called as the leak check calls it."""
    offsets = read_offsets(shp.with_suffix(""))
    assert offsets is not None
    walk = shp_records(offsets[0], offsets[2])
    return shp_boxes.shapefile_ranges(shp, walk.starts, shp.with_suffix(".shx")).faults(
        shp.name, shp.with_suffix(".shx").name
    )


def _held(verdict, text: str) -> None:  # type: ignore[no-untyped-def]
    assert any(text in d for d in verdict.profile.leaks.unindexed_damaged), (
        verdict.profile.leaks.unindexed_damaged
    )
    assert CODE in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize(
    ("place", "kind"),
    [
        ("oslo_utm32", "polygon"),
        ("sydney_mga56", "line"),
        ("nairobi_wgs84", "multipoint"),
        ("buenos_aires_webmerc", "multiline"),
    ],
)
def test_precise_boxes_in_the_records_hold_the_verdict(tmp_path, place, kind):
    precise, coarse, _ = _coarse_and_precise(place, kind)
    shp = write(tmp_path / "sites.shp", PLACES[place][2], coarse)
    assert _checker(tmp_path, place).check(shp).verdict == Effect.allow  # the control
    before = _geometries(shp)
    changed = sum(_patch(shp, i, 4, g.bounds) for i, g in enumerate(precise))
    assert changed == len(precise)
    assert _geometries(shp).equals(before)  # GDAL reads the same features
    _held(_checker(tmp_path, place).check(shp), f"{changed} records keep a box")


def test_a_precise_extent_in_the_headers_holds_the_verdict(tmp_path):
    place = "oslo_utm32"
    precise, coarse, _ = _coarse_and_precise(place, "polygon")
    shp = write(tmp_path / "sites.shp", PLACES[place][2], coarse)
    extent = struct.pack("<4d", *shapely.total_bounds(precise))
    for part in (shp, shp.with_suffix(".shx")):
        data = bytearray(part.read_bytes())
        assert data[36:68] != extent
        data[36:68] = extent
        part.write_bytes(bytes(data))
    _held(_checker(tmp_path, place).check(shp), "sites.shp: its header's box or ranges")


def test_an_index_header_unlike_the_shapes_header_holds_the_verdict(tmp_path):
    place = "sydney_mga56"
    precise, coarse, _ = _coarse_and_precise(place, "line")
    shp = write(tmp_path / "roads.shp", PLACES[place][2], coarse)
    shx = shp.with_suffix(".shx")
    before = _geometries(shp)
    data = bytearray(shx.read_bytes())
    data[36:68] = struct.pack("<4d", *shapely.total_bounds(precise))
    shx.write_bytes(bytes(data))
    assert _geometries(shp).equals(before)
    verdict = _checker(tmp_path, place).check(shp)
    _held(verdict, "roads.shx: its header's box or ranges are not those of roads.shp")
    assert not any("roads.shp: its header" in d for d in verdict.profile.leaks.unindexed_damaged)


def test_a_position_in_a_z_range_holds_the_verdict(tmp_path):
    place = "oslo_utm32"
    precise, coarse, _ = _coarse_and_precise(place, "line", 10)
    shp = write(
        tmp_path / "lines3d.shp", PLACES[place][2], [shapely.force_3d(g, 2.0) for g in coarse]
    )
    assert _faults(shp) == []
    record = shp.read_bytes()[shp_walk(shp)[3] + 8 :]
    parts, points = struct.unpack_from("<ii", record, 36)
    z_range = 44 + 4 * parts + 16 * points
    assert struct.unpack_from("<2d", record, z_range) == (2.0, 2.0)
    x, y = shapely.get_coordinates(precise[3])[0]
    assert _patch(shp, 3, z_range, (x, y))
    _held(_checker(tmp_path, place).check(shp), "1 records keep a box or a Z or M range")


def _measured_lines(path: Path, place: str, lines: list[shapely.Geometry], m: float) -> Path:
    """Lines with an M value at every vertex (ISO WKB), written by GDAL as PolyLineM."""
    wkbs = []
    for line in lines:
        xy = shapely.get_coordinates(line)
        body = b"".join(struct.pack("<3d", x, y, m + i) for i, (x, y) in enumerate(xy))
        wkbs.append(struct.pack("<BII", 1, 2002, len(xy)) + body)
    table = pa.table({"n": pa.array(range(len(wkbs)), pa.int32()), "geometry": pa.array(wkbs)})
    pyogrio.write_arrow(table, path, driver="ESRI Shapefile", geometry_name="geometry",
                        geometry_type="Measured LineString", crs=PLACES[place][2])  # fmt: skip
    return path


def test_a_position_in_an_m_range_holds_the_verdict(tmp_path):
    place = "sydney_mga56"
    precise, coarse, _ = _coarse_and_precise(place, "line", 10)
    shp = _measured_lines(tmp_path / "measured.shp", place, coarse, 100.0)
    assert struct.unpack_from("<i", shp.read_bytes(), 32)[0] == 23  # PolyLineM
    assert _checker(tmp_path, place).check(shp).verdict == Effect.allow  # the control
    record = shp.read_bytes()[shp_walk(shp)[5] + 8 :]
    parts, points = struct.unpack_from("<ii", record, 36)
    m_range = 44 + 4 * parts + 16 * points
    assert struct.unpack_from("<2d", record, m_range) == (100.0, 100.0 + points - 1)
    x, y = shapely.get_coordinates(precise[5])[0]
    assert _patch(shp, 5, m_range, (y, x))
    _held(_checker(tmp_path, place).check(shp), "1 records keep a box or a Z or M range")


@pytest.mark.parametrize(
    "numbers", [(10.751234, 59.912345, 10.751234, 59.912345), (0.0, 0.0, 0.0, 1e-300)]
)
def test_numbers_in_the_box_of_a_shape_with_no_point_hold_the_verdict(tmp_path, numbers):
    """GDAL writes an empty shape as a null record; other writers keep a polygon record of
    no part and no point, whose box then holds zeros (the control) or numbers."""
    place = "oslo_utm32"
    _, coarse, _ = _coarse_and_precise(place, "polygon", 6)
    shp = write(tmp_path / "gaps.shp", PLACES[place][2], [shapely.Polygon(), *coarse])
    contents = _records(shp)
    assert contents[0] == struct.pack("<i", 0)  # GDAL's null record
    contents[0] = struct.pack("<i4dii", 5, 0.0, 0.0, 0.0, 0.0, 0, 0)
    _rewrite(shp, contents)
    before = _geometries(shp)
    assert _faults(shp) == []
    assert _checker(tmp_path, place).check(shp).verdict == Effect.allow
    assert _patch(shp, 0, 4, numbers)
    assert _geometries(shp).equals(before)
    _held(_checker(tmp_path, place).check(shp), "1 records keep a box")


@pytest.mark.parametrize(
    ("place", "kind", "z"),
    [
        ("oslo_utm32", "point", False),
        ("oslo_utm32", "point", True),
        ("sydney_mga56", "line", True),
        ("nairobi_wgs84", "multipoint", False),
        ("buenos_aires_webmerc", "polygon", True),
        ("nairobi_wgs84", "multiline", False),
    ],
)
def test_shapefiles_gdal_writes_keep_the_ranges_of_their_points(tmp_path, place, kind, z):
    _, coarse, _ = _coarse_and_precise(place, kind, 12)
    if z:
        coarse = [shapely.force_3d(g, 7.5) for g in coarse]
    shp = write(tmp_path / "clean.shp", PLACES[place][2], coarse)
    assert _faults(shp) == []
    assert _checker(tmp_path, place).check(shp).verdict == Effect.allow


@pytest.mark.parametrize("where", ["first", "middle"])
@pytest.mark.parametrize("gap", ["null", "empty"])
def test_nulls_and_empty_shapes_gdal_writes_are_clean(tmp_path, where, gap):
    place = "sydney_mga56"
    _, coarse, _ = _coarse_and_precise(place, "polygon", 8)
    hole = None if gap == "null" else shapely.Polygon()
    geoms = [hole, *coarse] if where == "first" else [*coarse[:4], hole, *coarse[4:]]
    shp = write(tmp_path / "gaps.shp", PLACES[place][2], geoms)
    header = struct.unpack_from("<4d", shp.read_bytes(), 36)
    # GDAL starts the header's box from the first record's: zeros when it has no point.
    assert (header[0] == 0.0) == (where == "first")
    assert _faults(shp) == []


def test_measured_lines_gdal_writes_are_clean(tmp_path):
    place = "nairobi_wgs84"
    _, coarse, _ = _coarse_and_precise(place, "line", 8)
    shp = _measured_lines(tmp_path / "m.shp", place, coarse, -5.0)
    assert struct.unpack_from("<8d", shp.read_bytes(), 36)[6:] == (-5.0, 15.0)  # M range
    assert _faults(shp) == []


def test_ranges_are_met_across_passes(tmp_path, monkeypatch):
    """A file read in many passes finds what one pass finds (and the truth)."""
    place = "oslo_utm32"
    precise, coarse, _ = _coarse_and_precise(place, "line", 30)
    shp = write(
        tmp_path / "roads.shp", PLACES[place][2], [shapely.force_3d(g, 1.0) for g in coarse]
    )
    moved = [i for i in range(30) if i % 4 == 1 and _patch(shp, i, 4, precise[i].bounds)]
    one_pass = _faults(shp)
    monkeypatch.setattr(shp_boxes, "_POINTS_PER_PASS", 7)
    assert len(moved) == 8
    assert _faults(shp) == one_pass
    assert one_pass[0].startswith("roads.shp: 8 records keep a box")


def test_the_real_shapefiles_of_other_projects_are_clean(real_data):
    shapefiles = sorted(real_data.rglob("*.shp"))
    assert len(shapefiles) >= 8
    kinds = set()
    for shp in shapefiles:
        kinds.add(struct.unpack_from("<i", shp.read_bytes(), 32)[0])
        assert _faults(shp) == [], shp
    assert {1, 5, 31} <= kinds  # points, polygons, a multipatch


# ---- the .qix spatial index ----------------------------------------------------------


def _qix_nodes(qix: Path) -> list[tuple[int, tuple[float, ...], list[int], int]]:
    """Truth: every node of a .qix, depth first: where it starts, its box, its shapes'
    numbers and its number of subnodes (read with struct)."""
    data = qix.read_bytes()
    assert data[:3] == b"SQT"
    out, at = [], 16
    while at < len(data):
        _, *box, count = struct.unpack_from("<i4di", data, at)
        ids = list(struct.unpack_from(f"<{count}i", data, at + 40))
        (subnodes,) = struct.unpack_from("<i", data, at + 40 + 4 * count)
        out.append((at, tuple(box), ids, subnodes))
        at += 44 + 4 * count
    return out


def _indexed(tmp_path: Path, place: str, kind: str, geoms: list) -> Path:  # type: ignore[type-arg]
    shp = write(tmp_path / "indexed.shp", PLACES[place][2], geoms, SPATIAL_INDEX="YES")
    assert shp.with_suffix(".qix").is_file()
    return shp


@pytest.mark.parametrize(
    ("place", "kind"),
    [
        ("oslo_utm32", "polygon"),
        ("nairobi_wgs84", "point"),
        ("sydney_mga56", "line"),
        ("buenos_aires_webmerc", "multipoint"),
    ],
)
def test_precise_boxes_in_the_qix_hold_the_verdict(tmp_path, place, kind):
    """Each node that holds shapes gets the precise box of its first (a point's: the
    point)."""
    precise, coarse, _ = _coarse_and_precise(place, kind, 300)
    shp = _indexed(tmp_path, place, kind, coarse)
    qix = shp.with_suffix(".qix")
    assert _faults(shp) == [] and _checker(tmp_path, place).check(shp).verdict == Effect.allow
    before = _geometries(shp)
    data = bytearray(qix.read_bytes())
    planted = 0
    for at, _, ids, _ in _qix_nodes(qix):
        if ids:
            struct.pack_into("<4d", data, at + 4, *precise[ids[0]].bounds)
            planted += 1
    assert planted >= 2 and data != qix.read_bytes()
    qix.write_bytes(bytes(data))
    assert _geometries(shp).equals(before)
    _held(_checker(tmp_path, place).check(shp), "indexed.qix: its spatial index is not the tree")


def _edited_qix(tmp_path: Path, edit: str) -> Path:
    place = "oslo_utm32"
    _, coarse, _ = _coarse_and_precise(place, "polygon", 200)
    shp = _indexed(tmp_path, place, "polygon", coarse)
    qix = shp.with_suffix(".qix")
    data = bytearray(qix.read_bytes())
    nodes = _qix_nodes(qix)
    many = next(n for n in nodes if len(n[2]) >= 2)
    if edit == "swapped ids":  # the order of a node's shapes carries bits
        a, b = many[0] + 40, many[0] + 44
        data[a : a + 4], data[b : b + 4] = data[b : b + 4], data[a : a + 4]
    elif edit == "bytes after the tree":
        data += struct.pack("<2d", 10.751234, 59.912345)
    elif edit == "a node's byte count":
        struct.pack_into(
            "<i", data, nodes[0][0], struct.unpack_from("<i", data, nodes[0][0])[0] + 4
        )
    elif edit == "a shape counted twice":
        struct.pack_into("<i", data, many[0] + 44, many[2][0])
    qix.write_bytes(bytes(data))
    return shp


@pytest.mark.parametrize(
    "edit", ["swapped ids", "bytes after the tree", "a node's byte count", "a shape counted twice"]
)
def test_a_qix_that_is_not_its_shapes_tree_holds_the_verdict(tmp_path, edit):
    shp = _edited_qix(tmp_path, edit)
    assert len(_geometries(shp)) == 200  # GDAL reads the shapes all the same
    _held(_checker(tmp_path, "oslo_utm32").check(shp), "indexed.qix:")


@pytest.mark.parametrize(
    ("place", "kind", "gaps"),
    [
        ("oslo_utm32", "polygon", False),
        ("sydney_mga56", "line", True),
        ("nairobi_wgs84", "point", False),
        ("buenos_aires_webmerc", "multiline", True),
    ],
)
@pytest.mark.parametrize("n", [1, 9, 700])
def test_the_qix_gdal_writes_is_the_tree_of_its_shapes(tmp_path, place, kind, gaps, n):
    """GDAL's own index, of one shape to hundreds, with nulls first and in the middle."""
    _, coarse, _ = _coarse_and_precise(place, kind, n)
    if gaps:
        coarse = [None, *coarse[: n // 2], None, *coarse[n // 2 :]]
    shp = _indexed(tmp_path, place, kind, coarse)
    nodes = _qix_nodes(shp.with_suffix(".qix"))
    assert sorted(i for _, _, ids, _ in nodes for i in ids) == list(range(len(coarse)))
    assert _faults(shp) == []
