"""Overviews and other images that show pixels the full-resolution image masks.

Masking a zone in the full-resolution image (nodata, alpha or an internal mask) and
keeping the overviews built before it ships the zone at a coarser resolution: every
reader that zooms out shows it. Each level is compared with the next finer one (the
full-resolution image, then each overview in turn): a pixel is a leak where it is
valid and every pixel of the finer level under it is masked. Honest overviews never
have one (averaging or sampling only ever takes valid pixels), and a chain of levels
each honest to the one before is honest to the full image, so the full resolution is
read once, in windows, and each overview once, at its own resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from compliance.readers.pixels import open_image
from compliance.readers.sources import RasterSource

__all__ = ["LevelLeak", "other_image_names", "overview_leaks"]

# A window of the finer level holds about this many pixels on a side: bounded memory.
_WINDOW = 1024


@dataclass(frozen=True)
class LevelLeak:
    """Pixels of one level valid where the finer level under them is all masked."""

    where: str  # the image and level, as a reader would name them
    pixels: int | None  # None: the masks could not be read, so a leak cannot be ruled out


def _valid_cells(
    finer: np.ndarray, rows: tuple[np.ndarray, np.ndarray], cols: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """For each coarser cell, whether any finer pixel in its span is valid; ``rows`` and
    ``cols`` hold each cell's first finer index and the index past its last."""
    summed = np.zeros((finer.shape[0] + 1, finer.shape[1] + 1), dtype=np.int64)
    summed[1:, 1:] = np.cumsum(np.cumsum(finer, axis=0, dtype=np.int64), axis=1)
    r0, r1 = rows[0][:, None], rows[1][:, None]
    c0, c1 = cols[0][None, :], cols[1][None, :]
    return (summed[r1, c1] - summed[r0, c1] - summed[r1, c0] + summed[r0, c0]) > 0


