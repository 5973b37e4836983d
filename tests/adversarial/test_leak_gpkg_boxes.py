"""GeoPackage: precise positions kept in blob envelopes and in the R*Tree beside coarse
geometries.

The move: snap the features' vertices to a coarse grid (50-100 m), write them with GDAL,
then with any SQLite tool write each feature's precise box into its geometry blob's
header envelope, or into the layer's R*Tree spatial index (``rtree_<table>_<column>``),
or add an envelope to points that had none, or write numbers into the R*Tree's nodes
above its leaves or into a node nothing points to; or keep the x/y envelope true and
write the precise position as its z or m range (on 2-D points, or in place of the z
range GDAL writes for 3-D geometries), or as the payload bits of NaNs (a z range, an
empty geometry's envelope). GDAL reads the geometry from the
blob's WKB and uses both only to find features: the file reads as before.

Claim under test: each envelope must be its geometry's box, to the bit (its z and m
ranges too, where it keeps them; NaNs only plain ones), and the R*Tree
must hold exactly one cell per geometry with its box rounded outward to 32-bit floats,
under nodes that hold the unions of their children; else the verdict is held.

Truth: the blobs and the R*Tree are rewritten and read here with sqlite3 and struct; the
boxes are shapely's; SQLite's own R*Tree rounds the test's boxes for the rounding test.
The controls are the files GDAL writes, in four CRSs, with gaps in their ids, and the
real GeoPackages of other projects.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from compliance.measure.leaks.gpkg_boxes import rtree_rounded
from tests.adversarial.unindexed_files import far_zone, features
from tests.measure.leak_files import PLACES, origin, zone_file, zone_pack

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"


def _geoms(place: str, kind: str, n: int = 300) -> list[shapely.Geometry]:
    """``n`` features 60 m apart (lines drawn with 10 m steps), each nudged off the grid
    by a few metres."""
    rng = np.random.default_rng(11)
    unit = 1e-5 if PLACES[place][2] == "EPSG:4326" else 1.0
    return [
        shapely.affinity.translate(g, *(rng.uniform(3, 40, 2) * unit))
        for g in features(place, kind, [False] * n)
    ]


def _write(
    path: Path, crs: str, geoms: list[shapely.Geometry], fids: list[int] | None = None
) -> Path:
    columns = {"n": list(range(len(geoms)))}
    if fids is not None:
        columns["fid"] = fids  # GDAL takes a "fid" column as the table's ids
    gpd.GeoDataFrame(columns, geometry=geoms, crs=crs).to_file(path, layer="t", driver="GPKG")
    return path


def _connect(path: Path) -> sqlite3.Connection:
    """A connection with GDAL's SQL functions the R*Tree triggers call, computed here
    from each blob's WKB (so that the triggers keep the R*Tree the geometry's)."""
    db = sqlite3.connect(path)

    def wkb(blob: bytes) -> shapely.Geometry:
        flags = blob[3]
        size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
        return shapely.from_wkb(blob[8 + size :])

    db.create_function("ST_IsEmpty", 1, lambda b: int(b is None or wkb(b).is_empty))
    for name, i in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        db.create_function(name, 1, lambda b, i=i: wkb(b).bounds[i])
    return db


def _rows(path: Path) -> list[tuple[int, bytes]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT fid, geom FROM t ORDER BY fid").fetchall()


def _with_envelope(blob: bytes, box: tuple[float, ...]) -> bytes:
    """The blob with ``box`` (minx, miny, maxx, maxy) as its x/y envelope."""
    flags = blob[3]
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    head = blob[:3] + bytes([(flags & ~0b1110) | 0b0010 | 1]) + blob[4:8]
    return head + struct.pack("<4d", box[0], box[2], box[1], box[3]) + blob[8 + size :]


@contextmanager
def _headers_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for rewriting the blobs' headers: GDAL's R*Tree update triggers are
    taken off meanwhile (the WKB, and so the index, stays as it was). Through them SQLite
    would delete and reinsert each cell, leaving old cells past the ends of its nodes,
    which is a finding of its own."""
    db = _connect(path)
    kept = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_t_geom_update%'"
    ).fetchall()
    assert kept
    for name, _ in kept:
        db.execute(f'DROP TRIGGER "{name}"')
    try:
        yield db
        db.commit()
    finally:
        for _, sql in kept:
            db.execute(sql)
        db.commit()
        db.close()


