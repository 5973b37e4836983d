"""Wrong CRS tags: coordinates that belong to another CRS are never placed and allowed.

An exporter who tags longitudes and latitudes with a metric CRS, or UTM numbers with a
Korean, Israeli or Indian TM grid, moves the data to where no territory and no zone is.
Truth here is computed with pyproj and rasterio directly: where the numbers land in the
tagged CRS, and where they really are.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box

from compliance import Checker, Effect

PLACES = {
    "seoul": (127.03, 37.50),
    "busan": (129.05, 35.15),
    "tel_aviv": (34.78, 32.08),
    "delhi": (77.21, 28.61),
}
# The pack whose territory holds each place.
PACK_OF = {"seoul": "kr", "busan": "kr", "tel_aviv": "us-kba", "delhi": "in"}
# The UTM zone each place's imagery is usually delivered in.
UTM_OF = {"seoul": 32652, "busan": 32652, "tel_aviv": 32636, "delhi": 32643}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _buildings(x: float, y: float, side: float, n: int = 12) -> list:
    """``n`` squares of ``side`` grid units in a row, ``2 * side`` apart."""
    return [box(x + 2 * i * side, y, x + (2 * i + 1) * side, y + side) for i in range(n)]


def _write(tmp_path, kind: str, x: float, y: float, unit: float, crs: int) -> object:
    """A vector layer of building squares, or a 64 x 64 image, at grid position (x, y);
    ``unit`` is 10 m (vectors) or 0.2 m (pixels) in the grid's own numbers."""
    if kind == "vector":
        path = tmp_path / "data.gpkg"
        gpd.GeoDataFrame(geometry=_buildings(x, y, unit), crs=crs).to_file(path)
        return path
    path = tmp_path / "data.tif"
    profile = {
        "driver": "GTiff",
        "width": 64,
        "height": 64,
        "count": 1,
        "dtype": "uint8",
        "crs": f"EPSG:{crs}",
        "transform": from_origin(x, y, unit, unit),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, 64, 64), 7, dtype="uint8"))
    return path


def _placed_at(x: float, y: float, crs: int) -> tuple[float, float]:
    """Where grid numbers (x, y) land when read in ``crs``."""
    return Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)


def _assert_held(verdict, reason: str, landed: tuple[float, float]) -> None:
    (finding,) = [f for f in verdict.findings if f.rule_id == "MAPGATE-CRS-MISMATCH"]
    assert reason in finding.message
    assert finding.effect == Effect.review
    # The data stays placed where its tag puts it (no invented position)...
    west, south, east, north = verdict.profile.bounds_wgs84
    assert west - 1e-3 <= landed[0] <= east + 1e-3 and south - 1e-3 <= landed[1] <= north + 1e-3
    # ...but since it may really lie anywhere, every pack applies, and nothing is allowed.
    assert all(p.applies for p in verdict.packs)
    assert verdict.verdict != Effect.allow


# Longitudes and latitudes tagged with a metric CRS: near the projection's origin, which
# for Korea's TM grids is inside the old 5° margin and for Web Mercator inside the world.
LONLAT_TAGGED_METRIC = [
    ("seoul", 5186, "vector"),
    ("seoul", 5186, "raster"),
    ("busan", 32652, "raster"),
    ("seoul", 5179, "raster"),
    ("tel_aviv", 2039, "vector"),
    ("delhi", 7755, "raster"),
    ("delhi", 24378, "vector"),
    ("seoul", 3857, "vector"),
    ("busan", 3857, "raster"),
]


@pytest.mark.parametrize(("place", "crs", "kind"), LONLAT_TAGGED_METRIC)
def test_longitudes_and_latitudes_tagged_metric_are_held(tmp_path, checker, place, crs, kind):
    lon, lat = PLACES[place]
    unit = 1e-4 if kind == "vector" else 2e-6  # about 10 m and 0.2 m, in degrees
    verdict = checker.check(_write(tmp_path, kind, lon, lat, unit, crs))
    _assert_held(verdict, "the size of longitudes and latitudes", _placed_at(lon, lat, crs))


