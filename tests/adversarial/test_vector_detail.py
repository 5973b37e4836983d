"""Class 1: fine detail hidden from the vector detail measure.

The claim under test: "if a layer carries large-scale detail in a meaningful part of its
lines and rings (1% of them, or 100), the resolution shows it". The exporter hides fine
features at the rows a sample skips, dilutes them under coarse padding, draws the detail
as a notch on coarse buildings, wraps it in geometry collections, or adds points at full
precision beside a coarse line or under a declared small scale.

Truth is measured here with pyproj (Transformer to WGS84 and Geod.inv on the WGS84
ellipsoid) over the exact vertices written; the checker's value must match it to 1e-6
(relative): the values a rule reads are measured again exactly by the checker, and the fine
features here are separated from the coarse ones by a factor of 100 or more, so no
approximation in ranking can change which lines are finest. Each variant's control is the
fine payload alone, which must read the same detail and give the same verdict.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from compliance import Checker
from compliance.errors import RulePackError
from compliance.rules.packs import load_pack
from tests.builders import REPO

GEOD = Geod(ellps="WGS84")
# Places well away from the demo zones: Daejeon, Gwangju, Cheongju (all inside Korea).
PLACES = {"daejeon": (127.38, 36.35), "gwangju": (126.85, 35.16), "cheongju": (127.49, 36.64)}


@pytest.fixture(scope="module")
def kr() -> Checker:
    return Checker(packs=["kr"])


def _to_crs(geoms: np.ndarray, crs: str) -> np.ndarray:
    """Geometries drawn in UTM 52N metres, carried to ``crs``."""
    t = Transformer.from_crs("EPSG:32652", crs, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _origin(place: str) -> tuple[float, float]:
    lon, lat = PLACES[place]
    return Transformer.from_crs(4326, 32652, always_xy=True).transform(lon, lat)


def squares(
    sides: np.ndarray, place: str, crs: str, spacing: float = 3000.0, per_row: int = 100
) -> np.ndarray:
    """Squares of the given sides (UTM metres) on a grid near ``place``, in ``crs``."""
    x0, y0 = _origin(place)
    k = np.arange(sides.size)
    x = x0 + (k % per_row) * spacing
    y = y0 + (k // per_row) * spacing
    return _to_crs(shapely.box(x, y, x + sides, y + sides), crs)


def write(path, geoms: np.ndarray, crs: str, layer: str = "data", **kwargs) -> str:
    table = pa.table({"id": np.arange(geoms.size), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table,
        path,
        layer=layer,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=kwargs.pop("geometry_type", "Unknown"),
        crs=crs,
        append=kwargs.pop("append", False),
        **kwargs,
    )
    return str(path)


def _segments(geoms: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth: every non-zero segment of every line and ring (polygon rings, multi-parts and
    collections opened), geodesic on WGS84, with the number of the line it belongs to."""
    lines = []
    stack = list(geoms)
    while stack:
        g = stack.pop()
        if g.geom_type == "Polygon":
            lines += [g.exterior, *g.interiors]
        elif g.geom_type in ("LineString", "LinearRing"):
            lines.append(g)
        elif hasattr(g, "geoms"):
            stack += list(g.geoms)
    xy, line = shapely.get_coordinates(np.array(lines, dtype=object), return_index=True)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    _, _, d = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    d = np.abs(d)
    kept = (line[1:] == line[:-1]) & (d > 1e-9)
    return d[kept], line[:-1][kept]


def ground_lines(geoms: np.ndarray, crs: str) -> np.ndarray:
    """Truth: each line's and ring's shortest non-zero segment, ascending."""
    d, line = _segments(geoms, crs)
    least = np.full(int(line.max(initial=-1)) + 1, np.inf)
    np.minimum.at(least, line, d)
    return np.sort(least[np.isfinite(least)])


def ground_segments(geoms: np.ndarray, crs: str) -> np.ndarray:
    """Truth: every line's and ring's non-zero segments, ascending."""
    return np.sort(_segments(geoms, crs)[0])


def ranked(values: np.ndarray, share: float = 0.01, count: int = 100) -> float:
    """The value reached by ``share`` of ``values`` (ascending) or by ``count``, whichever
    is fewer."""
    rank = max(1, min(math.ceil(share * values.size - 1e-9), count))
    return float(values[rank - 1])


def expected_resolution(geoms: np.ndarray, crs: str) -> float:
    """The detail reached by 1% of the lines and rings or by 100, whichever is fewer, or
    the finer one reached by as many of their segments."""
    return min(ranked(ground_lines(geoms, crs)), ranked(ground_segments(geoms, crs)))