def _leftovers(path: Path) -> int:
    """Truth: the cells past the ends of the R*Tree's nodes that are not copies of a live
    cell (a leaf's: the row with its id; above the leaves: the cell pointing at that
    node), and nodes with bytes past their last whole cell; read with struct."""
    nodes = _nodes(path)
    leaves = _leaves(path)
    with closing(sqlite3.connect(path)) as db:
        rows = {
            r[0]: list(r[1:])
            for r in db.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_t_geom")
        }
    inner = {}
    for n, data in nodes.items():
        if n not in leaves:
            for k in range(struct.unpack_from(">H", data, 2)[0]):
                child, *box = struct.unpack_from(">q4f", data, 4 + 24 * k)
                inner[child] = box
    count = 0
    for n, data in nodes.items():
        live = struct.unpack_from(">H", data, 2)[0]
        whole = (len(data) - 4) // 24
        for k in range(live, whole):
            cell = data[4 + 24 * k : 4 + 24 * (k + 1)]
            if any(cell):
                i, *box = struct.unpack(">q4f", cell)
                count += (rows if n in leaves else inner).get(i) != box
        count += any(data[4 + 24 * whole :])
    return count


def _precise_envelopes(path: Path, precise: list[shapely.Geometry]) -> int:
    changed = 0
    with _headers_only(path) as db:
        for fid, blob in _rows(path):
            box = precise[fid - 1].bounds
            new = _with_envelope(blob, box)
            changed += new != blob
            db.execute("UPDATE t SET geom = ? WHERE fid = ?", (new, fid))
        db.commit()
    return changed


def _precise_rtree(path: Path, precise: list[shapely.Geometry]) -> int:
    changed = 0
    with closing(sqlite3.connect(path)) as db:
        for fid, minx, maxx, miny, maxy in db.execute("SELECT * FROM rtree_t_geom").fetchall():
            x0, y0, x1, y1 = precise[fid - 1].bounds
            changed += rtree_rounded(np.array([[x0, y0, x1, y1]])).tolist() != [
                [minx, miny, maxx, maxy]
            ]
            db.execute(
                "UPDATE rtree_t_geom SET minx = ?, maxx = ?, miny = ?, maxy = ? WHERE id = ?",
                (x0, x1, y0, y1, fid),
            )
        db.commit()
    return changed


@pytest.fixture
def checker(tmp_path):  # type: ignore[no-untyped-def]
    def make(place: str) -> Checker:
        return Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, far_zone(place)))

    return make


CASES = {
    "oslo_polygons": ("oslo_utm32", "polygon", 50.0),
    "sydney_lines": ("sydney_mga56", "line", 50.0),
    "nairobi_points_degrees": ("nairobi_wgs84", "point", 1e-3),
    "buenos_aires_multilines": ("buenos_aires_webmerc", "multiline", 100.0),
}


def _coarse(place: str, kind: str, step: float) -> tuple[list, list]:
    precise = _geoms(place, kind)
    return precise, [shapely.set_precision(g, step, mode="pointwise") for g in precise]


