"""SpatiaLite: precise positions kept in blob MBRs and in the R*Tree beside coarse
geometries.

The move: snap the features to a coarse grid (about 100 m), write them with GDAL as a
SpatiaLite database, then with any SQLite tool write each feature's precise box into its
geometry blob's MBR (the four doubles after the SRID) or into the layer's R*Tree spatial
index (``idx_<table>_<column>``). GDAL reads the geometry from the blob's coordinates and
uses both only to find features: the file reads as before.

Claim under test: each MBR must be its geometry's box (to the bit; up to the float
rounding of a compressed geometry's stored steps), and the R*Tree must hold one cell per
geometry with its box rounded outward to 32-bit floats; else the verdict is held. The
controls are the files GDAL writes: points, lines, polygons, multi-part and 3-D layers,
compressed or not, in two CRSs, one of them large enough to be read in threads; and a
plain SQLite database of WKB, which keeps neither. Nor is a file held for its R*Tree's
own node table, whose blobs can read as a curve's WKB (such a file once ended the check
with an internal error).

Truth: the blobs and the R*Tree are rewritten and read here with sqlite3 and struct; the
boxes are shapely's.
"""

from __future__ import annotations

import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
IN_TABLE = "MAPGATE-COORDINATES-IN-TABLE"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _write(path: Path, geoms: np.ndarray, kind: str, epsg: int, **options: str) -> Path:
    dim = 3 if kind.endswith(" Z") else 2
    table = pa.table(
        {"n": np.arange(len(geoms)), "geometry": shapely.to_wkb(geoms, output_dimension=dim)}
    )
    pyogrio.write_arrow(
        table, path, layer="sites", driver="SQLite", geometry_name="geometry",
        geometry_type=kind, crs=f"EPSG:{epsg}", dataset_options={"SPATIALITE": "YES"},
        layer_options=options,
    )  # fmt: skip
    return path


def _points(n: int, epsg: int = 4326, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Precise points around Seoul and the same snapped to about 100 m, in ``epsg``."""
    rng = np.random.default_rng(seed)
    lonlat = np.column_stack([126.9 + rng.random(n) * 0.05, 37.5 + rng.random(n) * 0.05])
    xy = np.column_stack(
        Transformer.from_crs(4326, epsg, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    )
    step = 0.001 if epsg == 4326 else 100.0
    return xy, np.round(xy / step) * step


def _geometries(path: Path) -> pa.Array:
    meta, table = pyogrio.read_arrow(path)
    return table.column(meta["geometry_name"] or "wkb_geometry")


def _unlocked(db: sqlite3.Connection) -> None:
    """Drop the table's triggers: they call SpatiaLite's functions, which plain SQLite has
    not, and would keep the R*Tree the geometry's."""
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'sites'"
    ).fetchall():
        db.execute(f'DROP TRIGGER "{name}"')


def _mbrs_set(path: Path, boxes: np.ndarray) -> int:
    """Write ``boxes`` (minx, miny, maxx, maxy per row, in rowid order) into the blobs'
    MBRs; how many changed."""
    changed = 0
    with closing(sqlite3.connect(path)) as db:
        _unlocked(db)
        rows = db.execute("SELECT rowid, geometry FROM sites ORDER BY rowid").fetchall()
        for (rowid, blob), box in zip(rows, boxes, strict=True):
            order = "<" if blob[1] == 1 else ">"
            new = blob[:6] + struct.pack(f"{order}4d", *box) + blob[38:]
            changed += new != blob
            db.execute("UPDATE sites SET geometry = ? WHERE rowid = ?", (new, rowid))
        db.commit()
    return changed


def _rtree_set(path: Path, boxes: np.ndarray) -> None:
    with closing(sqlite3.connect(path)) as db:
        _unlocked(db)
        ids = [r for (r,) in db.execute("SELECT rowid FROM sites ORDER BY rowid")]
        db.executemany(
            "UPDATE idx_sites_geometry SET xmin = ?, xmax = ?, ymin = ?, ymax = ? WHERE pkid = ?",
            [(b[0], b[2], b[1], b[3], i) for i, b in zip(ids, boxes.tolist(), strict=True)],
        )
        db.commit()


def _held(verdict, what: str) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(what in fault for fault in verdict.profile.unread_geometries), (
        verdict.profile.unread_geometries
    )


