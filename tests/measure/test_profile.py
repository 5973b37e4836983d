"""Profile facts: ground detail of vectors, rasters' header facts, declared vs estimated scale."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, box
from shapely.ops import transform

from compliance import Checker
from tests.builders import write_raster, write_vector


@pytest.fixture(scope="module")
def profiler() -> Checker:
    return Checker(packs=[])


def _grid_of_squares(side_m: float, crs: str, n: int = 30):
    """n squares of ``side_m`` metres on the ground near Daejeon, expressed in ``crs``."""
    to_utm = Transformer.from_crs(4326, 32652, always_xy=True)
    x0, y0 = to_utm.transform(127.38, 36.35)
    squares = [box(x0 + i * 50, y0, x0 + i * 50 + side_m, y0 + side_m) for i in range(n)]
    back = Transformer.from_crs(32652, crs, always_xy=True)
    return [transform(back.transform, s) for s in squares]


@pytest.mark.parametrize("crs", ["EPSG:32652", "EPSG:4326", "EPSG:3857", "EPSG:5186"])
def test_vector_detail_is_the_shortest_segment_on_the_ground(tmp_path, profiler, crs):
    path = write_vector(tmp_path / "sq.gpkg", _grid_of_squares(4.0, crs), crs)
    inspection, _ = profiler.inspect(path)
    # 4 grid metres in UTM near its central meridian region: ~4.0 m on the ground.
    assert inspection.profile.resolution_m == pytest.approx(4.0, rel=0.01)
    assert inspection.profile.scale_denominator == pytest.approx(8000, rel=0.01)
    assert inspection.profile.scale_source == "estimated"


def test_lines_on_a_coarse_grid_measure_at_least_one_grid_step(tmp_path, profiler):
    # Coordinates on a 0.001° grid: 0.001° of longitude at 36°N is ~90 m on the ground, and
    # no segment of such a line can be shorter, so that is the detail.
    frame = gpd.GeoDataFrame(
        {"n": [0]},
        geometry=[LineString([(127.001, 36.001), (127.002, 36.001), (127.002, 36.002)])],
        crs=4326,
    )
    path = tmp_path / "q.geojson"
    frame.to_file(path)
    inspection, _ = profiler.inspect(path)
    assert inspection.profile.resolution_m == pytest.approx(89.9, rel=0.02)


def test_points_at_full_precision_have_no_measurable_detail(tmp_path, profiler):
    rng = np.random.default_rng(1)
    points = [Point(127 + rng.random() * 0.1, 37 + rng.random() * 0.1) for _ in range(50)]
    inspection, _ = profiler.inspect(write_vector(tmp_path / "p.gpkg", points, 4326))
    assert inspection.profile.resolution_m is None
    assert inspection.profile.scale_denominator is None


def test_points_rounded_to_a_grid_take_the_grid_as_detail(tmp_path, profiler):
    points = [Point(round(127 + i * 0.0137, 2), round(37 + i * 0.0071, 2)) for i in range(50)]
    inspection, _ = profiler.inspect(write_vector(tmp_path / "p.geojson", points, 4326))
    # 0.01° of latitude is ~1,109 m; of longitude at ~37°N ~889 m: the finer one counts.
    assert 850 < inspection.profile.resolution_m < 900


def test_declared_scale_counts_unless_the_data_is_finer(tmp_path, profiler):
    squares = _grid_of_squares(4.0, "EPSG:32652")
    coarse_claim = tmp_path / "claim.gpkg"
    gdf = gpd.GeoDataFrame({"n": range(len(squares))}, geometry=squares, crs=32652)
    pyogrio.write_dataframe(gdf, coarse_claim, layer_metadata={"SCALE": "1:50,000"})
    inspection, _ = profiler.inspect(coarse_claim)
    p = inspection.profile
    assert p.declared_scale_denominator == 50000
    assert p.scale_source == "estimated" and p.scale_denominator == pytest.approx(8000, rel=0.01)
    assert any("coarser than the data" in n for n in p.notes)
    fine_claim = tmp_path / "fine.gpkg"
    pyogrio.write_dataframe(gdf, fine_claim, layer_metadata={"map_scale": "1:1000"})
    inspection, _ = profiler.inspect(fine_claim)
    assert (
        inspection.profile.scale_source == "declared"
        and inspection.profile.scale_denominator == 1000
    )


def test_declared_scale_coarser_than_data_raises_an_engine_finding(tmp_path):
    squares = _grid_of_squares(4.0, "EPSG:32652")
    path = tmp_path / "claim.gpkg"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"n": range(30)}, geometry=squares, crs=32652),
        path,
        layer_metadata={"SCALE": "1:50000"},
    )
    verdict = Checker(packs=["kr"]).check(path)
    ids = [f.rule_id for f in verdict.findings]
    assert "MAPGATE-SCALE-DECLARED-COARSER" in ids and "KR-SCALE-25K" in ids
    assert verdict.verdict == "review"


def test_raster_header_facts_without_reading_pixels(tmp_path, profiler):
    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(127.38, 36.35)
    path = write_raster(
        tmp_path / "r.tif",
        "EPSG:32652",
        from_origin(x, y, 0.5, 0.5),
        512,
        256,
        count=3,
        tiled=True,
        blockxsize=128,
        blockysize=128,
    )
    import rasterio

    with rasterio.open(path, "r+") as dst:
        dst.build_overviews([2, 4, 8], Resampling.nearest)
    inspection, identity = profiler.inspect(path)
    p = inspection.profile
    assert (p.kind, p.format, p.crs, p.width, p.height, p.band_count) == (
        "raster",
        "GTiff",
        "EPSG:32652",
        512,
        256,
        3,
    )
    assert p.overviews == [2, 4, 8]
    assert p.resolution_m == pytest.approx(0.5, rel=1e-3)
    assert p.area_km2 == pytest.approx(512 * 0.5 * 256 * 0.5 / 1e6, rel=1e-3)
    assert p.has_z is False
    assert identity.size == path.stat().st_size


def test_elevation_raster_sets_has_z(tmp_path, profiler):
    path = write_raster(
        tmp_path / "dem.tif", "EPSG:4326", from_origin(127, 37, 0.0001, 0.0001), dtype="float32"
    )
    assert profiler.inspect(path)[0].profile.has_z is True


def test_3d_vector_sets_has_z(tmp_path, profiler):
    path = write_vector(
        tmp_path / "z.gpkg", [LineString([(127, 37, 10), (127.001, 37.001, 12)])], 4326
    )
    assert profiler.inspect(path)[0].profile.has_z is True


def test_a_raster_check_reads_no_pixel(tmp_path, profiler, monkeypatch):
    """A check needs no pixel: make reading one fail, and the check still completes."""
    import rasterio.io

    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(127.38, 36.35)
    path = write_raster(
        tmp_path / "big.tif",
        "EPSG:32652",
        from_origin(x, y, 1, 1),
        4000,
        4000,
        tiled=True,
        compress="deflate",
    )

    def no_pixels(*args, **kwargs):
        raise AssertionError("a pixel was read")

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", no_pixels)
    monkeypatch.setattr(rasterio.io.DatasetReader, "read_masks", no_pixels)
    assert profiler.inspect(path)[0].profile.width == 4000


def _squares(sides_m: list[float], crs: str) -> list:
    """Squares of the given sides (metres on the ground), 3 km apart near Daejeon, in ``crs``."""
    to_utm = Transformer.from_crs(4326, 32652, always_xy=True)
    x0, y0 = to_utm.transform(127.38, 36.35)
    back = Transformer.from_crs(32652, crs, always_xy=True)
    return [
        transform(back.transform, box(x0 + i * 3000, y0, x0 + i * 3000 + side, y0 + side))
        for i, side in enumerate(sides_m)
    ]


@pytest.mark.parametrize("crs", ["EPSG:32652", "EPSG:4326", "EPSG:5186"])
def test_fine_shapes_padded_with_coarse_ones_decide_the_detail(tmp_path, crs):
    # 12 squares of 2 m among 100 of 1 km: a median would say 1 km (1:2,000,000). The detail
    # reached by 1% of the rings (here 2 of 112) is 2 m, and that is what the rules see.
    checker = Checker(packs=["kr"])
    path = write_vector(tmp_path / "padded.gpkg", _squares([1000.0] * 100 + [2.0] * 12, crs), crs)
    verdict = checker.check(path)
    detail = verdict.profile.layers[0].detail
    assert detail is not None and detail.lines_measured == 112
    assert verdict.profile.resolution_m == pytest.approx(2.0, rel=0.01)
    assert verdict.profile.scale_denominator == pytest.approx(4000.0, rel=0.01)
    assert detail.quantiles_m["p50"] == pytest.approx(1000.0, rel=0.26)  # a tenth of a decade
    assert verdict.verdict != "allow"


def test_a_uniform_layer_measures_its_own_detail(tmp_path, profiler):
    # Fewer fine shapes than 1% of the rings do not decide: 1 of 150 squares is 2 m.
    for sides, want in (([1000.0] * 149 + [2.0], 1000.0), ([1000.0] * 50 + [300.0] * 50, 300.0)):
        path = write_vector(tmp_path / "one.gpkg", _squares(sides, "EPSG:32652"), "EPSG:32652")
        inspection, _ = profiler.inspect(path)
        assert inspection.profile.resolution_m == pytest.approx(want, rel=0.01), sides