def _assert_held(verdict, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict != Effect.allow
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert verdict.profile.unread_geometries == expected


@pytest.mark.parametrize("name", CASES)
def test_precise_envelopes_beside_coarse_geometries_hold_the_verdict(tmp_path, checker, name):
    place, kind, step = CASES[name]
    precise, coarse = _coarse(place, kind, step)
    control = _write(tmp_path / "control.gpkg", PLACES[place][2], coarse)
    verdict = checker(place).check(control)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.unread_geometries == []

    path = _write(tmp_path / "trick.gpkg", PLACES[place][2], coarse)
    changed = _precise_envelopes(path, precise)
    assert changed == len(precise)
    before = pyogrio.read_dataframe(control).geometry
    assert list(pyogrio.read_dataframe(path).geometry.to_wkb()) == list(before.to_wkb())
    _assert_held(
        checker(place).check(path),
        [f"t.geom: {changed} geometry blobs hold envelopes that are not their geometries' boxes"],
    )


@pytest.mark.parametrize("name", CASES)
def test_precise_rtree_boxes_beside_coarse_geometries_hold_the_verdict(tmp_path, checker, name):
    place, kind, step = CASES[name]
    precise, coarse = _coarse(place, kind, step)
    path = _write(tmp_path / "trick.gpkg", PLACES[place][2], coarse)
    changed = _precise_rtree(path, precise)
    assert changed > len(precise) // 2
    # GDAL finds the features through the R*Tree as before.
    box = shapely.total_bounds(precise + coarse)
    assert len(pyogrio.read_arrow(path, bbox=tuple(box))[1]) == len(coarse)
    # SQLite's R*Tree deletes and reinserts each updated cell, leaving old ones behind.
    left = _leftovers(path)
    _assert_held(
        checker(place).check(path),
        [
            f"t.geom: {left} cells past the ends of the nodes of rtree_t_geom hold boxes of "
            "no row or node it holds (rows deleted or moved, or numbers put there)"
        ][: bool(left)]
        + [
            f"t.geom: its spatial index (rtree_t_geom) holds {len(coarse)} boxes for the "
            f"{len(coarse)} geometries read, and not each one's box"
        ],
    )


def test_one_rtree_cell_moved_by_one_float_step_holds_the_verdict(tmp_path, checker):
    place = "oslo_utm32"
    geoms = _geoms(place, "polygon", 60)
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], geoms)
    with closing(sqlite3.connect(path)) as db:
        (minx,) = db.execute("SELECT minx FROM rtree_t_geom WHERE id = 17").fetchone()
        lower = float(np.nextafter(np.float32(minx), np.float32(-np.inf)))
        db.execute("UPDATE rtree_t_geom SET minx = ? WHERE id = 17", (lower,))
        db.commit()
    verdict = checker(place).check(path)
    assert verdict.verdict == Effect.review
    assert len(verdict.profile.unread_geometries) == 1


def _nodes(path: Path) -> dict[int, bytes]:
    with closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT nodeno, data FROM rtree_t_geom_node").fetchall())


@pytest.mark.parametrize("what", ["node_box", "node_nan", "orphan_node", "point_envelopes"])
def test_numbers_beside_the_tree_hold_the_verdict(tmp_path, checker, what):
    place = "sydney_mga56"
    x, y = origin(place)
    kind = "point" if what == "point_envelopes" else "line"
    geoms = _geoms(place, kind)
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], geoms)
    nodes = _nodes(path)
    assert struct.unpack_from(">H", nodes[1])[0] >= 1  # 300 rows: the root is above leaves
    with _headers_only(path) as db:
        if what == "node_box":  # a precise position as the root's first cell's minimum
            root = bytearray(nodes[1])
            struct.pack_into(">f", root, 4 + 8, np.float32(x + 12.345))
            db.execute("UPDATE rtree_t_geom_node SET data = ? WHERE nodeno = 1", (bytes(root),))
            expected = "t.geom: 1 cells of rtree_t_geom hold boxes other than their nodes'"
        elif what == "node_nan":  # a NaN, whose payload bits can carry a number, in its place
            root = bytearray(nodes[1])
            struct.pack_into(">I", root, 4 + 8, 0x7FC12345)
            db.execute("UPDATE rtree_t_geom_node SET data = ? WHERE nodeno = 1", (bytes(root),))
            expected = "t.geom: 1 cells of rtree_t_geom hold boxes other than their nodes'"
        elif what == "orphan_node":  # a node nothing points to, full of positions
            cells = b"".join(struct.pack(">q4f", i, x + i, x + i, y, y) for i in range(40))
            data = b"\0\0" + struct.pack(">H", 40) + cells
            db.execute("INSERT INTO rtree_t_geom_node VALUES (?, ?)", (max(nodes) + 1, data))
            expected = "t.geom: the cells above the leaves of rtree_t_geom point at nodes other than its own"
        else:  # envelopes added to points written without any
            for fid, blob in _rows(path):
                assert (blob[3] >> 1) & 7 == 0
                p = geoms[fid - 1]
                precise = (p.x + 0.123, p.y + 0.456, p.x + 0.123, p.y + 0.456)
                db.execute(
                    "UPDATE t SET geom = ? WHERE fid = ?", (_with_envelope(blob, precise), fid)
                )
            expected = f"t.geom: {len(geoms)} geometry blobs hold envelopes that are not their geometries' boxes"
        db.commit()
    assert len(pyogrio.read_arrow(path)[1]) == len(geoms)
    verdict = checker(place).check(path)
    assert verdict.verdict == Effect.review
    assert expected in verdict.profile.unread_geometries


