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
from typing import Any

import numpy as np
from pyproj import CRS

from compliance.readers.formats import world_file_names
from compliance.readers.sources import RasterSource, parse_crs

__all__ = ["apply_sidecars", "prj_file", "read_prj", "read_world_file", "world_file"]

_MAX_SIDECAR_BYTES = 1 << 20  # a .prj or world file is a few hundred bytes


def world_file(image: Path) -> Path | None:
    """The world file beside ``image``, by GDAL's names: first and last letters of the
    extension plus ``w`` (``.tfw``), the extension plus ``w`` (``.tifw``), then ``.wld``."""
    names = [n.lstrip(".") for n in world_file_names(image.suffix)]
    return _beside(image, names) if names else None


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
    from compliance.geo.geodesy import to_lonlat

    lon_a, lat_a = to_lonlat(a, np.array(xs, dtype=float), np.array(ys, dtype=float))
    lon_b, lat_b = to_lonlat(b, np.array(xs, dtype=float), np.array(ys, dtype=float))
    apart = np.hypot(lon_a - lon_b, lat_a - lat_b)
    return bool(np.isfinite(apart).all() and (apart < 1e-9).all())


@dataclasses.dataclass
class _Georef:
    transform: Any  # affine.Affine, or None when GCPs (or nothing) place the pixels
    gcps: list[tuple[float, float, float, float]]
    source: str
    by: str | None  # the file that gives it; None for GDAL's own reading

    def same(self, other: _Georef) -> bool:
        if self.transform is None or other.transform is None:
            return self.transform is other.transform and self.gcps == other.gcps
        return _same_transform(self.transform, other.transform)


def apply_sidecars(raster: RasterSource, header_alone: RasterSource | None = None) -> None:
    """Take the ``.prj`` as the CRS of an image that has none, and list every other
    placement in ``raster.placements``: each pairing of a geotransform (GDAL's reading,
    the header alone without its ``.aux.xml``, the world file) with a CRS (GDAL's, the
    header's alone, the ``.prj``) that is not GDAL's own reading."""
    image = raster.path
    if not image.is_file():
        return
    georefs = [_Georef(raster.transform, raster.gcps, raster.transform_source, None)]
    crss: list[tuple[CRS | None, str | None]] = [(raster.crs, None)]
    if header_alone is not None:
        alone = f"its header alone (not {image.name}.aux.xml)"
        georefs.append(
            _Georef(header_alone.transform, header_alone.gcps, header_alone.transform_source, alone)
        )
        crss.append((header_alone.crs, alone))
    wld, prj = world_file(image), prj_file(image)
    world = read_world_file(wld) if wld else None
    if world is not None and wld is not None:
        georefs.append(_Georef(world, [], "world file", wld.name))
    side_crs = read_prj(prj) if prj else None
    if side_crs is not None and prj is not None:
        if raster.crs is None:
            raster.crs = side_crs
            crss[0] = (side_crs, None)
            raster.sidecars_read.append(prj.name)
        else:
            crss.append((side_crs, prj.name))
    georefs = [g for i, g in enumerate(georefs) if not any(g.same(h) for h in georefs[:i])]
    crss = [
        (c, by)
        for i, (c, by) in enumerate(crss)
        if c is not None and not any(_same_crs(c, d, raster) for d, _ in crss[:i])
    ]
    for i, georef in enumerate(georefs):
        for j, (crs, crs_by) in enumerate(crss):
            if (i == 0 and j == 0 and crs is raster.crs) or (
                georef.transform is None and not georef.gcps
            ):
                continue
            grid, place = georef.by or "GDAL's reading", crs_by or "GDAL's reading"
            raster.placements.append(
                dataclasses.replace(
                    raster,
                    crs=crs,
                    transform=georef.transform,
                    transform_source=georef.source,
                    gcps=georef.gcps,
                    other_images=[],
                    placements=[],
                    sidecars_read=[],
                    label=f"{image.name} with the grid of {grid} and the CRS of {place}",
                )
            )