# UTM numbers tagged with the place's own TM grid: thousands of km away, and for rasters
# (whose CRS read through rasterio carries no area of use) never checked before.
UTM_TAGGED_TM = [
    ("seoul", 5186, "raster"),
    ("busan", 5187, "raster"),
    ("seoul", 5179, "raster"),
    ("tel_aviv", 2039, "raster"),
    ("delhi", 24378, "raster"),
    ("seoul", 5186, "vector"),
]


@pytest.mark.parametrize(("place", "crs", "kind"), UTM_TAGGED_TM)
def test_utm_numbers_tagged_with_a_tm_grid_are_held(tmp_path, checker, place, crs, kind):
    lon, lat = PLACES[place]
    x, y = Transformer.from_crs(4326, UTM_OF[place], always_xy=True).transform(lon, lat)
    verdict = checker.check(_write(tmp_path, kind, x, y, 10.0 if kind == "vector" else 0.2, crs))
    landed = _placed_at(x, y, crs)
    assert abs(landed[1] - lat) > 15.0  # the tag moves the data far north
    _assert_held(verdict, "outside the CRS's area of use", landed)


def test_seoul_in_utm_numbers_tagged_korean_tm_lands_near_70_north(tmp_path, checker):
    # The case the issue names: a 0.2 m image of Seoul written in UTM 52N numbers.
    x, y = Transformer.from_crs(4326, 32652, always_xy=True).transform(*PLACES["seoul"])
    verdict = checker.check(_write(tmp_path, "raster", x, y, 0.2, 5186))
    assert verdict.profile.bounds_wgs84[1] == pytest.approx(69.9, abs=0.1)
    assert verdict.verdict != Effect.allow
    assert next(p for p in verdict.packs if p.name == "kr").applies


@pytest.mark.parametrize(("place", "kind"), [("seoul", "vector"), ("delhi", "raster")])
def test_metre_numbers_tagged_geographic_cannot_be_placed(tmp_path, checker, place, kind):
    # UTM numbers read as degrees are not positions at all: the location is unknown.
    x, y = Transformer.from_crs(4326, UTM_OF[place], always_xy=True).transform(*PLACES[place])
    verdict = checker.check(_write(tmp_path, kind, x, y, 10.0 if kind == "vector" else 0.2, 4326))
    assert "MAPGATE-LOCATION-UNKNOWN" in {f.rule_id for f in verdict.findings}
    assert all(p.applies for p in verdict.packs)
    assert verdict.verdict != Effect.allow


# The control: the same payloads with the right tag. Nothing is held for the tag, only
# the place's own pack applies, and it gives its strict verdict.
CORRECT_TAGS = [
    ("seoul", 5186, "raster", Effect.deny),  # KR-IMAGERY-025M: 0.2 m imagery
    ("busan", 32652, "raster", Effect.deny),
    ("seoul", 5179, "vector", Effect.review),  # KR-SCALE-25K: about 1:20,000 or finer
    ("tel_aviv", 2039, "raster", Effect.allow_with_conditions),  # coarsen to 0.4 m
    ("delhi", 7755, "raster", Effect.deny),  # IN-HORIZONTAL-1M
    ("delhi", 24378, "vector", Effect.allow),  # 10 m squares: coarser than 1 m
]


@pytest.mark.parametrize(("place", "crs", "kind", "expected"), CORRECT_TAGS)
def test_the_right_tag_gives_the_places_strict_verdict(
    tmp_path, checker, place, crs, kind, expected
):
    lon, lat = PLACES[place]
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    verdict = checker.check(_write(tmp_path, kind, x, y, 10.0 if kind == "vector" else 0.2, crs))
    assert "MAPGATE-CRS-MISMATCH" not in {f.rule_id for f in verdict.findings}
    assert {p.name for p in verdict.packs if p.applies} == {PACK_OF[place]}
    west, south, east, north = verdict.profile.bounds_wgs84
    assert west <= lon + 1e-6 <= east + 1e-3 and south - 1e-3 <= lat <= north + 1e-6
    assert verdict.verdict == expected