@pytest.mark.parametrize(
    ("place", "kind"),
    [("oslo_utm32", "multiline"), ("sydney_mga56", "point"), ("nairobi_wgs84", "polygon"),
     ("buenos_aires_webmerc", "line")],
)  # fmt: skip
@pytest.mark.parametrize("n", [1, 51, 300])
def test_a_geopackage_gdal_writes_is_clean(tmp_path, checker, place, kind, n):
    geoms = _geoms(place, kind, n)
    fids = list(np.cumsum([1 + i % 7 for i in range(n)]).tolist())  # gaps of every size
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], geoms, fids)
    with closing(sqlite3.connect(path)) as db:
        assert [r[0] for r in db.execute("SELECT fid FROM t ORDER BY fid")] == fids
    verdict = checker(place).check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.unread_geometries == []


def test_rows_without_geometry_and_3d_rows_are_clean(tmp_path, checker):
    place = "oslo_utm32"
    geoms: list = [shapely.force_3d(g, 12.5) for g in _geoms(place, "line", 40)]
    geoms[3] = None
    geoms[20] = None
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], geoms)
    verdict = checker(place).check(path)
    assert verdict.profile.unread_geometries == []


def test_rtree_rounding_is_sqlite_s():
    """Truth: SQLite's own R*Tree stores the boxes; the rounding must give its floats."""
    rng = np.random.default_rng(5)
    a = np.concatenate(
        [rng.uniform(-1e7, 1e7, (3000, 4)), rng.uniform(-200, 200, (3000, 4)),
         np.round(rng.uniform(-100, 100, (500, 4)), 1), np.zeros((2, 4)), np.full((2, 4), -0.0)]
    )  # fmt: skip
    boxes = np.column_stack(
        [np.minimum(a[:, 0], a[:, 2]), np.minimum(a[:, 1], a[:, 3]),
         np.maximum(a[:, 0], a[:, 2]), np.maximum(a[:, 1], a[:, 3])]
    )  # fmt: skip
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
        db.executemany(
            "INSERT INTO r VALUES (?, ?, ?, ?, ?)",
            [(i, b[0], b[2], b[1], b[3]) for i, b in enumerate(boxes.tolist())],
        )
        stored = np.array(db.execute("SELECT minx, miny, maxx, maxy FROM r ORDER BY id").fetchall())
    assert np.array_equal(rtree_rounded(boxes).astype(np.float64), stored)


@pytest.mark.parametrize(
    "name",
    ["test_gpkg_nulls.gpkg", "line_zm.gpkg", "curve.gpkg", "multisurface.gpkg"],
)
def test_real_geopackages_are_clean(real_data, name):
    verdict = Checker(packs=["kr"]).check(real_data / "vectors" / "pyogrio" / name)
    assert verdict.profile.unread_geometries == []


def test_without_helper_threads_the_same_faults_are_found(tmp_path):
    """A pool worker on every core checks without helper threads: the envelopes are read
    in step with the scan and the R*Tree walked after it, with the same outcome."""
    place = "oslo_utm32"
    precise, coarse = _coarse(place, "polygon", 50.0)
    path = _write(tmp_path / "trick.gpkg", PLACES[place][2], coarse)
    _precise_envelopes(path, precise)
    _precise_rtree(path, precise)
    zones = zone_file(tmp_path, far_zone(place))
    found = [
        Checker(packs=[str(zone_pack(tmp_path))], zones=zones, helper_threads=threads)
        .check(path)
        .profile.unread_geometries
        for threads in (True, False)
    ]
    assert found[0] == found[1] and len(found[0]) == 2 + bool(_leftovers(path))