def assert_caught(checker: Checker, path: str, control: str, want_m: float):
    verdict, alone = checker.check(path), checker.check(control)
    assert verdict.profile.resolution_m == pytest.approx(want_m, rel=1e-6)
    assert verdict.profile.scale_denominator == pytest.approx(2000 * want_m, rel=1e-6)
    assert verdict.verdict != "allow"
    # The control: the fine payload alone reads the same detail and verdict.
    assert alone.profile.resolution_m == pytest.approx(want_m, rel=1e-3)
    assert alone.verdict == verdict.verdict
    return verdict


@pytest.mark.parametrize(
    ("stride", "offset", "crs", "place"),
    [
        (2, 1, "EPSG:5186", "daejeon"),
        (3, 2, "EPSG:32652", "gwangju"),
        (4, 3, "EPSG:4326", "cheongju"),
    ],
)
def test_fine_features_at_the_rows_a_sample_skips(tmp_path, kr, stride, offset, crs, place):
    # A 20,000-row sample of 20,000 x stride rows took every stride-th row from row 0.
    # Fine 1.5 m squares sit only at rows = offset (mod stride): the sample saw none.
    n = 20_000 * stride
    sides = np.full(n, 100.0)
    sides[offset::stride] = 1.5
    geoms = squares(sides, place, crs, spacing=150.0, per_row=300)
    path = write(tmp_path / "strided.gpkg", geoms, crs, geometry_type="Polygon")
    control = write(tmp_path / "fine.gpkg", geoms[offset::stride][:300], crs)
    want = expected_resolution(geoms, crs)
    assert want == pytest.approx(1.5, rel=0.01)  # the generator did what it says
    layer = assert_caught(kr, path, control, want).profile.layers[0]
    assert layer.detail is not None and layer.detail.lines_measured == n


@pytest.mark.parametrize(
    ("total", "fine", "crs", "place"),
    [
        (20_000, 100, "EPSG:5186", "daejeon"),  # 0.5%: 100 lines, the count decides
        (5_000, 50, "EPSG:3857", "gwangju"),  # 1%
        (1_000, 49, "EPSG:4326", "cheongju"),  # 4.9%: just under the old 5% share
    ],
)
def test_a_small_share_of_fine_features_under_coarse_padding(tmp_path, kr, total, fine, crs, place):
    sides = np.full(total, 200.0)
    rng = np.random.default_rng(total)
    at = rng.choice(total, fine, replace=False)  # interleaved anywhere in the layer
    sides[at] = 2.0
    geoms = squares(sides, place, crs, spacing=300.0, per_row=150)
    path = write(tmp_path / "padded.gpkg", geoms, crs)
    control = write(tmp_path / "fine.gpkg", geoms[np.sort(at)], crs)
    want = expected_resolution(geoms, crs)
    assert want == pytest.approx(2.0, rel=0.01)
    assert_caught(kr, path, control, want)


def _notched(x: np.ndarray, y: np.ndarray, side: float, notch: float) -> np.ndarray:
    """Buildings ``side`` m wide with a ``notch`` m step cut in one corner."""
    return np.array(
        [
            shapely.Polygon(
                [
                    (a, b),
                    (a + side, b),
                    (a + side, b + side - notch),
                    (a + side - notch, b + side - notch),
                    (a + side - notch, b + side),
                    (a, b + side),
                ]
            )
            for a, b in zip(x, y, strict=True)
        ],
        dtype=object,
    )


