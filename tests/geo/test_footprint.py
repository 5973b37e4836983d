"""Footprints stay where the data is: across the antimeridian, and round a pole."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from rasterio.transform import from_origin

from compliance import Checker
from tests.builders import write_pack_across_the_antimeridian, write_raster, write_vector


def _equal_area_km2(outline: shapely.Geometry, crs: str, lon_0: float, lat_0: float) -> float:
    """Truth: the outline's area in a Lambert azimuthal equal-area projection (equal-area on
    the ellipsoid), reached from the data's own CRS without going through lon/lat polygons."""
    laea = CRS.from_proj4(f"+proj=laea +lat_0={lat_0} +lon_0={lon_0} +datum=WGS84 +units=m")
    t = Transformer.from_crs(crs, laea, always_xy=True)
    dense = shapely.segmentize(outline, (outline.bounds[2] - outline.bounds[0]) / 400)
    local = shapely.transform(dense, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return local.area / 1e6


def _raster_across_180(tmp_path: Path, crs: str) -> tuple[Path, shapely.Geometry]:
    """A raster in ``crs`` covering 179.5°E .. 179.5°W, 16.5 .. 17.5°S (Fiji)."""
    t = Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0 = t.transform(179.5, -16.5)
    x1, _ = t.transform(-179.5, -16.5)
    _, y1 = t.transform(179.5, -17.5)
    size = 200
    res = (x1 - x0) / size
    rows = int(round((y0 - y1) / res))
    path = write_raster(tmp_path / "fiji.tif", crs, from_origin(x0, y0, res, res), size, rows)
    return path, shapely.box(x0, y0 - rows * res, x0 + size * res, y0)


@pytest.mark.parametrize("crs", ["EPSG:32760", "EPSG:32701", "EPSG:3832"])
def test_a_raster_across_the_antimeridian_keeps_its_footprint_in_one_piece(tmp_path, crs):
    # The footprint came back from PROJ as a band round the Earth: the check crashed in UTM
    # zone 60, and elsewhere measured an area and a territory share that were not the data's.
    path, outline = _raster_across_180(tmp_path, crs)
    verdict = Checker(packs=[write_pack_across_the_antimeridian(tmp_path)]).check(path)
    west, south, east, north = verdict.profile.bounds_wgs84
    assert east - west == pytest.approx(1.0, abs=0.02)
    assert west == pytest.approx(179.5, abs=0.02) or west == pytest.approx(-180.5, abs=0.02)
    assert verdict.profile.area_km2 == pytest.approx(
        _equal_area_km2(outline, crs, 180.0, -17.0), rel=1e-3
    )
    (info,) = verdict.packs
    assert info.applies and info.territory_fraction == pytest.approx(1.0)
    assert verdict.verdict == "deny"
    assert "MAPGATE-CRS-MISMATCH" not in {f.rule_id for f in verdict.findings}


def test_vector_data_across_the_antimeridian_in_a_projected_crs_counts_in_full(tmp_path):
    t = Transformer.from_crs(4326, 3832, always_xy=True)
    lonlat = shapely.segmentize(shapely.box(179.6, -17.4, 180.4, -16.6), 0.01)
    square = shapely.transform(lonlat, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    path = write_vector(tmp_path / "pacific.gpkg", [square], "EPSG:3832")
    verdict = Checker(packs=[write_pack_across_the_antimeridian(tmp_path)]).check(path)
    west, _, east, _ = verdict.profile.bounds_wgs84
    assert east - west == pytest.approx(0.8, abs=0.01)
    box = shapely.box(*shapely.bounds(square))
    assert verdict.profile.area_km2 == pytest.approx(
        _equal_area_km2(box, "EPSG:3832", 180.0, -17.0), rel=1e-3
    )
    (info,) = verdict.packs
    assert info.applies and info.territory_fraction == pytest.approx(1.0)
    assert verdict.verdict == "deny"


def test_a_raster_round_the_north_pole_covers_the_polar_cap(tmp_path):
    # 400 km square centred on the pole in NSIDC polar stereographic: its outline goes all
    # the way round in longitude, and the footprint must hold the pole, not a band below it.
    crs = "EPSG:3413"
    path = write_raster(
        tmp_path / "pole.tif", crs, from_origin(-200_000.0, 200_000.0, 2_000.0, 2_000.0), 200, 200
    )
    verdict = Checker(packs=["kr"]).check(path)
    west, south, east, north = verdict.profile.bounds_wgs84
    assert north == pytest.approx(90.0) and east - west == pytest.approx(360.0)
    outline = shapely.box(-200_000.0, -200_000.0, 200_000.0, 200_000.0)
    assert verdict.profile.area_km2 == pytest.approx(
        _equal_area_km2(outline, crs, 0.0, 90.0), rel=1e-3
    )


@pytest.mark.parametrize("kind", ["raster", "vector"])
def test_data_in_another_planets_crs_cannot_be_placed_and_is_not_allowed(tmp_path, kind):
    # A lunar CRS parses, but PROJ refuses to relate it to WGS84: the check crashed with a
    # ProjError (a traceback, a 500 in the service). It is data that cannot be placed.
    moon = "IAU_2015:30100"
    if kind == "raster":
        path = write_raster(tmp_path / "moon.tif", moon, from_origin(10.0, 10.0, 0.001, 0.001))
    else:
        path = write_vector(tmp_path / "moon.gpkg", [shapely.box(10.0, 9.0, 11.0, 10.0)], moon)
    verdict = Checker().check(path)
    assert verdict.verdict == "review"
    assert "MAPGATE-LOCATION-UNKNOWN" in {f.rule_id for f in verdict.findings}


def test_a_territory_in_another_planets_crs_is_refused_with_the_packs_error(tmp_path):
    from compliance.errors import RulePackError

    gpd.GeoDataFrame(
        {"name": ["crater"]}, geometry=[shapely.box(10.0, 9.0, 11.0, 10.0)], crs="IAU_2015:30100"
    ).to_file(tmp_path / "crater.geojson")
    pack = tmp_path / "moon.yaml"
    pack.write_text(
        'pack: moon\nversion: "1"\ntitle: t\njurisdiction: XX\nterritory: crater.geojson\nrules:\n'
        "  - id: M-1\n    title: any\n    when: territory.touches\n    effect: review\n    reference: Test Act\n"
    )
    with pytest.raises(RulePackError, match="crater.geojson"):
        Checker(packs=[pack])