def test_an_rtree_beside_many_unreadable_geometries_is_said_unmet(real_data, monkeypatch):
    """The R*Tree cells of geometries the scan cannot read (curves) are looked up one by
    one and left out; past a bound, the R*Tree is said not met instead."""
    from compliance.measure.leaks import gpkg_boxes

    path = real_data / "vectors" / "pyogrio" / "curve.gpkg"
    assert Checker(packs=["kr"]).check(path).profile.unread_geometries == []
    monkeypatch.setattr(gpkg_boxes, "_LOOKUPS", 0)
    assert Checker(packs=["kr"]).check(path).profile.unread_geometries == [
        "curve.geometry: its spatial index (rtree_curve_geometry) was not met with the "
        "geometries: 1 of them could not be read"
    ]


def _with_ranges(blob: bytes, box: tuple[float, ...], kind: int, ranges: list[float]) -> bytes:
    """The blob with an envelope of ``kind`` (2: x, y and z ranges; 3: x, y and m; 4: x,
    y, z and m): ``box`` (minx, miny, maxx, maxy) as its x/y range, then ``ranges``."""
    flags = blob[3]
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    head = blob[:3] + bytes([(flags & ~0b1110) | (kind << 1) | 1]) + blob[4:8]
    xy = struct.pack("<4d", box[0], box[2], box[1], box[3])
    return head + xy + struct.pack(f"<{len(ranges)}d", *ranges) + blob[8 + size :]


@pytest.mark.parametrize("kind", [2, 3, 4])
@pytest.mark.parametrize("place", ["nairobi_wgs84", "oslo_utm32"])
def test_precise_positions_as_an_envelope_s_z_or_m_range_hold_the_verdict(
    tmp_path, checker, kind, place
):
    """Coarse 2-D points, each given an envelope whose x/y range is its box to the bit and
    whose z (or m) range is the precise position: y as the minimum, x as the maximum."""
    step = 1e-3 if PLACES[place][2] == "EPSG:4326" else 50.0
    precise, coarse = _coarse(place, "point", step)
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], coarse)
    with _headers_only(path) as db:
        for fid, blob in _rows(path):
            p, c = precise[fid - 1], coarse[fid - 1]
            low, high = sorted([p.x, p.y])
            ranges = [low, high] * (2 if kind == 4 else 1)
            db.execute(
                "UPDATE t SET geom = ? WHERE fid = ?",
                (_with_ranges(blob, c.bounds, kind, ranges), fid),
            )
        db.commit()
    read = pyogrio.read_dataframe(path).geometry
    assert list(read.to_wkb()) == [g.wkb for g in coarse]  # GDAL reads the coarse points
    _assert_held(
        checker(place).check(path),
        [
            f"t.geom: {len(coarse)} geometry blobs hold envelopes that are not their geometries' boxes"
        ],
    )


@pytest.mark.parametrize(("place", "kind"), [("oslo_utm32", "polygon"), ("sydney_mga56", "line")])
def test_precise_positions_as_the_z_range_of_3d_envelopes_hold_the_verdict(
    tmp_path, checker, place, kind
):
    """GDAL writes an envelope with the z range for each 3-D geometry: the z range swapped
    for a precise position, in the layer and in a control written alike."""
    precise, coarse = _coarse(place, kind, 50.0)
    heights = [shapely.force_3d(g, 20.0 + i % 7) for i, g in enumerate(coarse)]
    control = _write(tmp_path / "control.gpkg", PLACES[place][2], heights)
    with closing(sqlite3.connect(control)) as db:
        kinds = {(blob[3] >> 1) & 7 for (blob,) in db.execute("SELECT geom FROM t")}
    assert kinds == {2}  # x, y and z ranges, the z range the geometry's
    verdict = checker(place).check(control)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.unread_geometries == []

    path = _write(tmp_path / "trick.gpkg", PLACES[place][2], heights)
    with _headers_only(path) as db:
        for fid, blob in _rows(path):
            x0, y0, x1, y1 = precise[fid - 1].bounds
            new = _with_ranges(blob, heights[fid - 1].bounds, 2, [x0, y0])
            db.execute("UPDATE t SET geom = ? WHERE fid = ?", (new, fid))
        db.commit()
    assert list(pyogrio.read_dataframe(path).geometry.to_wkb()) == list(
        pyogrio.read_dataframe(control).geometry.to_wkb()
    )
    _assert_held(
        checker(place).check(path),
        [
            f"t.geom: {len(heights)} geometry blobs hold envelopes that are not their geometries' boxes"
        ],
    )


