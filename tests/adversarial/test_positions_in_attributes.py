"""Precise positions kept in a layer's numbers while its drawn geometry says less.

The move: coarsen or move the features a checker measures, and carry every precise
position along in a pair of numeric attributes (``POINT_X``/``POINT_Y``, ``lat``/``lon``,
``위도``/``경도``) that no measurement reads, or in columns named for anything else
(``elev``, ``code``), one axis alone, as whole metres, or shifted a few hundred metres.
Claim under test: a pair of position columns that puts any row off its own geometry
holds the file for review (as coordinates written in text do), in the layer's CRS or as
longitude and latitude beside a projected layer, and so does any numeric column whose
every value lies within a kilometre of its row's coordinate and off it somewhere; a pair
that repeats the geometry (the point a GIS adds per feature, rounded to six decimals as
a .dbf keeps it, or a label point inside a polygon), a constant, serials, counts and
bearings do not.

Truth: the positions are built here with pyproj from the geometries written, and moved
by known distances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import held as _held
from tests.adversarial.attribute_layers import write_layer as _write

# Seoul (Korea 2000 / Central Belt, EPSG:5186) and Busan (UTM 52N), clear of demo zones.
PLACES = {"seoul": ((126.905, 37.552), 5186), "busan": ((129.075, 35.180), 32652)}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _points(place: str, n: int = 20) -> tuple[np.ndarray, np.ndarray, int]:
    """Points 50 m apart in the place's projected CRS, and their lon/lat."""
    (lon, lat), epsg = PLACES[place]
    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    xy = np.array([(x0 + (i % 5) * 50.0, y0 + (i // 5) * 50.0) for i in range(n)])
    lonlat = np.column_stack(
        Transformer.from_crs(epsg, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    )
    return xy, lonlat, epsg


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson"])
def test_the_geometrys_own_positions_do_not_hold_the_layer(tmp_path, checker, place, suffix):
    xy, lonlat, epsg = _points(place)
    geoms = shapely.points(xy)
    columns = {
        "POINT_X": xy[:, 0], "POINT_Y": xy[:, 1],
        # As a .dbf keeps degrees: six decimals, off by up to 5e-7 degrees (5 cm).
        "lon": np.round(lonlat[:, 0], 6), "lat": np.round(lonlat[:, 1], 6),
    }  # fmt: skip
    verdict = checker.check(_write(tmp_path / f"own{suffix}", geoms, epsg, columns))
    (layer,) = verdict.profile.layers
    assert layer.coordinate_columns is None
    assert not _held(verdict)


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson"])
def test_positions_of_elsewhere_hold_the_layer(tmp_path, checker, place, suffix):
    xy, _, epsg = _points(place)
    moved = xy + [0.0, 0.0]
    moved[7] += [3.0, -2.0]  # one row's point 3.6 m off its drawn point
    geoms = shapely.points(xy)
    columns = {"POINT_X": moved[:, 0], "POINT_Y": moved[:, 1]}
    verdict = checker.check(_write(tmp_path / f"moved{suffix}", geoms, epsg, columns))
    (layer,) = verdict.profile.layers
    assert layer.coordinate_columns == ["POINT_X", "POINT_Y"]
    assert _held(verdict)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


@pytest.mark.parametrize(
    "names",
    [("lon", "lat"), ("LONDD", "LATDD"), ("경도", "위도"), ("decimalLongitude", "decimalLatitude")],
)
def test_degrees_beside_a_projected_layer_are_carried_into_it(tmp_path, checker, names):
    xy, lonlat, epsg = _points("seoul")
    geoms = shapely.points(xy)
    same = {names[0]: lonlat[:, 0], names[1]: lonlat[:, 1]}
    verdict = checker.check(_write(tmp_path / "same.gpkg", geoms, epsg, same))
    assert verdict.profile.layers[0].coordinate_columns is None
    # 0.0005 degrees of latitude: 55 m north of every drawn point.
    off = {names[0]: lonlat[:, 0], names[1]: lonlat[:, 1] + 0.0005}
    verdict = checker.check(_write(tmp_path / "off.gpkg", geoms, epsg, off))
    assert verdict.profile.layers[0].coordinate_columns == list(names)
    assert _held(verdict)


def test_a_label_point_inside_a_coarse_polygon_does_not_hold_it(tmp_path, checker):
    xy, _, epsg = _points("busan", 5)
    squares = shapely.buffer(shapely.points(xy), 20.0, cap_style="square")
    inside = shapely.point_on_surface(squares)
    columns = {"X": shapely.get_x(inside) + 7.25, "Y": shapely.get_y(inside) - 3.5}
    verdict = checker.check(_write(tmp_path / "label.gpkg", squares, epsg, columns))
    assert verdict.profile.layers[0].coordinate_columns is None
    # The same numbers beside polygons drawn 100 m away: they place something else.
    shifted = shapely.transform(squares, lambda c: c + [100.0, 0.0])
    verdict = checker.check(_write(tmp_path / "away.gpkg", shifted, epsg, columns))
    assert verdict.profile.layers[0].coordinate_columns == ["X", "Y"]
    assert _held(verdict)


def test_positions_on_rows_without_geometry_hold_the_layer(tmp_path, checker):
    xy, _, epsg = _points("seoul", 6)
    geoms = shapely.points(xy).astype(object)
    geoms[2] = None
    columns = {"POINT_X": xy[:, 0], "POINT_Y": xy[:, 1]}
    table = pa.table({"POINT_X": columns["POINT_X"], "POINT_Y": columns["POINT_Y"],
                      "geometry": shapely.to_wkb(geoms)})  # fmt: skip
    path = tmp_path / "nulls.gpkg"
    pyogrio.write_arrow(table, path, layer="sites", driver="GPKG", geometry_name="geometry",
                        geometry_type="Point", crs=f"EPSG:{epsg}")  # fmt: skip
    verdict = checker.check(path)
    assert verdict.profile.layers[0].coordinate_columns == ["POINT_X", "POINT_Y"]


def test_unpaired_and_harmless_numbers_are_not_taken_for_positions(tmp_path, checker):
    xy, _, epsg = _points("seoul")
    columns = {"Y": np.full(len(xy), 1.0e6), "height": np.arange(len(xy)) * 3.0,
               "Shape_Length": np.full(len(xy), 12.5)}  # fmt: skip
    verdict = checker.check(_write(tmp_path / "plain.gpkg", shapely.points(xy), epsg, columns))
    assert verdict.profile.layers[0].coordinate_columns is None


def test_a_data_frames_attributes_are_read_too(checker):
    """A pipeline's GeoDataFrame: its columns are a table too (text, a second geometry
    column, position pairs), as a file's would be."""
    import geopandas as gpd

    xy, _, epsg = _points("busan", 8)
    moved = xy.copy()
    moved[5] += [0.0, 4.0]
    frame = gpd.GeoDataFrame(
        {
            "name": [f"site {i}" for i in range(len(xy))],
            "POINT_X": moved[:, 0],
            "POINT_Y": moved[:, 1],
            "remarks": [None] * 7 + [shapely.Point(xy[0] + 0.5).wkt],
            "mixed": [1, "two", 3.0, None, b"four", "six", 7, "eight"],
        },
        geometry=shapely.points(xy),
        crs=f"EPSG:{epsg}",
    )
    verdict = checker.check(frame)
    assert verdict.profile.layers[0].coordinate_columns == ["remarks", "POINT_X", "POINT_Y"]
    assert _held(verdict)

    frame["POINT_Y"] = xy[:, 1]
    frame["remarks"] = None
    frame["outline"] = gpd.GeoSeries(shapely.buffer(shapely.points(xy), 5.0), crs=f"EPSG:{epsg}")
    verdict = checker.check(frame)
    assert verdict.profile.layers[0].coordinate_columns == ["outline"]

    plain = frame.drop(columns=["outline"])
    assert checker.check(plain).profile.layers[0].coordinate_columns is None


# ---- positions in columns of any name ------------------------------------------------


def _coarse(xy: np.ndarray, step: float = 100.0) -> np.ndarray:
    return np.round(xy / step) * step


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".fgb"])
def test_precise_positions_in_columns_of_any_name_hold_the_layer(tmp_path, checker, place, suffix):
    """Points snapped to 100 m; the precise eastings and northings in columns named for
    something else."""
    xy, _, epsg = _points(place)
    precise = xy + np.random.default_rng(7).uniform(-40, 40, xy.shape)
    columns = {"elev": precise[:, 0], "code": precise[:, 1], "count": np.arange(len(xy)) * 7}
    path = _write(tmp_path / f"sites{suffix}", shapely.points(_coarse(precise)), epsg, columns)
    verdict = checker.check(path)
    assert verdict.profile.layers[0].coordinate_columns == ["elev", "code"]
    assert _held(verdict)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


@pytest.mark.parametrize(
    "column",
    [
        pytest.param(lambda precise: precise[:, 0], id="eastings only"),
        pytest.param(lambda precise: np.round(precise[:, 1]).astype(np.int64), id="whole metres"),
        pytest.param(lambda precise: precise[:, 0] - 300.0, id="300 m west of each point"),
    ],
)
def test_one_axis_in_one_column_holds_the_layer(tmp_path, checker, column):
    xy, _, epsg = _points("busan")
    precise = xy + np.random.default_rng(8).uniform(-40, 40, xy.shape)
    path = _write(tmp_path / "one.gpkg", shapely.points(_coarse(precise)), epsg,
                  {"remark_no": column(precise)})  # fmt: skip
    verdict = checker.check(path)
    assert verdict.profile.layers[0].coordinate_columns == ["remark_no"]
    assert _held(verdict)


def test_degrees_in_columns_of_any_name_beside_degrees_hold_the_layer(tmp_path, checker):
    _, lonlat, _ = _points("seoul")
    precise = lonlat + np.random.default_rng(9).uniform(-3e-4, 3e-4, lonlat.shape)
    coarse = np.round(precise, 3)  # about 100 m
    path = _write(tmp_path / "deg.geojson", shapely.points(coarse), 4326,
                  {"a": precise[:, 0], "b": precise[:, 1]})  # fmt: skip
    verdict = checker.check(path)
    assert verdict.profile.layers[0].coordinate_columns == ["a", "b"]


def test_the_precise_positions_in_another_order_hold_the_layer(tmp_path, checker):
    """The rows' precise eastings, reversed: every one a feature's, none its own row's,
    all within a kilometre of their rows (the layer spans 200 m)."""
    xy, _, epsg = _points("seoul")
    precise = xy + np.random.default_rng(10).uniform(-40, 40, xy.shape)
    path = _write(tmp_path / "reversed.gpkg", shapely.points(_coarse(precise)), epsg,
                  {"shuffled": precise[::-1, 0].copy()})  # fmt: skip
    assert checker.check(path).profile.layers[0].coordinate_columns == ["shuffled"]


def test_numbers_outside_the_layers_positions_are_not_taken_for_them(tmp_path, checker):
    """Controls: a constant near the data, serials running past its extent, a column
    repeating the geometry, counts, and a layer of two rows (too few to tell); in
    degrees, bearings of 0-359."""
    xy, lonlat, epsg = _points("seoul")
    precise = xy + np.random.default_rng(10).uniform(-40, 40, xy.shape)
    coarse = _coarse(precise)
    columns = {
        "constant": np.full(len(xy), float(coarse[0, 0])),
        "serial": coarse[0, 0] + np.arange(len(xy)) * 1000.0,
        "same_x": coarse[:, 0],
        "visitors": np.arange(len(xy)) * 37,
    }
    path = _write(tmp_path / "plain.gpkg", shapely.points(coarse), epsg, columns)
    assert checker.check(path).profile.layers[0].coordinate_columns is None
    two = _write(tmp_path / "two.gpkg", shapely.points(coarse[:2]), epsg,
                 {"e": precise[:2, 0], "n": precise[:2, 1]})  # fmt: skip
    assert checker.check(two).profile.layers[0].coordinate_columns is None
    bearings = {"bearing": np.linspace(0.0, 359.0, len(xy))}
    path = _write(tmp_path / "deg.geojson", shapely.points(np.round(lonlat, 3)), 4326, bearings)
    assert checker.check(path).profile.layers[0].coordinate_columns is None


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda x, y: f"{y:.6f}, {x:.6f}", id="lat, lon"),
        pytest.param(lambda x, y: f"site 4 at x={x:.6f} y={y:.6f}", id="labelled"),
        pytest.param(lambda x, y: f"{x:.6f}", id="one axis"),
    ],
)
@pytest.mark.parametrize("rows", [30, 5000])  # Python's regex; Arrow's kernel past 4096
def test_precise_positions_written_in_text_hold_the_layer(tmp_path, checker, write, rows):
    verdict = _written(tmp_path, checker, write, rows, seed=11)
    assert verdict.profile.layers[0].coordinate_columns == ["note"]
    assert _held(verdict)