def _spans(start: int, size: int, ratio: float, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """First finer index under each of ``size`` coarser cells from ``start``, and the
    index past its last: generous by a pixel each way, so rounding never makes a leak."""
    cells = np.arange(start, start + size, dtype=np.float64)
    first = np.clip(np.floor(cells * ratio) - 1, 0, limit).astype(np.int64)
    past = np.clip(np.ceil((cells + 1) * ratio) + 1, 0, limit).astype(np.int64)
    return first, past


def _shown(ds: Any, window: Any, nodata: float | None) -> np.ndarray:
    """Which pixels of the window a reader shows. ``nodata`` stands in for the nodata
    value an image read apart from its base lacks (an ``.ovr`` opened on its own)."""
    if nodata is not None and all(f.name == "all_valid" for b in ds.mask_flag_enums for f in b):
        return np.asarray((ds.read(window=window) != nodata).any(axis=0))
    return np.asarray(ds.dataset_mask(window=window) > 0)


def _leaked(finer: Any, coarser: Any, nodata: float | None = None) -> int:
    """Pixels of ``coarser`` valid where all of ``finer`` under them is masked."""
    from rasterio.windows import Window

    ry, rx = finer.height / coarser.height, finer.width / coarser.width
    step = max(1, int(_WINDOW / max(rx, ry, 1.0)))
    leaked = 0
    for row in range(0, coarser.height, step):
        for col in range(0, coarser.width, step):
            h, w = min(step, coarser.height - row), min(step, coarser.width - col)
            shown = _shown(coarser, Window(col, row, w, h), nodata)
            if not shown.any():
                continue
            rows = _spans(row, h, ry, finer.height)
            cols = _spans(col, w, rx, finer.width)
            top, left = int(rows[0][0]), int(cols[0][0])
            window = Window(left, top, int(cols[1][-1]) - left, int(rows[1][-1]) - top)
            under = _shown(finer, window, nodata)
            valid = _valid_cells(
                under, (rows[0] - top, rows[1] - top), (cols[0] - left, cols[1] - left)
            )
            leaked += int((shown & ~valid).sum())
    return leaked


def _chain(
    name: str, driver: str, label: str, base: Any | None = None, nodata: float | None = None
) -> list[LevelLeak]:
    """Each overview of the image ``name`` against the level above it; ``base`` stands
    for the full resolution (another image of the file, compared as one of its levels)."""
    leaks = []
    with open_image(name, driver) as image:
        levels = len(image.overviews(1)) if image.count else 0
        if base is not None:
            pixels = _leaked(base, image, nodata)
            if pixels:
                leaks.append(LevelLeak(label, pixels))
        finer = image
        opened = []
        try:
            for level in range(levels):
                coarser = open_image(name, driver, overview_level=level)
                opened.append(coarser)
                pixels = _leaked(finer, coarser, nodata)
                if pixels:
                    leaks.append(LevelLeak(f"{label}, overview {level + 1}", pixels))
                finer = coarser
        finally:
            for dataset in opened:
                dataset.close()
    return leaks


def _masks_nothing(image: RasterSource) -> bool:
    """Every pixel of the full resolution is shown: nothing it hides can leak."""
    return set(image.mask_flags) <= {"all_valid"}


def other_image_names(raster: RasterSource) -> dict[str, str]:
    """GDAL's names of the file's other images, by the labels the reader gave them."""
    path = raster.path
    with open_image(str(path), raster.driver) as ds:
        return {n.replace(str(path), path.name): n for n in ds.subdatasets or []}


def _same_ground(a: RasterSource, b: RasterSource) -> bool:
    """Whether ``b`` is another rendering of ``a``'s pixels: placed alike, or not placed
    at all and of the same shape."""
    if b.transform is None and not b.gcps:
        return abs(a.width / a.height - b.width / b.height) <= 0.02 * a.width / a.height
    if a.transform is None or a.crs != b.crs:
        return False
    corners = [(0, 0), (1, 1)]
    pa = [a.transform * (x * a.width, y * a.height) for x, y in corners]
    pb = [b.transform * (x * b.width, y * b.height) for x, y in corners]
    pixel = math.hypot(a.transform.a, a.transform.e)
    return all(math.dist(p, q) <= pixel for p, q in zip(pa, pb, strict=True))


def _unread_ovr(raster: RasterSource) -> list[LevelLeak]:
    """An ``.ovr`` beside an image whose internal overviews GDAL reads instead: it leaves
    with the image (other software, or GDAL once the internal ones go, reads it), so its
    levels are compared with the full resolution too, its nodata taken from the image."""
    path = raster.path
    candidates = [path.with_name(path.name + s) for s in (".ovr", ".OVR")]
    ovr = next((c for c in candidates if c.is_file()), None)
    if ovr is None:
        return []
    import rasterio

    # Opened blind to its folder, the image shows only its internal overviews; without
    # any, GDAL reads the .ovr as its overviews, and they were compared above.
    with (
        rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"),
        open_image(str(path), raster.driver) as alone,
    ):
        if not alone.count or not alone.overviews(1):
            return []
    with open_image(str(path), raster.driver) as base:
        return _chain(str(ovr), "GTiff", ovr.name, base, base.nodata)


def overview_leaks(raster: RasterSource, gdal_name: str | None = None) -> list[LevelLeak]:
    """Every overview level, and every other image of the file that renders the same
    ground, whose valid pixels lie where the level above it masks them all.
    ``gdal_name`` opens an image GDAL names apart from its file (a GeoPackage table)."""
    name, driver = gdal_name or str(raster.path), raster.driver
    label = raster.label or raster.path.name
    try:
        leaks = [] if _masks_nothing(raster) or not raster.count else _chain(name, driver, label)
        if gdal_name is None and raster.count and not _masks_nothing(raster):
            leaks += _unread_ovr(raster)
        others = [o for o in raster.other_images if o.count]
        if not others or gdal_name is not None:
            return leaks
        names = other_image_names(raster)
        with open_image(name, driver) as base:
            for other in others:
                other_name = names.get(other.label or "")
                if other_name is None:
                    continue
                compare = base if raster.count and _same_ground(raster, other) else None
                if compare is not None and _masks_nothing(raster):
                    compare = None
                if compare is not None or not _masks_nothing(other):
                    leaks += _chain(other_name, other.driver, other.label or other_name, compare)
        return leaks
    except Exception as exc:
        # The pixels cannot be read where the header could (GDAL raises its own CPLE_*
        # errors from a damaged block, not RasterioError): what they hold is unknown.
        return [LevelLeak(f"{label} (its masks cannot be read: {exc})", None)]
