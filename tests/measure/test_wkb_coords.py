"""Coordinates read from WKB bytes match GEOS's, and ground lengths match geodesics."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from compliance.geo.segment_metres import GroundMap
from compliance.measure.wkb_bounds import row_bytes, wkb_boxes
from compliance.measure.wkb_coords import simple_rows

GEOMS = [
    shapely.Point(1.5, 2.5),
    shapely.LineString([(0, 0), (1, 1), (2, 0.5)]),
    shapely.Polygon([(0, 0), (3, 0), (3, 3), (0, 0)]),
    shapely.MultiLineString([[(5, 5), (6, 6)]]),
    shapely.MultiPolygon([shapely.box(7, 7, 8, 9)]),
    shapely.Polygon(shapely.box(0, 0, 10, 10).exterior, [shapely.box(2, 2, 3, 3).exterior]),
    shapely.MultiPoint([(1, 1), (2, 2)]),
    shapely.GeometryCollection([shapely.Point(0, 0)]),
    None,
]
SIMPLE = [0, 1, 2, 3, 4]  # the rest (holes, multi-points, collections, nulls) go to GEOS


@pytest.mark.parametrize("dims", ["xy", "xyz", "xyzm"])
def test_simple_forms_read_as_geos_reads_them(dims):
    geoms = np.array(GEOMS, dtype=object)
    if dims != "xy":
        geoms = shapely.force_3d(geoms, 7.0)
    wkb = shapely.to_wkb(geoms, flavor="iso")  # ISO type codes: 1000+ for Z
    if dims == "xyzm":  # an M ordinate too: ISO type codes 3000+
        wkb = np.array(
            [
                None if g is None else shapely.to_wkb(g, output_dimension=4, flavor="iso")
                for g in geoms
            ],
            dtype=object,
        )
    found = simple_rows(pa.array(list(wkb), type=pa.binary()))
    assert found.rows.tolist() == SIMPLE
    assert found.points.tolist() == [True, False, False, False, False]
    want, owner = shapely.get_coordinates(geoms[SIMPLE], return_index=True)
    np.testing.assert_array_equal(found.coords, want)
    np.testing.assert_array_equal(found.owner, np.array(SIMPLE)[owner])


def test_forms_and_dimensions_mixed_in_one_batch_read_in_row_order():
    # Each form and dimension is gathered apart, then merged back in row order.
    rng = np.random.default_rng(8)
    flat = [GEOMS[i] for i in SIMPLE] * 6
    wkb = [
        shapely.to_wkb(
            shapely.force_3d(g, 2.0) if k % 3 else g,
            output_dimension=[2, 3, 4][k % 3],
            flavor="iso",
        )
        for k, g in enumerate(flat)
    ]
    order = rng.permutation(len(wkb))
    found = simple_rows(pa.array([wkb[i] for i in order], type=pa.binary()))
    assert found.rows.tolist() == list(range(len(wkb)))
    geoms = shapely.from_wkb(np.array([wkb[i] for i in order], dtype=object))
    want, owner = shapely.get_coordinates(geoms, return_index=True)
    np.testing.assert_array_equal(found.coords, want)
    np.testing.assert_array_equal(found.owner, owner)
    assert found.points.tolist() == (shapely.get_type_id(geoms) == 0).tolist()


def test_big_endian_extended_and_damaged_rows_are_left_to_geos():
    line = shapely.LineString([(0, 0, 1), (1, 1, 1)])
    big = shapely.to_wkb(line, byte_order=0)
    extended = shapely.to_wkb(line, flavor="extended", include_srid=False)  # EWKB Z flag
    short = shapely.to_wkb(line, flavor="iso")[:-8]
    found = simple_rows(pa.array([big, extended, short], type=pa.binary()))
    assert found.rows.size == 0 and found.coords.shape == (0, 2)


@pytest.mark.parametrize(
    ("crs", "lon", "lat"),
    [("EPSG:5186", 127.0, 37.5), ("EPSG:4326", 127.0, 37.5), ("EPSG:3857", 10.0, 60.0),
     ("EPSG:32652", 129.0, 35.0), ("EPSG:3857", -70.0, -45.0)],
)  # fmt: skip
def test_ground_lengths_match_geodesics(crs, lon, lat):
    # Segments of 1 to 50 m in every direction over a 20 km square: the nearest node's
    # metric is within 1e-4 of the geodesic (the scale changes little over half a cell).
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    rng = np.random.default_rng(1)
    lons, lats = lon + rng.uniform(0, 0.2, 500), lat + rng.uniform(0, 0.2, 500)
    az, dist = rng.uniform(0, 360, 500), rng.uniform(1, 50, 500)
    lon2, lat2, _ = Geod(ellps="WGS84").fwd(lons, lats, az, dist)
    x1, y1 = to_crs.transform(lons, lats)
    x2, y2 = to_crs.transform(lon2, lat2)
    box = (min(x1), min(y1), max(x1), max(y1))
    starts = np.column_stack([x1, y1])
    got = GroundMap(CRS.from_user_input(crs), box).lengths_m(
        starts, np.column_stack([x2, y2]) - starts
    )
    np.testing.assert_allclose(got, dist, rtol=1e-4)


def _uniform(kind: str, rng: np.random.Generator, n: int = 400) -> list:
    x, y = rng.uniform(-1e5, 1e5, n), rng.uniform(-1e5, 1e5, n)
    w = rng.uniform(0.01, 50, n)
    if kind == "point":
        return list(shapely.points(x, y))
    if kind == "line":
        return [
            shapely.LineString([(a, b), (a + d, b), (a + d, b + d)])
            for a, b, d in zip(x, y, w, strict=True)
        ]
    boxes = shapely.box(x, y, x + w, y + w)
    return list(boxes) if kind == "polygon" else [shapely.MultiPolygon([g]) for g in boxes]


@pytest.mark.parametrize("kind", ["point", "line", "polygon", "multipolygon"])
def test_a_batch_of_one_form_reads_as_geos_reads_it(kind):
    # A layer of one simple form is converted in one call; nulls, an empty point and a
    # ring GEOS refuses (not closed) must come out as they do row by row.
    rng = np.random.default_rng(len(kind))
    geoms = _uniform(kind, rng)
    wkb = [shapely.to_wkb(g, flavor="iso") for g in geoms]
    wkb[7] = None
    if kind == "point":
        wkb[11] = shapely.to_wkb(shapely.from_wkt("POINT EMPTY"), flavor="iso")
    if kind == "polygon":  # five points, the last not back at the first
        ring = np.array([[0, 0], [4, 0], [4, 4], [0, 4], [0, 1]], dtype="<f8")
        wkb[13] = b"\x01" + np.array([3, 1, 5], dtype="<u4").tobytes() + ring.tobytes()
    column = pa.array(wkb, type=pa.binary())
    for part in (column, column.slice(5, 300)):
        found = simple_rows(part)
        values = np.array(part.to_pylist(), dtype=object)
        decoded = np.array(
            [shapely.from_wkb(v, on_invalid="ignore") if v is not None else None for v in values],
            dtype=object,
        )
        kept = [i for i, g in enumerate(decoded) if g is not None and not shapely.is_empty(g)]
        want, owner = shapely.get_coordinates(decoded[kept], return_index=True)
        np.testing.assert_array_equal(found.coords, want)
        np.testing.assert_array_equal(found.owner, np.array(kept)[owner])


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_nulls_and_rows_read_without_pyarrow_compute(kind):
    from compliance.measure.wkb_bounds import null_mask, row_bytes

    column = pa.array([b"a", None, b"ccc", b"", None, b"dd"] * 40, type=kind)
    for part in (column, column.slice(7, 150), column.slice(3, 20)):
        want_null = np.asarray(part.is_null().to_numpy(zero_copy_only=False))
        np.testing.assert_array_equal(null_mask(part), want_null)
        for rows in (np.arange(len(part)), np.arange(len(part))[::7]):
            want = part.take(pa.array(rows)).to_pylist()
            assert list(row_bytes(part, rows)) == want


@pytest.mark.parametrize("count", [5, 300])  # a few rows copied one by one; many at once
def test_row_bytes_are_the_rows_wkb(count):
    rng = np.random.default_rng(count)
    geoms = _uniform("polygon", rng, 400) + _uniform("line", rng, 100)
    wkb = [shapely.to_wkb(g) for g in geoms]
    wkb[3] = wkb[250] = None
    column = pa.array(wkb, type=pa.binary()).slice(2, 450)  # an offset into the buffers
    rows = np.sort(rng.choice(450, count, replace=False))
    rows[0] = 1  # the null at 3, two rows into the slice
    got = row_bytes(column, rows)
    want = column.to_pylist()
    assert [got[k] for k in range(count)] == [want[i] for i in rows]
    assert got[0] is None


@pytest.mark.parametrize("kind", ["point", "line", "polygon", "multipolygon"])
def test_boxes_of_a_converted_batch_are_the_wkb_boxes(kind):
    # A batch of one form is converted once; its boxes are then read from the conversion.
    # They must be the boxes read from the WKB, nulls, NaN and empty rows included, and
    # hold every coordinate GEOS reads.
    rng = np.random.default_rng(7 + len(kind))
    geoms = _uniform(kind, rng)
    wkb = [shapely.to_wkb(g, flavor="iso") for g in geoms]
    if kind != "point":  # a null point keeps a slot of its own: such batches go by bytes
        wkb[4] = None
    xy = shapely.get_coordinates(geoms[9])
    xy[min(1, len(xy) - 1), 0] = np.nan  # a vertex that is not a number
    nan_at = shapely.set_coordinates(geoms[9], xy)
    wkb[9] = shapely.to_wkb(nan_at, flavor="iso")
    if kind == "point":
        wkb[11] = shapely.to_wkb(shapely.from_wkt("POINT EMPTY"), flavor="iso")
    column = pa.array(wkb, type=pa.binary())
    found = simple_rows(column)
    assert found.native is not None  # converted as one form
    converted = wkb_boxes(column, found.native)
    plain = wkb_boxes(column)
    np.testing.assert_array_equal(converted.bounds, plain.bounds)
    np.testing.assert_array_equal(converted.null, plain.null)
    np.testing.assert_array_equal(converted.fast, plain.fast)
    with np.errstate(invalid="ignore"):
        decoded = shapely.from_wkb(np.array(wkb, dtype=object))
    ok = ~shapely.is_missing(decoded) & ~shapely.is_empty(decoded)
    ok[9] = False  # GEOS's envelope of a NaN vertex is its own affair
    np.testing.assert_array_equal(converted.bounds[ok], shapely.bounds(decoded[ok]))
    assert np.isnan(converted.bounds[4]).all() == (kind != "point")
    assert converted.has_z is plain.has_z is False


@pytest.mark.parametrize("kind", ["point", "line", "polygon", "multipolygon"])
@pytest.mark.parametrize("z_rows", [(), (0,), (399,), tuple(range(400))])
def test_a_batch_with_z_anywhere_says_so_converted_or_not(kind, z_rows):
    # Boxes read from a conversion take "no Z" from it: only a batch of 2-D rows alone is
    # converted, so a Z row anywhere must leave the batch to the bytes, which say so.
    geoms = _uniform(kind, np.random.default_rng(3))
    for i in z_rows:
        geoms[i] = shapely.force_3d(geoms[i], 5.0)
    column = pa.array([shapely.to_wkb(g, flavor="iso") for g in geoms], type=pa.binary())
    found = simple_rows(column)
    assert (found.native is None) == bool(z_rows)
    assert wkb_boxes(column, found.native).has_z is bool(z_rows)
    extended = pa.array([shapely.to_wkb(g, flavor="extended") for g in geoms], type=pa.binary())
    assert wkb_boxes(extended, simple_rows(extended).native).has_z is bool(z_rows)
