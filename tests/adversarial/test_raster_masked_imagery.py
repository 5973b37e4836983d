"""Imagery kept under an alpha band or a mask still shows the zone it lies over.

The claim: "a raster overlaps a zone when it shows ground in it". An alpha band, an
internal mask or a ``.msk`` beside the TIFF only says which pixels a reader should draw;
most readers can ignore it, and the bands under it still hold the image. So a masked
pixel shows ground unless its values are blank: in every band, the value the masked
pixels there hold (0 as mapgate's remediation writes, or any other constant). Truth is
computed here with rasterio reading the bands directly (no mask applied), shapely and
pyproj: every level's pixel cells that meet the zone, valid or masked over values that
differ from that band's most common masked value.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import numpy as np
import pytest
import rasterio
import rasterio.io
import shapely
from pyproj import Geod, Transformer
from rasterio.enums import Resampling
from rasterio.transform import Affine

from compliance import Checker
from tests.measure.leak_files import zone_file, zone_pack

SIZE = 400  # pixels per side
ZONE = (100.0, 300.0)  # the zone's pixel span, both axes
MASKED = (92, 308)  # the masked square's pixel span: the zone and 8 pixels beyond
# (crs, lon, lat, pixel side in CRS units)
PLACES = {
    "korean_tm_seoul": ("EPSG:5186", 127.03, 37.50, 2.0),
    "utm52_busan": ("EPSG:32652", 129.05, 35.15, 2.0),
    "wgs84_daejeon": ("EPSG:4326", 127.38, 36.35, 2e-5),
}
# alpha: RGBA; mask: RGB with an internal mask; msk: RGB with a .msk beside it.
KINDS = ("alpha", "mask", "msk")
GEOD = Geod(ellps="WGS84")


def _transform(place: str) -> tuple[str, Affine]:
    crs, lon, lat, side = PLACES[place]
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return crs, Affine(side, 0.0, x, 0.0, -side, y)


def _lonlat(place: str, pixels: shapely.Polygon) -> shapely.Polygon:
    """A polygon drawn in pixels, carried to lon/lat with pyproj."""
    crs, a = _transform(place)
    ring = shapely.segmentize(pixels, 1.0)
    xy = np.array([a * p for p in shapely.get_coordinates(ring)])
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    return shapely.Polygon(np.column_stack([lon, lat]))


def _zone_lonlat(place: str, span: tuple[float, float] = ZONE) -> shapely.Polygon:
    return _lonlat(place, shapely.box(span[0], span[0], span[1], span[1]))


def _km2(lonlat: shapely.Polygon) -> float:
    return abs(GEOD.geometry_area_perimeter(lonlat)[0]) / 1e6


def _check(tmp_path: Path, raster: Path, zone: shapely.Polygon):
    checker = Checker(packs=[zone_pack(tmp_path)], zones=zone_file(tmp_path, zone))
    return checker.check(raster, reveal_zones=True)


def _imagery(size: int = SIZE, dtype: str = "uint8", seed: int = 7) -> np.ndarray:
    """Three bands of noise, never 0 nor the type's extremes: an image, not a fill."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(1.0, 1000.0, (3, size, size)).astype(dtype)
    top = min(int(np.iinfo(dtype).max), 30_000)
    return rng.integers(1, top, (3, size, size)).astype(dtype)


def _square(lo: int, hi: int, size: int = SIZE) -> np.ndarray:
    inside = np.zeros((size, size), dtype=bool)
    inside[lo:hi, lo:hi] = True
    return inside


def _env(kind: str) -> rasterio.Env:
    # An internal mask, or a .msk beside the image, as GDAL writes either.
    return rasterio.Env(GDAL_TIFF_INTERNAL_MASK=kind != "msk")


def _profile(place: str, rgb: np.ndarray) -> dict[str, object]:
    crs, a = _transform(place)
    size, dtype = rgb.shape[1], str(rgb.dtype)
    return {
        "driver": "GTiff", "width": size, "height": size, "dtype": dtype, "crs": crs,
        "transform": a, "tiled": True, "blockxsize": 128, "blockysize": 128,
    }  # fmt: skip


