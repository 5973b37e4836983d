"""Whether coordinates fit their CRS tag: the size of the numbers and the area of use."""

from __future__ import annotations

import pytest
import rasterio.crs
from pyproj import CRS
from shapely.geometry import box

from compliance.measure.crs_plausibility import AOU_MARGIN_DEG, area_of_use, crs_mismatch


@pytest.mark.parametrize("code", [5186, 32652, 2039, 7755, 3832])
def test_a_crs_read_from_wkt_has_the_area_of_use_of_its_code(code):
    # rasterio's WKT carries no area of use; the matching EPSG code's is used.
    from_wkt = CRS.from_wkt(rasterio.crs.CRS.from_epsg(code).to_wkt())
    assert from_wkt.area_of_use is None
    found = area_of_use(from_wkt)
    expected = CRS.from_epsg(code).area_of_use
    assert found is not None and expected is not None
    assert (found.west, found.south, found.east, found.north) == expected.bounds


def test_a_crs_without_a_code_has_no_area_of_use():
    assert area_of_use(CRS.from_proj4("+proj=ortho +lat_0=37 +lon_0=127 +datum=WGS84")) is None


@pytest.mark.parametrize(
    ("code", "bounds"),
    [(5186, (126.9, 37.4, 127.1, 37.6)), (3857, (-0.5, -0.5, 0.5, 0.5)), (32652, (0, 0, 180, 90))],
)
def test_numbers_the_size_of_degrees_in_a_projected_crs_do_not_fit(code, bounds):
    footprint = box(126.9, 37.4, 127.1, 37.6)  # wherever they land, the size decides
    why = crs_mismatch(CRS.from_epsg(code), bounds, footprint)
    assert why is not None and "the size of longitudes and latitudes" in why


@pytest.mark.parametrize(
    ("code", "footprint", "fits"),
    [
        (32652, box(127.0, 37.0, 127.1, 37.1), True),
        (32652, box(126.0 - AOU_MARGIN_DEG + 0.1, 37.0, 127.0, 37.1), True),
        (32652, box(126.0 - AOU_MARGIN_DEG - 0.1, 37.0, 127.0, 37.1), False),  # one part out
        (32654, box(127.0, 37.4, 139.7, 35.7 + 2), False),  # Seoul to Tokyo in UTM 54N
        (32760, box(179.5, -17.5, 180.5, -16.5), True),  # past 180° in UTM 60S
        (32701, box(179.5, -17.5, 180.5, -16.5), True),  # the same in UTM 1S
        (3832, box(179.5, -17.5, 180.5, -16.5), True),  # an area of use across 180°
        (3832, box(20.0, 0.0, 21.0, 1.0), False),
        (4326, box(0.0, 0.0, 1.0, 1.0), True),  # geographic: not checked
    ],
)
def test_data_past_the_area_of_use_and_its_margin_does_not_fit(code, footprint, fits):
    native = (1e5, 1e5, 2e5, 2e5) if code != 4326 else footprint.bounds
    why = crs_mismatch(CRS.from_epsg(code), native, footprint)
    assert (why is None) == fits
    if not fits:
        assert "outside the CRS's area of use" in why