def test_an_envelope_z_range_that_is_the_geometry_s_is_clean(tmp_path, checker):
    """3-D points (GDAL writes them no envelope) given the envelope they would have: x, y
    and z ranges, each the point's own."""
    place = "oslo_utm32"
    points = [shapely.force_3d(g, 10.0 + i) for i, g in enumerate(_geoms(place, "point", 60))]
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], points)
    with _headers_only(path) as db:
        for fid, blob in _rows(path):
            p = points[fid - 1]
            db.execute(
                "UPDATE t SET geom = ? WHERE fid = ?",
                (_with_ranges(blob, p.bounds, 2, [p.z, p.z]), fid),
            )
        db.commit()
    verdict = checker(place).check(path)
    assert verdict.profile.unread_geometries == []
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]


@pytest.mark.parametrize("threads", [True, False])
def test_z_ranges_are_met_row_by_row_across_batches_and_gaps(tmp_path, threads):
    """40,000 3-D points, ids with gaps (the envelopes then come in chunks that do not line
    up with the scan's batches), each with an envelope holding its own z range: clean.
    Then one row's z range, far into the layer, made another number: held, that one."""
    place = "oslo_utm32"
    x, y = origin(place)
    n = 40_000
    fids = [1 + i + i // 3 for i in range(n)]
    points = [
        shapely.Point(x + (i % 200) * 60.0, y + (i // 200) * 60.0, float(i)) for i in range(n)
    ]
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], points, fids)
    with _headers_only(path) as db:
        rows = _rows(path)
        assert {(blob[3] >> 1) & 7 for _, blob in rows} == {0}  # GDAL: no envelope on points
        own = [(_with_ranges(b, points[i].bounds, 2, [points[i].z] * 2), fid) for i, (fid, b) in enumerate(rows)]  # fmt: skip
        db.executemany("UPDATE t SET geom = ? WHERE fid = ?", own)
        db.commit()
    checker = Checker(
        packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, far_zone(place)),
        helper_threads=threads,
    )  # fmt: skip
    assert checker.check(path).profile.unread_geometries == []
    blob, fid = own[30_000]
    p = points[30_000]
    with _headers_only(path) as db:
        db.execute(
            "UPDATE t SET geom = ? WHERE fid = ?",
            (_with_ranges(blob, p.bounds, 2, [p.z, p.z + 0.5]), fid),
        )
        db.commit()
    assert checker.check(path).profile.unread_geometries == [
        "t.geom: 1 geometry blobs hold envelopes that are not their geometries' boxes"
    ]


def test_a_nan_z_range_carrying_a_position_holds_the_verdict(tmp_path, checker):
    """2-D points with an x, y and z envelope whose z range is two NaNs, each with a precise
    coordinate's bits in its payload: a NaN is no number to compare, but carries 51 bits."""
    place = "oslo_utm32"
    precise, coarse = _coarse(place, "point", 50.0)
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], coarse)
    with _headers_only(path) as db:
        for fid, blob in _rows(path):
            p, c = precise[fid - 1], coarse[fid - 1]
            carried = [
                struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_0000 | round(v * 1000)))[0]
                for v in (p.x, p.y)
            ]
            new = _with_ranges(blob, c.bounds, 2, carried)
            assert (
                struct.unpack_from("<Q", new, 8 + 32)[0] & 0xFFFF_FFFF
                == round(p.x * 1000) & 0xFFFF_FFFF
            )
            db.execute("UPDATE t SET geom = ? WHERE fid = ?", (new, fid))
        db.commit()
    _assert_held(
        checker(place).check(path),
        [
            f"t.geom: {len(coarse)} geometry blobs hold envelopes that are not their geometries' boxes"
        ],
    )


