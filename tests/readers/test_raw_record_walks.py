"""Walking the records of a .shp and a FlatGeobuf from their bytes, and rebuilding a
FlatGeobuf feature's geometry from its flatbuffer: against files GDAL wrote, and against
damaged bytes (the walk must stop, say where, and never raise anything but the errors a
damaged file raises)."""

from __future__ import annotations

import struct

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from compliance.readers.raw.fgb_records import fgb_records, fgb_shapes
from compliance.readers.raw.shp_records import read_offsets, shp_records, shp_shapes

WKT = [
    "POINT (10 20)",
    "LINESTRING (0 0, 1 1, 2 0)",
    "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))",
    "MULTIPOINT ((0 0), (1 1), (3 4))",
    "MULTILINESTRING ((5 5, 6 6), (7 7, 8 9, 9 9))",
    "MULTIPOLYGON (((20 0, 20 5, 25 5, 20 0)), ((30 0, 30 5, 35 5, 30 0), (31 1, 31 2, 32 2, 31 1)))",
    "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (3 3, 4 5), POLYGON ((6 6, 6 8, 8 8, 6 6)))",
]
WKT_Z = ["LINESTRING Z (0 0 1, 1 1 2, 2 0 3)", "POLYGON Z ((0 0 1, 0 9 1, 9 9 2, 0 0 1))"]
# What may escape a walk of a damaged file (the leak checks meet them and say so).
DAMAGED = (OSError, ValueError, struct.error, IndexError)


def _filled(geom: shapely.Geometry) -> shapely.Geometry:
    """Truth: the geometry in its XY plane with every ring filled (holes add no ground
    outside their shell)."""
    flat = shapely.force_2d(geom)
    parts = shapely.get_parts(flat)
    rings = []
    for part in parts:
        if part.geom_type in ("Polygon", "MultiPolygon"):
            for poly in shapely.get_parts(part):
                rings += [shapely.Polygon(poly.exterior)]
                rings += [shapely.Polygon(r) for r in poly.interiors]
        else:
            rings.append(part)
    return shapely.union_all(rings)


def _fgb(path, geoms, index="NO"):  # type: ignore[no-untyped-def]
    frame = gpd.GeoDataFrame({"n": range(len(geoms))}, geometry=geoms, crs="EPSG:25832")
    frame.to_file(path, driver="FlatGeobuf", SPATIAL_INDEX=index)
    return path


@pytest.mark.parametrize("wkt", [WKT, WKT_Z], ids=["xy", "xyz"])
@pytest.mark.parametrize("index", ["NO", "YES"])
def test_every_flatgeobuf_geometry_type_is_rebuilt(tmp_path, index, wkt):
    geoms = [shapely.from_wkt(w) for w in wkt]
    path = _fgb(tmp_path / "all.fgb", geoms, index)
    walk = fgb_records(path)
    assert (walk.features_count, len(walk.starts), walk.damaged) == (len(geoms), len(geoms), None)
    # GDAL writes an indexed file's features in the index's (Hilbert) order.
    read = shapely.from_wkb(pyogrio.read_arrow(path)[1]["wkb_geometry"].to_numpy(False))
    shapes = fgb_shapes(path, walk.starts, walk.geometry_type)
    for shape, truth in zip(shapes, read, strict=True):
        assert shape is not None, truth.wkt
        assert _filled(shape).equals(_filled(truth)), (shape.wkt, truth.wkt)


def test_a_shp_walk_matches_the_shx_of_a_file_gdal_wrote(tmp_path):
    # Parts of one length: deleted_shapes' parser (which this one shares) rebuilds a
    # multi-line of parts of different lengths as None.
    multiline = "MULTILINESTRING ((5 5, 6 6), (7 7, 8 9))"
    geoms = [shapely.from_wkt(w) for w in (WKT[1], multiline)] * 30
    gpd.GeoDataFrame({"n": range(60)}, geometry=geoms, crs="EPSG:25832").to_file(tmp_path / "s.shp")
    shp, read, every = read_offsets(tmp_path / "s")  # type: ignore[misc]
    data = (tmp_path / "s.shx").read_bytes()
    truth = [2 * struct.unpack_from(">i", data, o)[0] for o in range(100, len(data), 8)]
    assert list(read) == list(every) == truth
    walk = shp_records(shp, every)
    assert (list(walk.starts), walk.damaged) == (truth, None)
    assert shp_records(shp, every[:0]).starts.tolist() == truth  # walked record by record
    for shape, geom in zip(shp_shapes(shp, walk.starts), geoms, strict=True):
        assert shape is not None
        assert shape.equals(_filled(geom)), (shape.wkt, geom.wkt)