@pytest.mark.parametrize(
    ("notch", "share", "crs", "place"),
    [(0.5, 0.03, "EPSG:5186", "daejeon"), (0.3, 0.02, "EPSG:32652", "gwangju"),
     (0.8, 0.04, "EPSG:3857", "cheongju")],
)  # fmt: skip
def test_a_notch_on_coarse_buildings(tmp_path, kr, notch, share, crs, place):
    # Each notched building's median segment is still 30 m: only its shortest shows the notch.
    n = 2_000
    x0, y0 = _origin(place)
    k = np.arange(n)
    x, y = x0 + (k % 50) * 100.0, y0 + (k // 50) * 100.0
    plain = shapely.box(x, y, x + 30.0, y + 30.0)
    cut = int(n * share)
    utm = np.concatenate([_notched(x[:cut], y[:cut], 30.0, notch), plain[cut:]])
    geoms = _to_crs(utm, crs)
    path = write(tmp_path / "notched.gpkg", geoms, crs)
    control = write(tmp_path / "fine.gpkg", geoms[:cut], crs)
    want = expected_resolution(geoms, crs)
    assert want == pytest.approx(notch, rel=0.01)
    assert_caught(kr, path, control, want)


def _collections(kind: str, fine: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Each feature: a collection holding a multi-part of fine squares and a coarse line."""
    out = []
    for i in range(coarse.size):
        pair = fine[2 * i : 2 * i + 2]
        line = shapely.LineString(coarse[i].exterior.coords)
        if kind == "multipolygon":
            out.append(shapely.GeometryCollection([shapely.MultiPolygon(list(pair)), line]))
        elif kind == "multilinestring":
            rings = [shapely.LineString(p.exterior.coords) for p in pair]
            out.append(shapely.GeometryCollection([shapely.MultiLineString(rings), line]))
        else:  # nested: a collection inside a collection
            inner = shapely.GeometryCollection([shapely.MultiPolygon(list(pair))])
            out.append(shapely.GeometryCollection([inner, line]))
    return np.array(out, dtype=object)


@pytest.mark.parametrize(
    ("kind", "crs", "place"),
    [("multipolygon", "EPSG:5186", "daejeon"), ("multilinestring", "EPSG:4326", "gwangju"),
     ("nested", "EPSG:32652", "cheongju")],
)  # fmt: skip
def test_multi_parts_inside_geometry_collections(tmp_path, kr, kind, crs, place):
    n = 300
    fine = squares(np.full(2 * n, 1.2), place, crs, spacing=500.0)
    coarse = squares(np.full(n, 2000.0), place, crs, spacing=2500.0)
    geoms = _collections(kind, fine, coarse)
    path = write(tmp_path / "collections.gpkg", geoms, crs)
    control = write(tmp_path / "fine.gpkg", fine, crs)
    want = expected_resolution(geoms, crs)
    assert want == pytest.approx(1.2, rel=0.01)
    detail = assert_caught(kr, path, control, want).profile.detail
    assert detail is not None and detail.lines_measured == 3 * n


def _points(place: str, crs: str, n: int, decimals: int | None) -> np.ndarray:
    lon, lat = PLACES[place]
    rng = np.random.default_rng(n)
    xs, ys = lon + rng.uniform(0, 0.05, n), lat + rng.uniform(0, 0.05, n)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(xs, ys)
    if decimals is not None:
        x, y = np.round(x, decimals), np.round(y, decimals)
    return shapely.points(x, y)


@pytest.mark.parametrize(
    ("where", "crs", "place"),
    [("same layer", "EPSG:4326", "daejeon"), ("other layer", "EPSG:5186", "gwangju"),
     ("other layer", "EPSG:32652", "cheongju")],
)  # fmt: skip
def test_full_precision_points_beside_one_coarse_line(tmp_path, kr, where, crs, place):
    points = _points(place, crs, 500, None)
    line = squares(np.array([5000.0]), place, crs)
    line = np.array([shapely.LineString(line[0].exterior.coords)], dtype=object)
    path = tmp_path / "points.gpkg"
    if where == "same layer":
        write(path, np.concatenate([points, line]), crs)
    else:
        write(path, points, crs, layer="poi", geometry_type="Point")
        write(path, line, crs, layer="outline", append=True, geometry_type="LineString")
    verdict = kr.check(str(path))
    assert verdict.profile.detail is not None and verdict.profile.detail.points_unmeasured
    assert verdict.profile.resolution_m is None
    assert verdict.profile.scale_denominator is None
    assert verdict.verdict != "allow"
    # The control: the same points quantised (to 1e-3 degree, or 100 m) do have a detail:
    # the ground size of their grid, measured here on the ellipsoid.
    decimals = 3 if crs == "EPSG:4326" else -2
    control = tmp_path / "quantised.gpkg"
    write(control, np.concatenate([_points(place, crs, 500, decimals), line]), crs)
    step = 10.0 ** (-decimals)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(*PLACES[place])
    grid = shapely.get_coordinates(_points(place, crs, 500, decimals))
    mx, my = np.median(grid[:, 0]), np.median(grid[:, 1])
    quantised = kr.check(str(control)).profile
    assert quantised.detail is not None and not quantised.detail.points_unmeasured
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = to_ll.transform([mx, mx + step, mx], [my, my, my + step])
    _, _, d = GEOD.inv([lon[0], lon[0]], [lat[0], lat[0]], lon[1:], lat[1:])
    # Measured at the middle of the layer's extent rather than the points' median: the
    # grid's ground size differs by the scale change over a few km (under 1e-3).
    assert quantised.resolution_m == pytest.approx(float(np.min(np.abs(d))), rel=1e-3)


@pytest.mark.parametrize(
    ("crs", "place", "declared"),
    [("EPSG:5186", "daejeon", "1:1,000,000"), ("EPSG:4326", "gwangju", "1000000"),
     ("EPSG:3857", "cheongju", "1:1000000")],
)  # fmt: skip
def test_a_declared_small_scale_on_unmeasurable_points(tmp_path, kr, crs, place, declared):
    points = _points(place, crs, 200, None)
    path = write(tmp_path / "declared.gpkg", points, crs, layer_metadata={"SCALE": declared})
    verdict = kr.check(path)
    assert verdict.profile.declared_scale_denominator == 1_000_000
    assert verdict.profile.scale_denominator is None and verdict.profile.resolution_m is None
    assert verdict.verdict != "allow"
    # The control: 1:1,000 lines (0.5 m detail) under the same declaration read 1:1,000.
    fine = squares(np.full(200, 0.5), place, crs)
    control = write(tmp_path / "lines.gpkg", fine, crs, layer_metadata={"SCALE": declared})
    lines = kr.check(control)
    assert lines.profile.scale_denominator == pytest.approx(
        2000 * expected_resolution(fine, crs), rel=1e-6
    )
    assert lines.verdict != "allow"


def test_a_pack_may_set_its_own_detail_share_and_count(tmp_path):
    # 30 fine rings among 1,000 (120 fine sides among 4,000): by default (1% -> rank 10 of
    # the rings, 40 of the sides) they decide; a pack that asks for 5% of them up to 1,000
    # (rank 50 of the rings, 200 of the sides) reads the coarse detail, and up to 100 (rank
    # 100 of the sides) the fine one. The pack keys are validated when loaded.
    from compliance.facts import dataset_facts

    sides = np.full(1_000, 1000.0)
    sides[:30] = 2.0
    geoms = squares(sides, "daejeon", "EPSG:5186")
    path = write(tmp_path / "share.gpkg", geoms, "EPSG:5186")
    profile = Checker(packs=["kr"]).check(path).profile
    rings, segments = ground_lines(geoms, "EPSG:5186"), ground_segments(geoms, "EPSG:5186")
    assert dataset_facts(profile)["resolution_m"] == pytest.approx(
        min(rings[9], segments[39]), rel=1e-6
    )
    # Among 1 km squares whose four sides differ by a few parts in a million on the
    # ground, which side of each is its shortest is chosen with the batch's interpolated
    # metric (exact to about 1e-5 over this 100 km extent): hence 1e-4 for the coarse ranks.
    facts = dataset_facts(profile, 2000.0, detail_share=0.05, detail_count=1000)
    coarse = min(rings[49], segments[199])
    assert coarse > 900
    assert facts["resolution_m"] == pytest.approx(coarse, rel=1e-4)
    assert facts["scale_denominator"] == pytest.approx(2000 * coarse, rel=1e-4)
    assert dataset_facts(profile, 2000.0, 0.05, 100)["resolution_m"] == pytest.approx(
        segments[99], rel=1e-6
    )
    assert dataset_facts(profile, 2000.0, 0.05, 20)["resolution_m"] == pytest.approx(
        min(rings[19], segments[19]), rel=1e-6
    )
    # Pack keys out of range are refused when the pack is loaded.
    for key in ("detail_share: 0", "detail_share: 1.5", "detail_count: 0", "detail_count: 5000"):
        text = (REPO / "rules" / "kr.yaml").read_text().replace("scale_factor: 2000", key, 1)
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(RulePackError, match=key.split(":")[0]):
            load_pack(bad)


@pytest.mark.parametrize(
    ("crs", "step", "place"),
    [("EPSG:4326", 0.001, "daejeon"), ("EPSG:5186", 100.0, "gwangju"),
     ("EPSG:3857", 50.0, "cheongju")],
)  # fmt: skip
def test_coarse_rounding_first_and_fine_lines_after(tmp_path, kr, crs, step, place):
    # 13,000 squares on a coarse grid give the first 65,000 coordinates: a quantisation
    # read from the first 50,000 of them would floor the whole layer's detail to the grid.
    # 200 squares of 2 m at full precision follow.
    x0, y0 = Transformer.from_crs(4326, crs, always_xy=True).transform(*PLACES[place])
    k = np.arange(13_000)
    gx = (np.round(x0 / step) + (k % 130) * 2) * step
    gy = (np.round(y0 / step) + (k // 130) * 2) * step
    coarse = shapely.box(gx, gy, gx + step, gy + step)  # every coordinate on the grid
    fine = squares(np.full(200, 2.0), place, crs, spacing=50.0)
    geoms = np.concatenate([coarse, fine])
    path = write(tmp_path / "rounded.gpkg", geoms, crs)
    control = write(tmp_path / "fine.gpkg", fine, crs)
    want = expected_resolution(geoms, crs)
    assert want == pytest.approx(2.0, rel=0.01)
    detail = assert_caught(kr, path, control, want).profile.detail
    assert detail is not None and detail.lines_measured == 13_200
