"""An image's world file and ``.prj`` place it, and never more loosely than its header.

The moves: ship an image whose only CRS is the ``.prj`` beside its world file (GDAL reads
the world file but not the ``.prj``: the image then had no CRS and its pixels were never
measured); and ship sidecars that disagree with the header, finer or elsewhere, so that
the sidecar reading is the one that matters once the file has left.

Truth: the pixel size on the ground is the geodesic (pyproj.Geod) between neighbouring
pixel centres placed through the world file's terms and pyproj, for images under 20 m
across (scale varies under 1e-6 there): tolerance 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.shutil
import shapely
from pyproj import CRS, Geod, Transformer
from rasterio.transform import from_origin

from compliance import Checker
from tests.builders import write_raster

GEOD = Geod(ellps="WGS84")
SIZE = 40

# name: (driver, image suffix, world-file suffix, CRS, lon, lat, pixel in CRS units)
PLAIN_IMAGES = {
    "seoul_tiff_tfw": ("GTiff", ".tif", ".tfw", "EPSG:5186", 126.98, 37.57, 0.2),
    "tel_aviv_jpeg_jgw": ("JPEG", ".jpg", ".jgw", "EPSG:2039", 34.78, 32.08, 0.3),
    "delhi_png_pgw": ("PNG", ".png", ".pgw", "EPSG:3857", 77.21, 28.61, 0.5),
}


def _plain_image(path, driver: str):  # type: ignore[no-untyped-def]
    """An image with no georeferencing of its own."""
    source = path.with_name("plain-source.tif")
    with rasterio.open(
        source, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, SIZE, SIZE), dtype="uint8"))
    rasterio.shutil.copy(source, path, driver=driver)
    source.unlink()
    for aux in path.parent.glob("*.aux.xml"):
        aux.unlink()
    return path


def _world_file(path, pixel: float, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """A north-up world file; its last two terms are the first pixel's centre."""
    path.write_text(f"{pixel}\n0.0\n0.0\n{-pixel}\n{x + pixel / 2}\n{y - pixel / 2}\n")


def _prj(path, crs: str) -> None:  # type: ignore[no-untyped-def]
    path.write_text(CRS.from_user_input(crs).to_wkt("WKT1_ESRI"))


def _ground_pixel(crs: str, x: float, y: float, pixel: float) -> float:
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_lonlat.transform(x, y)
    sides = []
    for dx, dy in ((pixel, 0.0), (0.0, -pixel)):
        lon1, lat1 = to_lonlat.transform(x + dx, y + dy)
        sides.append(GEOD.inv(lon0, lat0, lon1, lat1)[2])
    return min(sides)