def test_nan_envelopes_of_empty_geometries_carrying_positions_hold_the_verdict(tmp_path, checker):
    """Empty geometries (GDAL reads them as features with no vertex) each given an
    envelope of NaNs whose payloads are a precise position's bits. The control: the same
    with plain NaNs."""
    place = "oslo_utm32"
    precise = _geoms(place, "point", 40)
    empties = [shapely.Polygon() for _ in precise]
    for payload in (True, False):
        path = _write(tmp_path / f"f{payload}.gpkg", PLACES[place][2], empties)
        with _headers_only(path) as db:
            for fid, blob in _rows(path):
                assert blob[3] & 0b10000  # the empty flag
                p = precise[fid - 1]
                bits = [round(p.x * 1000), round(p.y * 1000)] * 2 if payload else [0] * 4
                box = [struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_0000 | b))[0] for b in bits]  # fmt: skip
                new = _with_ranges(blob, tuple(box), 1, [])
                db.execute("UPDATE t SET geom = ? WHERE fid = ?", (new, fid))
            db.commit()
        verdict = checker(place).check(path)
        if payload:
            expected = f"t.geom: {len(empties)} geometry blobs hold envelopes that are not their geometries' boxes"  # fmt: skip
            assert expected in verdict.profile.unread_geometries
            assert verdict.verdict != Effect.allow
        else:
            assert verdict.profile.unread_geometries == []


def _leaves(path: Path) -> dict[int, tuple[int, list[tuple[int, list[float]]]]]:
    """Truth: each leaf node's cell count and cells (id, [minx, maxx, miny, maxy]), read
    with struct; leaves are the nodes at the root's depth."""
    nodes = _nodes(path)
    depth = struct.unpack_from(">H", nodes[1])[0]
    with closing(sqlite3.connect(path)) as db:
        parents = dict(db.execute("SELECT nodeno, parentnode FROM rtree_t_geom_parent"))

    def level(n: int) -> int:
        return 0 if n == 1 else 1 + level(parents[n])

    out = {}
    for n, data in nodes.items():
        if level(n) == depth:
            count = struct.unpack_from(">H", data, 2)[0]
            cells = [struct.unpack_from(">q4f", data, 4 + 24 * k) for k in range(count)]
            out[n] = (count, [(c[0], list(c[1:])) for c in cells])
    return out


@pytest.mark.parametrize("where", ["leaves", "root", "tail"])
def test_positions_put_past_the_ends_of_rtree_nodes_hold_the_verdict(tmp_path, checker, where):
    """Each node's bytes past its last cell are read by nothing: precise positions put
    there as cells (in the leaves, or in the root above them), or as two doubles in the
    node's last 16 bytes."""
    place = "sydney_mga56"
    precise, coarse = _coarse(place, "point", 50.0)
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], coarse)
    nodes = _nodes(path)
    leaves = _leaves(path)
    targets = list(leaves) if where == "leaves" else [1]
    put = 0
    with closing(sqlite3.connect(path)) as db:
        for n in targets:
            data = bytearray(nodes[n])
            count = struct.unpack_from(">H", data, 2)[0]
            room = (len(data) - 4) // 24 - count
            assert room > 0 and not any(data[4 + 24 * count :])  # GDAL leaves zeros
            if where == "tail":
                p = precise[0]
                struct.pack_into(">2d", data, len(data) - 16, p.x, p.y)
                put += 1
            else:
                for k, p in enumerate(precise[put : put + min(room, 20)]):
                    cell = struct.pack(">q4f", 10_000 + put, p.x, p.x, p.y, p.y)
                    data[4 + 24 * (count + k) : 4 + 24 * (count + k + 1)] = cell
                    put += 1
            db.execute("UPDATE rtree_t_geom_node SET data = ? WHERE nodeno = ?", (bytes(data), n))
        db.commit()
    assert len(pyogrio.read_arrow(path, bbox=tuple(shapely.total_bounds(coarse)))[1]) == len(coarse)
    expected = (
        f"t.geom: {put} cells past the ends of the nodes of rtree_t_geom hold boxes of no "
        "row or node it holds (rows deleted or moved, or numbers put there)"
    )
    _assert_held(checker(place).check(path), [expected])


