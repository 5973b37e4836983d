"""Reading a shapefile's deleted records and their shapes straight from the files."""

from __future__ import annotations

import struct

import pytest
import shapely

from compliance.readers.raw.deleted_shapes import deleted_records, deleted_shapes, shapefile_parts
from tests.measure.leak_files import shapefile_with_deletions

SHAPES = {
    "points": ["POINT (10 20)", "POINT (11 21)", "POINT (12 22)", "POINT (13 23)"],
    "points_z": ["POINT Z (10 20 5)", "POINT Z (11 21 6)", "POINT Z (12 22 7)"],
    "lines": [
        "LINESTRING (0 0, 1 1, 2 0)",
        "MULTILINESTRING ((5 5, 6 6), (7 7, 8 9))",
        "LINESTRING (3 3, 4 4)",
    ],
    "polygons": [
        "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))",
        "MULTIPOLYGON (((20 0, 20 5, 25 5, 20 0)), ((30 0, 30 5, 35 5, 30 0)))",
        "POLYGON ((40 0, 40 3, 43 3, 40 0))",
    ],
    "multipoints": [
        "MULTIPOINT ((0 0), (1 1))",
        "MULTIPOINT ((5 5), (6 7), (8 9))",
        "MULTIPOINT ((2 2), (3 3))",
    ],
}


def _filled(geom: shapely.Geometry) -> shapely.Geometry:
    """Truth for a polygon: its rings filled (a hole only adds ground inside its shell)."""
    return shapely.force_2d(geom)


@pytest.mark.parametrize("kind", SHAPES)
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_deleted_records_and_their_shapes(tmp_path, kind, stride):
    geoms = [shapely.from_wkt(w) for w in SHAPES[kind]]
    deleted = list(range(0, len(geoms), stride))
    shp = shapefile_with_deletions(tmp_path / "s.shp", "EPSG:25832", geoms, deleted)
    parts = shapefile_parts(tmp_path / "s")
    assert parts is not None
    assert deleted_records(parts[2]) == deleted
    shapes = deleted_shapes(parts[0], parts[1], deleted)
    for i, shape in zip(deleted, shapes, strict=True):
        assert shape is not None
        assert shape.equals(_filled(geoms[i])), (shape.wkt, geoms[i].wkt)
    assert shp.exists()


def test_a_deleted_null_shape_is_empty_and_a_bad_offset_is_none(tmp_path):
    geoms = [shapely.from_wkt(w) for w in SHAPES["lines"]]
    shapefile_with_deletions(tmp_path / "n.shp", "EPSG:25832", geoms, [0, 1, 2])
    shp, shx, dbf = shapefile_parts(tmp_path / "n")  # type: ignore[misc]
    data = bytearray(shp.read_bytes())
    offset = struct.unpack_from(">i", shx.read_bytes(), 100)[0] * 2
    data[offset + 8 : offset + 12] = struct.pack("<i", 0)  # record 0: a null shape
    shp.write_bytes(bytes(data))
    index = bytearray(shx.read_bytes())
    index[108:112] = struct.pack(">i", 10**8)  # record 1: past the end of the .shp
    shx.write_bytes(bytes(index))
    shapes = deleted_shapes(shp, shx, [0, 1, 2])
    assert shapes[0].is_empty and shapes[1] is None and shapes[2] is not None


def test_upper_case_parts_are_found(tmp_path):
    geoms = [shapely.from_wkt(w) for w in SHAPES["points"]]
    shapefile_with_deletions(tmp_path / "u.shp", "EPSG:4326", geoms, [1])
    for part in tmp_path.glob("u.*"):
        part.rename(part.with_suffix(part.suffix.upper()))
    parts = shapefile_parts(tmp_path / "u")
    assert parts is not None and deleted_records(parts[2]) == [1]