def _clean(verdict) -> None:  # type: ignore[no-untyped-def]
    """Nothing held: no unread geometry, and no table of the database's own (its R*Tree's
    nodes, whose bytes may read as WKB by chance) taken for coordinates."""
    assert verdict.profile.unread_geometries == []
    assert [layer.name for layer in verdict.profile.layers if layer.coordinate_columns] == []
    assert {UNREAD, IN_TABLE}.isdisjoint(f.rule_id for f in verdict.findings)


@pytest.mark.parametrize("epsg", [4326, 5186])
def test_precise_mbrs_beside_coarse_points_hold_the_verdict(tmp_path, checker, epsg):
    precise, coarse = _points(40, epsg)
    path = _write(tmp_path / "sites.sqlite", shapely.points(coarse), "Point", epsg)
    _clean(checker.check(path))
    before = _geometries(path)
    assert _mbrs_set(path, np.hstack([precise, precise])) == 40
    # The file reads as before: GDAL takes the coordinates, not the MBR.
    assert _geometries(path).equals(before)
    _held(checker.check(path), "blobs hold envelopes that are not their geometries' boxes")


def test_precise_mbrs_beside_coarse_polygons_hold_the_verdict(tmp_path, checker):
    precise, coarse = _points(60)
    squares = shapely.box(coarse[:, 0], coarse[:, 1], coarse[:, 0] + 0.001, coarse[:, 1] + 0.001)
    path = _write(tmp_path / "sites.sqlite", squares, "Polygon", 4326)
    kept = np.hstack([precise, precise + 0.0004])
    assert _mbrs_set(path, kept) == 60
    _held(checker.check(path), "blobs hold envelopes")


def test_precise_rtree_boxes_beside_coarse_points_hold_the_verdict(tmp_path, checker):
    precise, coarse = _points(40)
    path = _write(tmp_path / "sites.sqlite", shapely.points(coarse), "Point", 4326)
    _rtree_set(path, np.hstack([precise, precise]))
    _held(checker.check(path), "its spatial index (idx_sites_geometry) holds 40 boxes")


def test_an_mbr_moved_past_a_compressed_geometrys_rounding_holds_the_verdict(tmp_path, checker):
    """A compressed geometry's MBR may miss its stored coordinates by float rounding (a
    centimetre a kilometre is let through); one moved 5 m (5e-5 degrees) may not."""
    _, coarse = _points(60)
    lines = shapely.linestrings(
        [
            np.column_stack([x + np.arange(6) * 3e-4, y + np.sin(np.arange(6)) * 2e-4])
            for x, y in coarse
        ]
    )
    path = _write(tmp_path / "lines.sqlite", lines, "LineString", 4326, COMPRESS_GEOM="YES")
    _clean(checker.check(path))
    moved = shapely.bounds(lines)
    moved[7, 0] -= 5e-5
    assert _mbrs_set(path, moved) == 1
    _held(checker.check(path), "1 geometry blobs hold envelopes")


CONTROLS = {
    "points": ("Point", lambda c: shapely.points(c)),
    "3-D points": ("Point Z", lambda c: shapely.points(c[:, 0], c[:, 1], np.full(len(c), 5.0))),
    "lines": ("LineString", lambda c: shapely.linestrings(
        [np.column_stack([x + np.arange(5) * 2e-4, y + np.cos(np.arange(5)) * 3e-4]) for x, y in c]
    )),
    "polygons": ("Polygon", lambda c: shapely.buffer(shapely.points(c), 3e-4, quad_segs=5)),
    "3-D polygons": ("Polygon Z", lambda c: shapely.force_3d(
        shapely.buffer(shapely.points(c), 3e-4, quad_segs=3), 12.5
    )),
    "multipolygons": ("MultiPolygon", lambda c: shapely.multipolygons(
        [[shapely.buffer(shapely.Point(x, y), 2e-4), shapely.buffer(shapely.Point(x + 1e-3, y), 2e-4)]
         for x, y in c]
    )),
    "multilines": ("MultiLineString", lambda c: np.array([shapely.MultiLineString(
        [[(x, y), (x + 1e-3, y + 5e-4), (x + 2e-3, y)], [(x, y + 1e-3), (x + 1e-3, y + 2e-3)]]
    ) for x, y in c])),
}  # fmt: skip


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "compressed"])
@pytest.mark.parametrize("kind", sorted(CONTROLS))
def test_spatialite_files_as_gdal_writes_them_are_not_held(tmp_path, checker, kind, compress):
    geometry_type, make = CONTROLS[kind]
    precise, _ = _points(300, seed=8)
    options = {"COMPRESS_GEOM": "YES"} if compress else {}
    path = _write(tmp_path / "sites.sqlite", make(precise), geometry_type, 4326, **options)
    _clean(checker.check(path))


