"""A raster's world file and ``.prj``: placements beside the image, read as GDAL would not.

GDAL reads a world file (``.tfw``, ``.jgw``, ``.pgw``, ``.wld``...) beside an image that
has no geotransform of its own, but never the ``.prj`` beside it: such an image had a
geotransform and no CRS, and could not be placed. And when the image's header places it
too, GDAL keeps the header and ignores the sidecars. The sidecars leave with the image,
so each placement they give is one the image may be read by: every distinct placement
(header or sidecar geotransform, header or ``.prj`` CRS) is measured, and the finest
pixel spacing, every footprint and every zone met count.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import CRS

if TYPE_CHECKING:
    from compliance.readers.dataset import RasterSource

_MAX_SIDECAR_BYTES = 1 << 20  # a .prj or world file is a few hundred bytes


def world_file(image: Path) -> Path | None:
    """The world file beside ``image``, by GDAL's names: first and last letters of the
    extension plus ``w`` (``.tfw``), the extension plus ``w`` (``.tifw``), then ``.wld``."""
    ext = image.suffix[1:]
    if not ext:
        return None
    names = [ext[0] + ext[-1] + "w", ext + "w", "wld"]
    return _beside(image, names)


def prj_file(image: Path) -> Path | None:
    return _beside(image, ["prj"])


def _beside(image: Path, suffixes: list[str]) -> Path | None:
    for suffix in suffixes:
        for variant in (suffix.lower(), suffix.upper()):
            candidate = image.with_suffix("." + variant)
            if candidate.is_file() and candidate.stat().st_size <= _MAX_SIDECAR_BYTES:
                return candidate
    return None


def read_world_file(path: Path) -> Any:
    """The geotransform (an affine.Affine, outer corner of the first pixel) a world file
    gives, or None when it does not hold six finite numbers."""
    from affine import Affine

    try:
        terms = [float(t) for t in path.read_text(errors="replace").split()[:6]]
    except (OSError, ValueError):
        return None
    if len(terms) < 6 or not all(math.isfinite(t) for t in terms):
        return None
    a, d, b, e, c, f = terms  # c, f: the centre of the first pixel
    return Affine(a, b, c - a / 2 - b / 2, d, e, f - d / 2 - e / 2)


def read_prj(path: Path) -> CRS | None:
    """The CRS an ESRI ``.prj`` (or any WKT or code PROJ reads) names, or None."""
    from compliance.readers.dataset import parse_crs

    try:
        return parse_crs(path.read_text(errors="replace").strip())
    except OSError:
        return None


def _same_transform(a: Any, b: Any) -> bool:
    scale = max(abs(a.a), abs(a.b), abs(a.d), abs(a.e), 1e-300)
    return all(
        abs(x - y) <= 1e-9 * scale + 1e-12 * max(abs(x), abs(y))
        for x, y in zip(tuple(a)[:6], tuple(b)[:6], strict=True)
    )


def _same_crs(a: CRS | None, b: CRS | None, raster: RasterSource) -> bool:
    """Whether two CRSs place the raster's corners (or GCPs) at the same lon/lat, to
    about 0.1 mm: an ESRI ``.prj`` and the EPSG definition it was written from often
    differ in names and parameters' spelling, not on the ground."""
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    if raster.transform is not None:
        t = raster.transform
        corners = [(0, 0), (raster.width, 0), (raster.width, raster.height), (0, raster.height)]
        xs, ys = zip(*(t * c for c in corners), strict=True)
    else:
        xs, ys = (
            zip(*((x, y) for _, _, x, y in raster.gcps), strict=True) if raster.gcps else ((), ())
        )
    if not xs:
        return a.equals(b, ignore_axis_order=True)
    from compliance.geodesy import to_lonlat

    lon_a, lat_a = to_lonlat(a, np.array(xs, dtype=float), np.array(ys, dtype=float))
    lon_b, lat_b = to_lonlat(b, np.array(xs, dtype=float), np.array(ys, dtype=float))
    apart = np.hypot(lon_a - lon_b, lat_a - lat_b)
    return bool(np.isfinite(apart).all() and (apart < 1e-9).all())


def apply_sidecars(raster: RasterSource) -> None:
    """Take the ``.prj`` as the CRS of an image that has none, and list every other
    placement the header and the sidecars give in ``raster.placements``."""
    image = raster.path
    if not image.is_file():
        return
    wld, prj = world_file(image), prj_file(image)
    side_transform = read_world_file(wld) if wld else None
    side_crs = read_prj(prj) if prj else None
    if side_crs is not None and raster.crs is None:
        raster.crs, side_crs = side_crs, None
        raster.sidecars_read.append(prj.name)  # type: ignore[union-attr]
    transforms = [raster.transform]
    if side_transform is not None and not (
        raster.transform is not None and _same_transform(side_transform, raster.transform)
    ):
        transforms.append(side_transform)
    crss = [raster.crs] + ([side_crs] if not _same_crs(side_crs, raster.crs, raster) else [])
    for i, transform in enumerate(transforms):
        for j, crs in enumerate(crss):
            if i == j == 0 or crs is None:
                continue
            by = [p.name for p, used in ((wld, i), (prj, j)) if used and p is not None]
            raster.placements.append(
                dataclasses.replace(
                    raster,
                    crs=crs,
                    transform=transform,
                    transform_source="world file" if i else raster.transform_source,
                    gcps=[] if i else raster.gcps,
                    other_images=[],
                    placements=[],
                    sidecars_read=[],
                    label=f"{image.name} as placed by {' and '.join(by)}",
                )
            )