def _write(path: Path, place: str, kind: str, rgb: np.ndarray, valid: np.ndarray) -> Path:
    """A tiled RGB GeoTIFF holding ``rgb``, its pixels valid where ``valid`` says."""
    profile = _profile(place, rgb) | {"photometric": "RGB"}
    with _env(kind):
        if kind == "alpha":
            opaque = np.iinfo(rgb.dtype).max
            with rasterio.open(path, "w", count=4, alpha="YES", **profile) as dst:
                dst.write(rgb, [1, 2, 3])
                dst.write(np.where(valid, opaque, 0).astype(rgb.dtype), 4)
        else:
            with rasterio.open(path, "w", count=3, **profile) as dst:
                dst.write(rgb)
                dst.write_mask(np.where(valid, 255, 0).astype("uint8"))
    assert path.with_name(path.name + ".msk").exists() == (kind == "msk")
    return path


def _fill(path: Path, where: np.ndarray, value: float) -> None:
    """Overwrite bands 1-3 with ``value`` where ``where`` holds (the mask untouched)."""
    with rasterio.open(path, "r+") as dst:
        for band in (1, 2, 3):
            dst.write(np.where(where, value, dst.read(band)).astype(dst.dtypes[0]), band)


def _overviews(path: Path, kind: str) -> None:
    # Nearest: each overview pixel and its mask are one pixel of the image and its mask.
    with _env(kind), rasterio.open(path, "r+") as ds, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.build_overviews([2, 4, 8], Resampling.nearest)


def _levels(path: Path) -> Iterator[tuple[np.ndarray, np.ndarray, Affine]]:
    """Each level's bands 1-3 (read as they are, no mask applied), its dataset mask and
    its pixel-to-CRS affine: the full image, then each overview."""
    with rasterio.open(path) as ds:
        a, w, count = ds.transform, ds.width, len(ds.overviews(1))
    for level in [None, *range(count)]:
        with rasterio.open(path, **({} if level is None else {"overview_level": level})) as ds:
            yield ds.read([1, 2, 3]), ds.dataset_mask() != 0, a * Affine.scale(w / ds.width)


def _touched(shape: tuple[int, int], cell: Affine, zone: shapely.Polygon) -> np.ndarray:
    """The pixels whose cells meet ``zone`` (in the CRS), boundary included."""
    rows, cols = np.indices(shape).reshape(2, -1)
    boxes = shapely.box(cols, rows, cols + 1, rows + 1)
    boxes = shapely.transform(boxes, lambda xy: np.column_stack(cell * (xy[:, 0], xy[:, 1])))
    return shapely.intersects(boxes, zone).reshape(shape)


def _showing(bands: np.ndarray, valid: np.ndarray, touched: np.ndarray) -> np.ndarray:
    """Touched pixels valid, or masked over a value other than the band's usual one there."""
    masked = touched & ~valid
    differs = np.zeros(int(masked.sum()), dtype=bool)
    for band in bands:
        values = band[masked]
        if values.size:
            kinds, counts = np.unique(values, return_counts=True)  # NaNs count as one value
            fill = kinds[counts.argmax()]
            same = np.isnan(values) if np.isnan(fill) else values == fill
            differs |= ~same
    shown = valid & touched
    shown[masked] = differs
    return shown


def _truth(path: Path, place: str, zone_lonlat: shapely.Polygon) -> list[tuple[np.ndarray, ...]]:
    """Per level: (pixels touched by the zone, pixels valid, touched pixels showing ground)."""
    crs, _ = _transform(place)
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    zone = shapely.transform(
        shapely.segmentize(zone_lonlat, 1e-5),
        lambda xy: np.column_stack(to_crs.transform(xy[:, 0], xy[:, 1])),
    )
    shapely.prepare(zone)
    found = []
    for bands, valid, cell in _levels(path):
        touched = _touched(valid.shape, cell, zone)
        found.append((touched, valid, _showing(bands, valid, touched)))
    return found


def _assert_meets(verdict, want_km2: float) -> None:
    """One zone met, by the raster as one feature, over ``want_km2`` on the ground: never
    less; a little more, since zones are drawn 0.5 m wide of their edges."""
    assert (verdict.zones.count, verdict.verdict) == (1, "deny")
    military = verdict.zones.by_class["military"]
    assert (military.zones, military.features) == (1, 1)
    assert [hit.zone_id for hit in verdict.zones.hits] == ["Z1"]
    assert want_km2 - 2e-6 <= military.overlap_km2 <= want_km2 * 1.01


def _assert_clear(verdict) -> None:
    assert (verdict.zones.count, verdict.verdict) == (0, "allow")
    assert verdict.zones.by_class["military"].overlap_km2 == 0.0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