def _at(crs: str, lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize("name", PLAIN_IMAGES)
def test_a_prj_beside_a_world_file_gives_the_crs(tmp_path, checker: Checker, name):
    driver, suffix, world, crs, lon, lat, pixel = PLAIN_IMAGES[name]
    image = _plain_image(tmp_path / f"{name}{suffix}", driver)
    x, y = _at(crs, lon, lat)
    _world_file(image.with_suffix(world), pixel, x, y)
    _prj(image.with_suffix(".prj"), crs)
    with rasterio.open(image) as ds:
        assert ds.crs is None and ds.transform.a == pytest.approx(pixel)  # GDAL skips the .prj

    v = checker.check(image)
    assert v.profile.crs == crs
    assert v.profile.georeferenced
    assert v.profile.resolution_m == pytest.approx(_ground_pixel(crs, x, y, pixel), rel=1e-4)
    assert (
        shapely.geometry.shape(v.profile.footprint_wgs84)
        .buffer(1e-6)
        .contains(shapely.Point(lon, lat))
    )
    assert v.verdict != "allow"
    assert any(".prj beside the image" in n for n in v.profile.notes)

    # Control: the same pixels as a GeoTIFF that carries the same CRS and transform itself.
    control = checker.check(
        write_raster(tmp_path / "control.tif", crs, from_origin(x, y, pixel, pixel), SIZE, SIZE)
    )
    assert control.profile.resolution_m == pytest.approx(v.profile.resolution_m, rel=1e-9)
    assert control.verdict == v.verdict


# name: (header CRS and pixel; sidecar CRS and pixel; the place the data is meant to be)
DISAGREEING = {
    # Israel: the header says 0.5 m (allowed), the world file says 0.3 m.
    "tel_aviv_finer_world_file": ("EPSG:2039", 0.5, "EPSG:2039", 0.3, (34.78, 32.08)),
    # Korea: header 0.3 m, world file 0.2 m (under the 0.25 m limit).
    "seoul_finer_world_file": ("EPSG:5186", 0.3, "EPSG:5186", 0.2, (126.98, 37.57)),
    # Israel's grid numbers tagged as UTM 52N in the header (the open Pacific), with a
    # .prj that places them over Tel Aviv.
    "tel_aviv_numbers_tagged_pacific": ("EPSG:32652", 0.3, "EPSG:2039", 0.3, (34.78, 32.08)),
}


@pytest.mark.parametrize("name", DISAGREEING)
def test_sidecars_that_disagree_with_the_header_count_too(tmp_path, checker: Checker, name):
    header_crs, header_pixel, side_crs, side_pixel, (lon, lat) = DISAGREEING[name]
    x, y = _at(side_crs, lon, lat)
    image = write_raster(
        tmp_path / f"{name}.tif",
        header_crs,
        from_origin(x, y, header_pixel, header_pixel),
        SIZE,
        SIZE,
    )
    _world_file(image.with_suffix(".tfw"), side_pixel, x, y)
    _prj(image.with_suffix(".prj"), side_crs)
    with rasterio.open(image) as ds:
        assert ds.transform.a == header_pixel  # GDAL reads the header alone

    v = checker.check(image)
    finest = min(
        _ground_pixel(header_crs, x, y, header_pixel), _ground_pixel(side_crs, x, y, side_pixel)
    )
    assert v.profile.resolution_m == pytest.approx(finest, rel=1e-4)
    footprint = shapely.geometry.shape(v.profile.footprint_wgs84)
    assert footprint.buffer(1e-6).contains(shapely.Point(lon, lat))  # the sidecar placement
    assert any("sidecar files place it differently" in n for n in v.profile.notes)
    assert v.verdict != "allow"

    # Control: the sidecars agree with a header that says what they say.
    control = write_raster(
        tmp_path / "control.tif", side_crs, from_origin(x, y, side_pixel, side_pixel), SIZE, SIZE
    )
    _world_file(control.with_suffix(".tfw"), side_pixel, x, y)
    _prj(control.with_suffix(".prj"), side_crs)
    agreed = checker.check(control)
    assert not any("sidecar files" in n for n in agreed.profile.notes)
    assert agreed.profile.resolution_m == pytest.approx(
        _ground_pixel(side_crs, x, y, side_pixel), rel=1e-4
    )
    assert agreed.verdict != "allow"


# name: (CRS, header pixel, the .aux.xml's coarser pixel, place); both in CRS units.
AUX_XML = {
    "tel_aviv_itm": ("EPSG:2039", 0.3, 0.5, (34.78, 32.08)),
    "seoul_central_belt": ("EPSG:5186", 0.2, 0.3, (126.98, 37.57)),
    "delhi_web_mercator": ("EPSG:3857", 0.9, 1.5, (77.21, 28.61)),
}


@pytest.mark.parametrize("name", AUX_XML)
def test_an_aux_xml_does_not_hide_the_header(tmp_path, checker: Checker, name):
    # GDAL prefers a PAM .aux.xml's geotransform to the GeoTIFF's own: shipping one with a
    # coarser grid made GDAL, and the check, read the coarser grid.
    crs, fine, coarse, (lon, lat) = AUX_XML[name]
    x, y = _at(crs, lon, lat)
    image = write_raster(tmp_path / f"{name}.tif", crs, from_origin(x, y, fine, fine), SIZE, SIZE)
    image.with_name(image.name + ".aux.xml").write_text(
        f"<PAMDataset><GeoTransform>{x}, {coarse}, 0, {y}, 0, {-coarse}</GeoTransform></PAMDataset>"
    )
    with rasterio.open(image) as ds:
        assert ds.transform.a == coarse  # what GDAL reads

    v = checker.check(image)
    assert v.profile.resolution_m == pytest.approx(_ground_pixel(crs, x, y, fine), rel=1e-4)
    assert any("its header alone" in n for n in v.profile.notes)
    assert v.verdict != "allow"

    # Control: the header alone, without the .aux.xml.
    image.with_name(image.name + ".aux.xml").unlink()
    control = checker.check(image)
    assert control.profile.resolution_m == pytest.approx(v.profile.resolution_m, rel=1e-9)
    assert control.verdict == v.verdict
