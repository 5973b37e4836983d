"""Every file of the shared real-data corpus, broken ones included: a verdict or a clean error."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import rasterio
from pyproj import Transformer

from compliance import ComplianceError, Effect, Verdict
from tests.builders import REAL_DATA

SIDECARS = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".md", ".jpg"}


def _corpus() -> list[Path]:
    if not REAL_DATA.is_dir():
        return []
    return sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.suffix not in SIDECARS)


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: str(p.relative_to(REAL_DATA)))
def test_every_real_file_gives_a_verdict_or_a_clean_error(checker, path):
    try:
        verdict = checker.check(path)
    except ComplianceError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip().splitlines()[0]
        return
    assert isinstance(verdict, Verdict)
    if not verdict.profile.georeferenced:
        assert verdict.verdict != Effect.allow, "data that cannot be placed was allowed"
    verdict.model_dump_json()


def test_the_corpus_is_there(real_data):
    assert len(_corpus()) > 150


def _grid_pixel_and_north_lat(path: Path) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as ds:
            t = Transformer.from_crs(ds.crs, 4326, always_xy=True)
            _, lat = t.transform((ds.bounds.left + ds.bounds.right) / 2, ds.bounds.top)
            return abs(ds.transform.a), lat


@pytest.mark.parametrize(
    "name",
    [
        "rasters/rasterio/shade.tif",
        "rasters/rasterio/cogeo.tif",
        "rasters/rio-cogeo/image_webp.tif",
    ],
)
def test_web_mercator_rasters_are_measured_in_ground_metres(checker, real_data, name):
    grid, north_lat = _grid_pixel_and_north_lat(real_data / name)
    verdict = checker.check(real_data / name)
    # Web Mercator stretches by sec(lat): the finest ground pixel is at the raster's north edge.
    phi = math.radians(north_lat)
    e2 = 0.00669437999014
    expected = grid * math.cos(phi) / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    assert verdict.profile.resolution_m == pytest.approx(expected, rel=0.01)
    assert verdict.profile.resolution_m < grid


@pytest.mark.parametrize(
    ("name", "metres"),
    [
        ("rasters/rasterio/RGB.byte.tif", 300.0),  # UTM 18N, 300 m pixels
        ("rasters/rasterio/byte.tif", 60.0),  # NAD27 / UTM 11N
        ("rasters/georust/m_3607824_se_17_1_20160620_sub.tif", 1.0),  # NAIP, 1 m
        ("rasters/gdal_autotest2/spaf27_epsg.tif", 195.0 * 1200 / 3937),  # US survey feet
    ],
)
def test_projected_rasters_match_their_nominal_pixel_size(checker, real_data, name, metres):
    assert checker.check(real_data / name).profile.resolution_m == pytest.approx(metres, rel=0.01)


def test_shapefile_with_an_empty_prj_is_not_allowed(checker, real_data):
    verdict = checker.check(real_data / "broken/libpysal/mexicojoin.shp")
    assert verdict.verdict == Effect.review
    assert verdict.findings[0].rule_id == "MAPGATE-LOCATION-UNKNOWN"


def test_a_crs_that_contradicts_the_coordinates_is_flagged(checker, real_data):
    verdict = checker.check(real_data / "vectors/gdal_autotest2/poly/poly.shp")
    assert "MAPGATE-CRS-MISMATCH" in {f.rule_id for f in verdict.findings}


def test_a_decompression_bomb_header_is_not_read(checker, real_data):
    verdict = checker.check(real_data / "broken/node-gdal-async/huge-sparse.tiff")
    assert verdict.profile.width == 66000 and verdict.verdict == Effect.review


def test_corrupt_pixels_do_not_matter_to_a_header_check(checker, real_data):
    verdict = checker.check(real_data / "broken/rasterio/corrupt.tif")
    assert verdict.profile.crs == "EPSG:3857"


def test_zipped_shapefile_in_us_feet(checker, real_data):
    verdict = checker.check(real_data / "vectors/geopandas/nybb_16a.zip")
    assert verdict.profile.crs == "EPSG:2263" and verdict.profile.feature_count == 5
    assert not any(p.applies for p in verdict.packs)


def test_korean_outline_triggers_the_korean_pack(checker, real_data):
    verdict = checker.check(real_data / "korea/skorea_provinces_geo_simple.json")
    assert next(p for p in verdict.packs if p.name == "kr").applies
    assert next(p for p in verdict.packs if p.name == "in").applies is False


def test_curves_are_undecodable_and_fail_closed(checker, real_data):
    verdict = checker.check(real_data / "vectors/pyogrio/curvepolygon.gpkg")
    assert "MAPGATE-UNDECODABLE" in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == Effect.review


def test_an_unclosed_ring_is_undecodable_and_says_it_may_be_malformed(checker, real_data):
    verdict = checker.check(real_data / "broken/geojson-invalid-geometry/invalid_unclosed.geojson")
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNDECODABLE")
    assert "unclosed rings" in finding.message
    assert verdict.verdict == Effect.review