def test_imagery_kept_under_a_mask_meets_the_zone(tmp_path: Path, place: str, kind: str):
    zone, rgb, masked = _zone_lonlat(place), _imagery(), _square(*MASKED)
    kept = _write(tmp_path / "kept.tif", place, kind, rgb, ~masked)
    with rasterio.open(kept) as ds:
        assert not ds.dataset_mask()[masked].any()  # the mask hides the zone
        np.testing.assert_array_equal(ds.read([1, 2, 3]), rgb)  # the bands still hold it
    ((touched, _, shown),) = _truth(kept, place, zone)
    assert touched.any() and (shown == touched).all()  # every cell the zone meets shows it
    # The zone lies inside the image: the ground shown in it is the whole zone.
    _assert_meets(_check(tmp_path, kept, zone), _km2(zone))

    # Control: the same image, no mask.
    whole = _write(tmp_path / "whole.tif", place, kind, rgb, np.ones_like(masked))
    _assert_meets(_check(tmp_path, whole, zone), _km2(zone))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
def test_blank_values_under_a_mask_clear_the_zone(tmp_path: Path, place: str, kind: str):
    zone, masked = _zone_lonlat(place), _square(*MASKED)
    # 0 as mapgate's remediation writes; any other constant is as blank.
    for fill in (0, 100, 255):
        blank = _write(tmp_path / f"blank{fill}.tif", place, kind, _imagery(), ~masked)
        _fill(blank, masked, fill)
        ((touched, _, shown),) = _truth(blank, place, zone)
        assert touched.any() and not shown.any()
        _assert_clear(_check(tmp_path, blank, zone))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
def test_a_patch_of_imagery_left_in_a_blanked_mask_counts(tmp_path: Path, place: str, kind: str):
    # The zone's pixels zeroed under the mask, but for a 20-pixel square of the image.
    zone = _zone_lonlat(place)
    masked, patch = _square(*MASKED), _square(190, 210)
    path = _write(tmp_path / "patch.tif", place, kind, _imagery(), ~masked)
    _fill(path, masked & ~patch, 0)
    ((_, _, shown),) = _truth(path, place, zone)
    np.testing.assert_array_equal(shown, patch)
    # The patch lies inside the zone: the ground shown in it is the patch's.
    patch_km2 = _km2(_lonlat(place, shapely.box(190, 190, 210, 210)))
    _assert_meets(_check(tmp_path, path, zone), patch_km2)


@pytest.mark.parametrize(("place", "kind"), zip(PLACES, KINDS, strict=True))
def test_imagery_speckled_in_a_blanked_mask_counts(tmp_path: Path, place: str, kind: str):
    # Every other pixel of a wide zone keeps the image, the rest are zeroed: far more
    # separate cells than are kept as shapes; the rest stand in as their windows' boxes.
    zone = _zone_lonlat(place, (60.0, 340.0))
    masked = _square(50, 350)
    rows, cols = np.indices((SIZE, SIZE))
    path = _write(tmp_path / "speckled.tif", place, kind, _imagery(), ~masked)
    _fill(path, masked & ((rows + cols) % 2 == 0), 0)
    ((touched, _, shown),) = _truth(path, place, zone)
    assert shown.sum() > 10_000 and (shown == (touched & ((rows + cols) % 2 == 1))).all()
    verdict = _check(tmp_path, path, zone)
    assert (verdict.zones.count, verdict.verdict) == (1, "deny")
    # The shown cells cover half the zone; their windows' boxes may stand in for the rest.
    got_km2 = verdict.zones.by_class["military"].overlap_km2
    assert _km2(zone) * 0.45 <= got_km2 <= _km2(zone) * 1.01


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
def test_imagery_kept_under_an_overview_mask_meets_the_zone(tmp_path: Path, place: str, kind: str):
    zone, masked = _zone_lonlat(place), _square(*MASKED)
    # Masked over the image, overviews built (mask and image), then the full image blanked:
    # only the overviews keep the image, under their masks.
    stale = _write(tmp_path / "stale.tif", place, kind, _imagery(), ~masked)
    _overviews(stale, kind)
    _fill(stale, masked, 0)
    levels = _truth(stale, place, zone)
    assert len(levels) == 4
    (_, _, full_shown), *overviews = levels
    assert not full_shown.any()
    for touched, valid, shown in overviews:
        # Every overview cell the zone meets is masked, yet holds the image.
        assert touched.any() and not (valid & touched).any()
        assert (shown == touched).all()
    _assert_meets(_check(tmp_path, stale, zone), _km2(zone))

    # Control: blanked before the overviews were built, every level is blank.
    clean = _write(tmp_path / "clean.tif", place, kind, _imagery(), ~masked)
    _fill(clean, masked, 0)
    _overviews(clean, kind)
    assert not any(shown.any() for _, _, shown in _truth(clean, place, zone))
    _assert_clear(_check(tmp_path, clean, zone))