def test_a_large_layer_read_in_threads_is_met_row_by_row(tmp_path, checker):
    """Over one batch (16,384 rows), the MBRs are read ahead in a thread and the R*Tree
    walked beside the scan: the GDAL file passes; one MBR moved in the last batch does
    not."""
    precise, _ = _points(40_000, 5186, seed=3)
    squares = shapely.box(precise[:, 0], precise[:, 1], precise[:, 0] + 8, precise[:, 1] + 6)
    path = _write(tmp_path / "big.sqlite", squares, "Polygon", 5186)
    _clean(checker.check(path))
    boxes = shapely.bounds(squares)
    boxes[39_000] += [-3.0, 0.0, 0.0, 0.0]
    assert _mbrs_set(path, boxes) == 1
    _held(checker.check(path), "1 geometry blobs hold envelopes")


def test_a_plain_sqlite_database_of_wkb_keeps_no_mbr_to_meet(tmp_path, checker):
    precise, _ = _points(40)
    table = pa.table({"n": np.arange(40), "geometry": shapely.to_wkb(shapely.points(precise))})
    path = tmp_path / "plain.sqlite"
    pyogrio.write_arrow(
        table, path, layer="sites", driver="SQLite", geometry_name="geometry",
        geometry_type="Point", crs="EPSG:4326", layer_options={"FORMAT": "WKB"},
    )  # fmt: skip
    _clean(checker.check(path))


def test_deleted_rows_boxes_left_in_the_rtree_are_met_by_their_ids(tmp_path, checker):
    """Rows deleted through the table's own triggers leave their boxes past the ends of the
    R*Tree's nodes: positions of features no longer in the layer, held as a GeoPackage's
    are. They are looked up by SpatiaLite's id column (``pkid``), not found unreadable."""
    precise, _ = _points(40)
    path = _write(tmp_path / "sites.sqlite", shapely.points(precise), "Point", 4326)
    with closing(sqlite3.connect(path)) as db:
        db.execute("DELETE FROM sites WHERE rowid % 2 = 0")
        db.commit()
    verdict = checker.check(path)
    _held(verdict, "cells past the ends of the nodes of idx_sites_geometry")
    assert not any("could not be read" in f for f in verdict.profile.unread_geometries)


DELETED = "MAPGATE-LEAK-DELETED-FEATURES"


def test_deleted_features_left_in_freed_cells_are_recovered_by_their_mbrs(tmp_path, checker):
    """Rows deleted without SQLite's secure delete (its default where it is not compiled
    in) leave their blobs in the pages' free space: each is placed by its MBR."""
    precise, _ = _points(40)
    path = _write(tmp_path / "sites.sqlite", shapely.points(precise), "Point", 4326)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA secure_delete = OFF")
        db.execute("DELETE FROM sites WHERE rowid % 2 = 0")
        db.commit()
    verdict = checker.check(path)
    assert DELETED in {f.rule_id for f in verdict.findings}
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert 0 < verdict.profile.leaks.deleted_geometries <= 20
    assert verdict.profile.leaks.deleted_geometries_unplaced == 0


def test_a_file_gdal_writes_and_updates_without_secure_delete_recovers_nothing(tmp_path, checker):
    """The control: 20,000 polygons written by GDAL with secure delete off, then every row
    updated (its old cell left behind, the same geometry): nothing deleted is found."""
    precise, _ = _points(20_000, seed=4)
    polygons = shapely.buffer(shapely.points(precise), 2e-4, quad_segs=3)
    pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": "secure_delete=0"})
    try:
        path = _write(tmp_path / "big.sqlite", polygons, "Polygon", 4326)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": None})
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA secure_delete = OFF")
        db.execute("UPDATE sites SET n = n + 1")
        db.commit()
    verdict = checker.check(path)
    assert verdict.profile.leaks.deleted_geometries == 0
    assert DELETED not in {f.rule_id for f in verdict.findings}
    _clean(verdict)