@pytest.mark.parametrize("seed", range(40))
def test_a_damaged_flatgeobuf_stops_the_walk_and_never_misleads(tmp_path, seed):
    geoms = [shapely.from_wkt(w) for w in WKT] * 3
    path = _fgb(tmp_path / "d.fgb", geoms, "YES" if seed % 2 else "NO")
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for at in rng.integers(8, len(data), 1 + seed % 6):
        data[at] = int(rng.integers(0, 256))
    path.write_bytes(bytes(data))
    try:
        walk = fgb_records(path)
    except DAMAGED:
        return
    assert all(a < b for a, b in zip(walk.starts, walk.starts[1:], strict=False))
    assert all(s + 4 <= len(data) for s in walk.starts)
    shapes = fgb_shapes(path, walk.starts, walk.geometry_type)
    assert len(shapes) == len(walk.starts)


@pytest.mark.parametrize("seed", range(40))
def test_a_damaged_shp_stops_the_walk_and_never_misleads(tmp_path, seed):
    geoms = [shapely.from_wkt(w) for w in WKT[1:3]] * 10
    gpd.GeoDataFrame({"n": range(20)}, geometry=geoms, crs="EPSG:25832").to_file(tmp_path / "s.shp")
    shp = tmp_path / "s.shp"
    data = bytearray(shp.read_bytes())
    rng = np.random.default_rng(seed)
    for at in rng.integers(100, len(data), 1 + seed % 6):
        data[at] = int(rng.integers(0, 256))
    shp.write_bytes(bytes(data))
    _, _, every = read_offsets(tmp_path / "s")  # type: ignore[misc]
    walk = shp_records(shp, every)
    ends = [int(s) + 8 + 2 * struct.unpack_from(">i", data, int(s) + 4)[0] for s in walk.starts]
    assert list(walk.starts[1:]) == ends[:-1]  # each record where the one before ends
    assert walk.damaged is not None or (ends[-1] if ends else 100) == len(data)
    assert len(shp_shapes(shp, walk.starts)) == len(walk.starts)


@pytest.mark.parametrize("count", [1, 2, 17, 257])
def test_the_walk_starts_past_an_index_of_any_size(tmp_path, count):
    """The packed R-tree has a root above its leaves even for one feature: the walk must
    start where GDAL does, past every node."""
    geoms = [shapely.Point(i, i) for i in range(count)]
    path = _fgb(tmp_path / "n.fgb", geoms, "YES")
    walk = fgb_records(path)
    assert (walk.features_count, len(walk.starts), walk.damaged) == (count, count, None)
    shapes = fgb_shapes(path, walk.starts, walk.geometry_type)
    assert sorted(s.x for s in shapes) == list(range(count))


def _fanned_out(n: int) -> bytes:
    """A feature whose collection holds ``n`` parts that are all one collection, whose
    ``n`` parts are all one point: a few kilobytes that unfold into n * n points."""
    geometry_vt = struct.pack("<10H", 20, 12, 0, 0, 0, 0, 0, 0, 4, 8)
    buf = bytearray(struct.pack("<I", 12) + struct.pack("<3H2x", 6, 8, 4))  # root, feature vt
    buf += struct.pack("<iI", 8, 40 - 16)  # the feature at 12: vtable at 4, geometry at 40
    buf += geometry_vt  # at 20, shared by both collections
    outer, inner = 40, 56 + 4 * n
    point = inner + 12 + 4 + 4 * n
    buf += struct.pack("<iB3xI", outer - 20, 7, 52 - (outer + 8))
    buf += struct.pack("<I", n) + b"".join(
        struct.pack("<I", inner - (56 + 4 * k)) for k in range(n)
    )
    buf += struct.pack("<iB3xI", inner - 20, 7, (inner + 12) - (inner + 8))
    slots = inner + 16
    buf += struct.pack("<I", n) + b"".join(
        struct.pack("<I", point - (slots + 4 * k)) for k in range(n)
    )
    buf += struct.pack("<iIB3x", -12, 32 - 4, 1)  # the point: vtable after it, xy at +32
    buf += struct.pack("<9H2x", 18, 12, 0, 4, 0, 0, 0, 0, 8)
    buf += struct.pack("<I2d", 2, 1.0, 2.0)
    return bytes(buf)


def test_parts_that_repeat_the_same_bytes_are_not_unfolded():
    from compliance.readers.raw.fgb_geometry import fgb_geometry

    small = fgb_geometry(_fanned_out(2), 0)
    assert small is not None and len(shapely.get_parts(small)) == 2  # the builder is sound
    assert fgb_geometry(_fanned_out(2000), 0) is None


@pytest.mark.parametrize("kind", [3, 13, 23])  # PolyLine, PolyLineZ, PolyLineM
def test_a_shapefile_line_of_parts_of_different_lengths_is_rebuilt(kind):
    # shapely.multilinestrings refuses ragged parts: such a shape came back unplaceable.
    from compliance.readers.raw.deleted_shapes import shape_record

    parts = [[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)], [(5.0, 5.0), (6.0, 6.0)]]
    points = [p for part in parts for p in part]
    content = (
        struct.pack("<i", kind) + struct.pack("<4d", 0, 0, 6, 6) + struct.pack("<2i", 2, 5)
        + struct.pack("<2i", 0, 3) + b"".join(struct.pack("<2d", *p) for p in points)
    )  # fmt: skip
    shape = shape_record(content)
    assert shape is not None and shape.equals(shapely.MultiLineString(parts))