@pytest.mark.parametrize(
    ("dtype", "fill", "place", "kind"),
    [
        ("uint16", 65535, "korean_tm_seoul", "alpha"),
        ("float32", np.nan, "utm52_busan", "msk"),
        ("int16", -32768, "wgs84_daejeon", "mask"),
    ],
)
def test_imagery_of_any_depth_under_a_mask_counts_its_fill_does_not(
    tmp_path: Path, dtype: str, fill: float, place: str, kind: str
):
    zone, masked = _zone_lonlat(place), _square(*MASKED)
    kept = _write(tmp_path / "kept.tif", place, kind, _imagery(dtype=dtype), ~masked)
    ((touched, _, shown),) = _truth(kept, place, zone)
    assert touched.any() and (shown == touched).all()
    _assert_meets(_check(tmp_path, kept, zone), _km2(zone))
    # Control: the fill (the type's extreme, or NaN) under the mask.
    blank = _write(tmp_path / "blank.tif", place, kind, _imagery(dtype=dtype), ~masked)
    _fill(blank, masked, fill)
    ((_, _, shown),) = _truth(blank, place, zone)
    assert not shown.any()
    _assert_clear(_check(tmp_path, blank, zone))


@pytest.mark.parametrize(("place", "kind"), zip(PLACES, KINDS, strict=True))
def test_imagery_under_a_mask_wider_than_a_window_counts(tmp_path: Path, place: str, kind: str):
    # A zone wider than the windows the pixels are read in (1,100 pixels), masked.
    size, zone = 1500, _zone_lonlat(place, (200.0, 1300.0))
    masked = _square(192, 1308, size)
    kept = _write(tmp_path / "kept.tif", place, kind, _imagery(size), ~masked)
    with rasterio.open(kept) as ds:
        assert not ds.dataset_mask()[masked].any()
        assert len(np.unique(ds.read(1)[masked])) == 254  # the image: every value but 0, 255
    _assert_meets(_check(tmp_path, kept, zone), _km2(zone))
    _fill(kept, masked, 0)
    _assert_clear(_check(tmp_path, kept, zone))


def _band_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Band reads asked for by the valid-pixel measure (the leak checks read for theirs)."""
    import compliance.measure.valid_pixels as measure

    reads: list[str] = []
    real = rasterio.io.DatasetReader.read

    def recording(self, *args, **kwargs):
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == measure.__file__:
                reads.append(self.name)
                break
            frame = frame.f_back
        return real(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", recording)
    return reads


@pytest.mark.parametrize("place", PLACES)
def test_nodata_needs_no_value_read_and_behaves_as_before(
    tmp_path: Path, place: str, monkeypatch: pytest.MonkeyPatch
):
    zone, rgb, path = _zone_lonlat(place), _imagery(), tmp_path / "nodata.tif"
    rgb[:, MASKED[0] : MASKED[1], MASKED[0] : MASKED[1]] = 0  # every band at nodata
    with rasterio.open(path, "w", count=3, nodata=0, **_profile(place, rgb)) as dst:
        dst.write(rgb)
    reads = _band_reads(monkeypatch)
    ((touched, valid, shown),) = _truth(path, place, zone)
    assert touched.any() and not (valid & touched).any() and not shown.any()
    _assert_clear(_check(tmp_path, path, zone))
    assert reads == []  # a pixel masked by nodata holds nodata: nothing to read
    # The same blank under an alpha band is read, and clears the zone too.
    alpha = _write(tmp_path / "alpha.tif", place, "alpha", rgb, rgb.any(axis=0))
    _assert_clear(_check(tmp_path, alpha, zone))
    assert reads and set(reads) == {str(alpha)}

    # One band off nodata in one pixel: valid (a pixel is valid when any band is).
    with rasterio.open(path, "r+") as dst:
        dst.write(np.full((1, 1), 7, dtype="uint8"), 2, window=((200, 201), (200, 201)))
    ((_, _, shown),) = _truth(path, place, zone)
    assert shown.sum() == 1
    verdict = _check(tmp_path, path, zone)
    assert (verdict.zones.count, verdict.verdict) == (1, "deny")