def _written(tmp_path: Path, checker: Checker, write, rows: int, seed: int):  # type: ignore[no-untyped-def]
    """The check of ``rows`` points near Seoul snapped to 0.001 degree, each with its
    precise position written by ``write(lon, lat)`` in a text column "note"."""
    rng = np.random.default_rng(seed)
    lon, lat = 126.95 + rng.random(rows) * 0.05, 37.50 + rng.random(rows) * 0.05
    notes = [write(x, y) for x, y in zip(lon, lat, strict=True)]
    coarse = shapely.points(np.round(lon, 3), np.round(lat, 3))
    return checker.check(_write(tmp_path / "notes.gpkg", coarse, 4326, {"note": notes}))


def test_eastings_and_northings_in_text_beside_a_projected_layer_hold_it(tmp_path, checker):
    xy, _, epsg = _points("busan")
    precise = xy + np.random.default_rng(12).uniform(-40, 40, xy.shape)
    notes = [f"E {x:.1f} / N {y:.1f}" for x, y in precise]
    path = _write(tmp_path / "en.shp", shapely.points(_coarse(precise)), epsg, {"remark": notes})
    assert checker.check(path).profile.layers[0].coordinate_columns == ["remark"]


def _coarse_lonlat(seed: int, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points near Seoul on a 0.001 degree grid."""
    rng = np.random.default_rng(seed)
    return np.round(126.95 + rng.random(n) * 0.05, 3), np.round(37.5 + rng.random(n) * 0.05, 3)


def test_text_with_other_numbers_is_not_taken_for_positions(tmp_path, checker):
    """Controls: addresses, a route number near the data's longitude, dates, and the
    drawn coordinates themselves written out."""
    lon, lat = _coarse_lonlat(13)
    columns = {
        "address": [f"{i * 7 + 1} Sejong-daero, Jung-gu" for i in range(30)],
        "route": ["Route 127"] * 30,
        "surveyed": [f"2024-05-{i % 28 + 1:02d}" for i in range(30)],
        "drawn_at": [f"{x:.3f} {y:.3f}" for x, y in zip(lon, lat, strict=True)],
    }
    path = _write(tmp_path / "plain.gpkg", shapely.points(lon, lat), 4326, columns)
    assert checker.check(path).profile.layers[0].coordinate_columns is None


def _dms(value: float, positive: str, negative: str) -> str:
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    d, rest = int(value), (abs(value) - int(value)) * 60
    return f"{d}°{int(rest):02d}'{(rest - int(rest)) * 60:05.2f}\"{hemisphere}"


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda x, y: f"{_dms(y, 'N', 'S')} {_dms(x, 'E', 'W')}", id="DMS"),
        pytest.param(
            lambda x, y: (
                f"N {int(y)}° {(y - int(y)) * 60:.4f}' E {int(x)}° {(x - int(x)) * 60:.4f}'"
            ),
            id="degrees and decimal minutes",
        ),
        pytest.param(
            lambda x, y: (
                f"{int(y)}도 {int((y % 1) * 60)}분 {((y * 60) % 1) * 60:.2f}초, "
                f"{int(x)}도 {int((x % 1) * 60)}분 {((x * 60) % 1) * 60:.2f}초"
            ),
            id="도분초",
        ),
    ],
)
@pytest.mark.parametrize("rows", [30, 5000])
def test_precise_positions_in_degrees_minutes_seconds_hold_the_layer(
    tmp_path, checker, write, rows
):
    verdict = _written(tmp_path, checker, write, rows, seed=14)
    assert verdict.profile.layers[0].coordinate_columns == ["note"]


def test_times_and_bearings_are_not_taken_for_positions(tmp_path, checker):
    lon, lat = _coarse_lonlat(15)
    columns = {
        "clock": [f"10:{i:02d}:{(7 * i) % 60:02d}" for i in range(30)],
        "bearing": [f"N {i + 3}° E" for i in range(30)],
        "slope": [f"{i % 40}° {i}' grade" for i in range(30)],
    }
    path = _write(tmp_path / "plain.gpkg", shapely.points(lon, lat), 4326, columns)
    assert checker.check(path).profile.layers[0].coordinate_columns is None


def _spread(place: str, n: int) -> tuple[np.ndarray, int]:
    """``n`` points spread over 20 km in the place's projected CRS."""
    (lon, lat), epsg = PLACES[place]
    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    rng = np.random.default_rng(16)
    return np.column_stack([x0 + rng.random(n) * 20_000, y0 + rng.random(n) * 20_000]), epsg


@pytest.mark.parametrize(("place", "junk"), [("seoul", 0.05), ("busan", 0.2), ("seoul", 0.45)])
def test_precise_positions_diluted_with_rows_of_any_number_hold_the_layer(
    tmp_path, checker, place, junk
):
    """The rule of every row, dodged: some rows carry values far from any position (0, a
    count), the rest the precise positions."""
    xy, epsg = _spread(place, 400)
    precise = xy + np.random.default_rng(17).uniform(-40, 40, xy.shape)
    values = precise.copy()
    dodge = np.random.default_rng(18).random(len(xy)) < junk
    values[dodge] = np.column_stack([np.zeros(dodge.sum()), np.arange(dodge.sum()) * 3.0])
    path = _write(tmp_path / "diluted.gpkg", shapely.points(_coarse(precise)), epsg,
                  {"elev": values[:, 0], "code": values[:, 1]})  # fmt: skip
    verdict = checker.check(path)
    assert verdict.profile.layers[0].coordinate_columns == ["elev", "code"]
    assert _held(verdict)


def test_numbers_in_the_layers_range_that_ignore_the_rows_are_not_positions(tmp_path, checker):
    """Controls for the rule above: values drawn across the layer's own range of x and y,
    with nothing to do with the rows (500 rows)."""
    xy, epsg = _spread("busan", 500)
    rng = np.random.default_rng(19)
    low, high = xy.min(axis=0), xy.max(axis=0)
    columns = {
        "a": rng.uniform(low[0], high[0], len(xy)),
        "b": rng.uniform(low[1], high[1], len(xy)),
    }
    path = _write(tmp_path / "plain.gpkg", shapely.points(_coarse(xy)), epsg, columns)
    assert checker.check(path).profile.layers[0].coordinate_columns is None


def test_diluted_positions_in_a_layer_that_holds_its_features_twice_hold_it(tmp_path, checker):
    """Each feature twice (the second half of the rows at the first half's places), some
    rows diluted: a comparison with the row half the layer away would find the twin."""
    xy, epsg = _spread("seoul", 200)
    precise = xy + np.random.default_rng(20).uniform(-40, 40, xy.shape)
    precise = np.concatenate([precise, precise])
    values = precise.copy()
    values[::7] = 0.0
    path = _write(tmp_path / "twice.gpkg", shapely.points(_coarse(precise)), epsg,
                  {"elev": values[:, 0], "code": values[:, 1]})  # fmt: skip
    assert checker.check(path).profile.layers[0].coordinate_columns == ["elev", "code"]


def test_a_layer_without_crs_is_judged_by_its_numbers_not_its_declared_extent(tmp_path, checker):
    """Degrees in a layer that names no CRS, and a GeoPackage extent (gpkg_contents)
    declaring numbers of a projected size: the declared extent must not loosen the
    round-off and reach to those of metres (0.1 and 1,000 units), which take precise
    degrees for the drawn ones. Near 45°E 45°N, where a longitude is also within 0.1 of
    a latitude, nothing else gives them away."""
    import sqlite3
    from contextlib import closing

    rng = np.random.default_rng(21)
    lon, lat = 45.0 + rng.random(40) * 0.05, 44.96 + rng.random(40) * 0.05
    table = pa.table({"a": lon, "b": lat,
                      "geometry": shapely.to_wkb(shapely.points(np.round(lon, 3), np.round(lat, 3)))})  # fmt: skip
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):  # no CRS: pyogrio says so
        pyogrio.write_arrow(table, path, layer="sites", driver="GPKG",
                            geometry_name="geometry", geometry_type="Point")  # fmt: skip
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE gpkg_contents SET min_x = 300000, min_y = 4100000, "
                   "max_x = 400000, max_y = 4200000")  # fmt: skip
        db.commit()
    assert pyogrio.read_info(path)["total_bounds"][0] == 300000  # what GDAL declares
    assert pyogrio.read_info(path)["crs"] is None
    layer = checker.check(path).profile.layers[0]
    assert layer.coordinate_columns == ["a", "b"]
