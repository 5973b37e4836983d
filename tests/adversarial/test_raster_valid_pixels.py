"""A raster meets a zone where it holds valid pixels, at the full image or any overview.

The claim: "a raster overlaps a zone when it shows ground in it". Counting the outline
made a masked derivative meet the zone it was masked for, forever. Counting only the
full-resolution image would let an exporter mask it and leave the overviews (internal or
in a ``.ovr``) showing the zone. Truth is computed here with rasterio and shapely alone:
every level's valid pixel cells (nodata, alpha, internal mask), carried to the raster's
CRS through its affine, against the zone carried there with pyproj.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.enums import Resampling
from rasterio.transform import Affine

from compliance import Checker

SIZE = 400  # pixels per side
ZONE = (180, 220)  # the zone's pixel span, both axes
MARGIN = 8  # masked pixels beyond the zone on each side
# (crs, lon, lat, pixel side in CRS units)
PLACES = {
    "korean_tm_seoul": ("EPSG:5186", 127.03, 37.50, 2.0),
    "utm52_busan": ("EPSG:32652", 129.05, 35.15, 2.0),
    "wgs84_daejeon": ("EPSG:4326", 127.38, 36.35, 2e-5),
    "mercator_gwangju": ("EPSG:3857", 126.85, 35.16, 2.5),
}


def _transform(place: str) -> tuple[str, Affine]:
    crs, lon, lat, side = PLACES[place]
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return crs, Affine(side, 0.0, x, 0.0, -side, y)


def _zone_lonlat(place: str, span: tuple[float, float] = ZONE) -> shapely.Polygon:
    """A square zone over pixels ``span`` (both axes), drawn in lon/lat."""
    crs, a = _transform(place)
    lo, hi = span
    ring = shapely.segmentize(shapely.box(lo, lo, hi, hi), 1.0)
    xy = np.array([a * p for p in shapely.get_coordinates(ring)])
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    return shapely.Polygon(np.column_stack([lon, lat]))


def _zones(tmp_path: Path, zone: shapely.Polygon) -> Path:
    path = tmp_path / "zones.gpkg"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame(
            {"zone_id": ["z1"], "zone_class": ["military"], "buffer_m": [0.0]},
            geometry=[zone],
            crs="EPSG:4326",
        ),
        path,
    )
    return path


def _pack(tmp_path: Path) -> Path:
    path = tmp_path / "zone-deny.yaml"
    path.write_text(
        'pack: zone-deny\nversion: "1"\ntitle: t\njurisdiction: XX\nrules:\n'
        "  - id: ZD-1\n    title: data on a zone\n    when: zones.count > 0\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return path


def _write(path: Path, place: str, kind: str, **extra: object) -> Path:
    """A tiled raster full of data: one nodata band, RGBA, or RGB with an internal mask."""
    crs, a = _transform(place)
    count = {"nodata": 1, "alpha": 4, "mask": 3}[kind]
    profile = dict(
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=count,
        dtype="uint8",
        crs=crs,
        transform=a,
        tiled=True,
        blockxsize=128,
        blockysize=128,
        **extra,
    )
    if kind == "nodata":
        profile["nodata"] = 0
    if kind == "alpha":
        profile["photometric"] = "RGB"
        profile["alpha"] = "YES"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((count, SIZE, SIZE), 100, dtype="uint8"))
        if kind == "alpha":
            dst.write(np.full((SIZE, SIZE), 255, dtype="uint8"), 4)
        if kind == "mask":
            dst.write_mask(np.full((SIZE, SIZE), 255, dtype="uint8"))
    return path


def _mask(path: Path, kind: str, valid: np.ndarray) -> None:
    """Make the pixels where ``valid`` is False invalid, in place (overviews untouched)."""
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as dst:
        if kind == "nodata":
            dst.write(np.where(valid, 100, 0).astype("uint8"), 1)
        elif kind == "alpha":
            dst.write(np.where(valid, 255, 0).astype("uint8"), 4)
        else:
            dst.write_mask(np.where(valid, 255, 0).astype("uint8"))


def _overviews(path: Path, external: bool) -> None:
    # TIFF_USE_OVR puts them in a .ovr beside the image, as ``gdaladdo -ro`` does.
    env = rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, TIFF_USE_OVR=external)
    with env, rasterio.open(path, "r+") as ds, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's note that a .ovr gets no mask overviews
        ds.build_overviews([2, 4, 8], Resampling.average)
    assert path.with_name(path.name + ".ovr").exists() == external


def _masked_square(lo: int, hi: int) -> np.ndarray:
    valid = np.ones((SIZE, SIZE), dtype=bool)
    valid[lo:hi, lo:hi] = False
    return valid


def _truth_meets(path: Path, zone_lonlat: shapely.Polygon) -> bool:
    """Whether any level holds a valid pixel cell meeting the zone, read whole."""
    with rasterio.open(path) as ds:
        crs, a, w, h, levels = ds.crs, ds.transform, ds.width, ds.height, len(ds.overviews(1))
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    zone = shapely.transform(
        shapely.segmentize(zone_lonlat, 1e-5),
        lambda xy: np.column_stack(to_crs.transform(xy[:, 0], xy[:, 1])),
    )
    shapely.prepare(zone)
    for level in [None, *range(levels)]:
        opts = {} if level is None else {"overview_level": level}
        with rasterio.open(path, **opts) as ds:
            valid = ds.dataset_mask() != 0
            cell = a * Affine.scale(w / ds.width, h / ds.height)
        rows, cols = np.nonzero(valid)
        boxes = shapely.box(cols, rows, cols + 1, rows + 1)
        boxes = shapely.transform(
            boxes, lambda xy, c=cell: np.column_stack(c * (xy[:, 0], xy[:, 1]))
        )
        if shapely.intersects(boxes, zone).any():
            return True
    return False


def _zone_count(tmp_path: Path, raster: Path, zone: shapely.Polygon):
    verdict = Checker(packs=[_pack(tmp_path)], zones=_zones(tmp_path, zone)).check(raster)
    return verdict.zones.count, verdict


@pytest.mark.parametrize("external", [False, True], ids=["internal", "ovr"])
@pytest.mark.parametrize("kind", ["nodata", "alpha", "mask"])
@pytest.mark.parametrize("place", PLACES)
def test_masked_image_and_overviews_clear_a_stale_overview_counts(
    tmp_path: Path, place: str, kind: str, external: bool
):
    zone = _zone_lonlat(place)
    lo, hi = ZONE[0] - MARGIN, ZONE[1] + MARGIN

    # Masked, then overviews built from the masked image: no level shows the zone.
    clean = _write(tmp_path / "clean.tif", place, kind)
    _mask(clean, kind, _masked_square(lo, hi))
    # GDAL builds no mask overviews into a .ovr beside an internal mask (see below).
    _overviews(clean, external and kind != "mask")
    assert not _truth_meets(clean, zone)
    count, _ = _zone_count(tmp_path, clean, zone)
    assert count == 0
    if kind == "mask" and external:
        # Overviews in a .ovr beside an internal mask have no mask: every overview pixel
        # is valid and shows the zone, though the image was masked first.
        leaky = _write(tmp_path / "leaky.tif", place, kind)
        _mask(leaky, kind, _masked_square(lo, hi))
        _overviews(leaky, external=True)
        assert _truth_meets(leaky, zone)
        count, verdict = _zone_count(tmp_path, leaky, zone)
        assert (count, verdict.verdict) == (1, "deny")

    # The move: overviews built first, then only the full image masked.
    stale = _write(tmp_path / "stale.tif", place, kind)
    _overviews(stale, external)
    _mask(stale, kind, _masked_square(lo, hi))
    with rasterio.open(stale) as ds:
        assert not (ds.dataset_mask()[lo:hi, lo:hi]).any()  # the full image is masked
    assert _truth_meets(stale, zone)
    count, verdict = _zone_count(tmp_path, stale, zone)
    assert count == 1
    assert verdict.verdict != "allow"

    # Control: nothing masked.
    whole = _write(tmp_path / "whole.tif", place, kind)
    _overviews(whole, external)
    count, verdict = _zone_count(tmp_path, whole, zone)
    assert (count, verdict.verdict) == (1, "deny")


@pytest.mark.parametrize("kind", ["nodata", "alpha", "mask"])
@pytest.mark.parametrize("place", PLACES)
def test_one_valid_pixel_in_the_zone_counts_a_nodata_border_does_not(
    tmp_path: Path, place: str, kind: str
):
    # A collar of nodata 20 pixels wide round the image, as orthophoto tiles have; the
    # zone reaches over the outline's edge but only into the collar.
    collar = np.zeros((SIZE, SIZE), dtype=bool)
    collar[20:-20, 20:-20] = True
    border = _write(tmp_path / "border.tif", place, kind)
    _mask(border, kind, collar)
    _overviews(border, external=False)
    edge_zone = _zone_lonlat(place, (-30.0, 12.0))  # 8 pixels short of the data
    assert not _truth_meets(border, edge_zone)
    count, _ = _zone_count(tmp_path, border, edge_zone)
    assert count == 0
    # The same zone reaching 2 pixels into the data counts.
    count, verdict = _zone_count(tmp_path, border, _zone_lonlat(place, (-30.0, 22.0)))
    assert (count, verdict.verdict) == (1, "deny")

    # One valid pixel in the middle of a masked zone counts, at the full image alone.
    zone = _zone_lonlat(place)
    one = _masked_square(ZONE[0] - MARGIN, ZONE[1] + MARGIN)
    one[200, 200] = True
    single = _write(tmp_path / "single.tif", place, kind)
    _mask(single, kind, one)
    assert _truth_meets(single, zone)
    count, verdict = _zone_count(tmp_path, single, zone)
    assert (count, verdict.verdict) == (1, "deny")


def _corrupt_first_tile(path: Path) -> None:
    with rasterio.open(path) as ds:
        offset = int(ds.get_tag_item("BLOCK_OFFSET_1_1", "TIFF", bidx=1))
        size = int(ds.get_tag_item("BLOCK_SIZE_1_1", "TIFF", bidx=1))
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(b"\xff" * size)


@pytest.mark.parametrize("place", PLACES)
def test_a_mask_that_cannot_be_read_counts_the_outline(tmp_path: Path, place: str):
    zone = _zone_lonlat(place, (140.0, 180.0))  # within the tile at block (1, 1)
    compressed = _write(tmp_path / "corrupt.tif", place, "nodata", compress="deflate")
    _mask(compressed, "nodata", _masked_square(0, SIZE))
    count, _ = _zone_count(tmp_path, compressed, zone)
    assert count == 0  # control: every pixel is nodata
    _corrupt_first_tile(compressed)
    count, verdict = _zone_count(tmp_path, compressed, zone)
    assert (count, verdict.verdict) == (1, "deny")


@pytest.mark.parametrize("place", PLACES)
def test_speckled_data_over_a_zone_counts(tmp_path: Path, place: str):
    # Every other pixel valid (a checkerboard): tens of thousands of separate cells meet
    # the zone, far more than are kept as shapes; the rest stand in as their windows' boxes.
    zone = _zone_lonlat(place, (60.0, 340.0))
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    speckled = _write(tmp_path / "speckled.tif", place, "nodata")
    _mask(speckled, "nodata", (rows + cols) % 2 == 0)
    assert _truth_meets(speckled, zone)
    count, verdict = _zone_count(tmp_path, speckled, zone)
    assert (count, verdict.verdict) == (1, "deny")
    # Control: the same raster with every pixel nodata meets nothing.
    _mask(speckled, "nodata", np.zeros((SIZE, SIZE), dtype=bool))
    count, _ = _zone_count(tmp_path, speckled, zone)
    assert count == 0


@pytest.mark.parametrize("place", PLACES)
def test_an_image_without_a_mask_meets_the_zone_where_its_outline_does(tmp_path: Path, place: str):
    # No nodata, alpha or mask: every pixel holds data, and the ground shared with a zone
    # partly inside the image is the zone's part inside the outline, measured here with
    # pyproj's geodesic area.
    crs, a = _transform(place)
    zone = _zone_lonlat(place, (-100.0, 100.0))  # its south-west quarter lies outside
    path = tmp_path / "plain.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint8",
        crs=crs, transform=a, tiled=True, blockxsize=128, blockysize=128,
    ) as dst:  # fmt: skip
        dst.write(np.full((1, SIZE, SIZE), 100, dtype="uint8"))
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    ring = shapely.get_coordinates(shapely.segmentize(shapely.box(0, 0, SIZE, SIZE), 1.0))
    xy = np.array([a * p for p in ring])
    outline = shapely.Polygon(np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    shared = shapely.intersection(zone, outline)
    want_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(shared)[0]) / 1e6
    verdict = Checker(packs=[_pack(tmp_path)], zones=_zones(tmp_path, zone)).check(
        path, reveal_zones=True
    )
    assert verdict.verdict == "deny" and verdict.zones.count == 1
    got_km2 = verdict.zones.by_class["military"].overlap_km2
    # Never less; a little more: zones are drawn 0.5 m wide of their edges (README).
    assert want_km2 <= got_km2 <= want_km2 * 1.01