def test_rows_deleted_with_sqlite_leave_their_boxes_in_the_rtree(tmp_path, checker):
    """SQLite's R*Tree moves the cells after a deleted one down and leaves the last one's
    bytes: deleting a leaf's last row leaves that row's box, a precise position of a
    feature no longer in the layer. Deleting a row from the middle of a leaf leaves a
    copy of a live cell only: clean."""
    place = "oslo_utm32"
    geoms = _geoms(place, "point")
    middle = _write(tmp_path / "middle.gpkg", PLACES[place][2], geoms)
    last = _write(tmp_path / "last.gpkg", PLACES[place][2], geoms)
    leaves = _leaves(last)
    node = next(n for n, (count, _) in leaves.items() if count >= 3)
    cells = leaves[node][1]
    gone_last, gone_middle = cells[-1][0], cells[1][0]
    for path, fid in ((middle, gone_middle), (last, gone_last)):
        with closing(_connect(path)) as db:
            db.execute("DELETE FROM t WHERE fid = ?", (fid,))
            db.commit()
    # Truth: the deleted last cell's bytes are still in its node, past the new count.
    count, _ = _leaves(last)[node]
    left = struct.unpack_from(">q4f", _nodes(last)[node], 4 + 24 * count)
    assert left[0] == gone_last and list(left[1:]) == cells[-1][1]
    # The middle deletion leaves a copy of the cell now last.
    count, now = _leaves(middle)[node]
    left = struct.unpack_from(">q4f", _nodes(middle)[node], 4 + 24 * count)
    assert (left[0], list(left[1:])) == now[-1]

    verdict = checker(place).check(middle)
    assert verdict.profile.unread_geometries == []
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    _assert_held(
        checker(place).check(last),
        [
            "t.geom: 1 cells past the ends of the nodes of rtree_t_geom hold boxes of no "
            "row or node it holds (rows deleted or moved, or numbers put there)"
        ],
    )


def test_bytes_past_the_last_whole_cell_of_a_node_hold_the_verdict(tmp_path, checker):
    """On 1 KB pages SQLite makes R*Tree nodes of 960 bytes: 39 cells and 20 bytes after
    them that no cell covers. A position put there; the control, the same tree untouched."""
    place = "oslo_utm32"
    geoms = _geoms(place, "point", 120)
    path = _write(tmp_path / "f.gpkg", PLACES[place][2], geoms)
    with closing(_connect(path)) as db:
        db.execute("PRAGMA page_size = 1024")
        db.execute("VACUUM")
        db.execute("DELETE FROM rtree_t_geom")
        db.execute("DROP TABLE rtree_t_geom")
        db.execute("CREATE VIRTUAL TABLE rtree_t_geom USING rtree(id, minx, maxx, miny, maxy)")
        db.execute(
            "INSERT INTO rtree_t_geom SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom),"
            " ST_MaxY(geom) FROM t"
        )
        db.commit()
    nodes = _nodes(path)
    assert {len(d) for d in nodes.values()} == {960} and (960 - 4) % 24 == 20
    verdict = checker(place).check(path)
    assert verdict.profile.unread_geometries == []
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    x, y = origin(place)
    data = bytearray(nodes[1])
    struct.pack_into(">2d", data, 960 - 16, x + 12.345, y + 67.891)
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE rtree_t_geom_node SET data = ? WHERE nodeno = 1", (bytes(data),))
        db.commit()
    _assert_held(
        checker(place).check(path),
        [
            "t.geom: 1 cells past the ends of the nodes of rtree_t_geom hold boxes of no "
            "row or node it holds (rows deleted or moved, or numbers put there)"
        ],
    )
