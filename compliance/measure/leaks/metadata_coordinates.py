"""Coordinates an image carries that nothing places it by: the traces a stripped image
keeps of where it was.

An image without a CRS or a geotransform cannot be placed, so it is not met with the
zones; yet a world file or ``.aux.xml`` beside it, a geotransform without a CRS, GCPs
or RPCs without a usable CRS, EXIF GPS tags, an XMP packet or GDAL metadata items may
still say where it lies. Each such trace is listed: the image leaves with its location.

An image placed by a geotransform or GCPs may carry RPCs too, a second placement that
GDAL's tools take on request (``gdalwarp -rpc``) and the checker does not measure. Where
its RPCs put it elsewhere than its geotransform or GCPs do, that is a position the file
carries elsewhere, listed the same way.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

from compliance.measure.raster_profile import (
    ground_steps,
    image_lonlat,
    is_georeferenced,
    step_places,
)
from compliance.readers.pixels import open_image
from compliance.readers.raster_sidecars import read_world_file, world_file
from compliance.readers.raw.exif_gps import exif_gps, xmp_geodata, xmp_positions
from compliance.readers.sources import RasterSource

__all__ = ["metadata_coordinates", "unplaced"]

# Metadata names that hold positions (GPS tags, corner and centre coordinates, extents).
_COORDINATE_KEY = re.compile(
    r"gps_?(lat|lon|long|alt|dest)|latitude|longitude|(^|[_\W])(lat|lon|lng|long)($|[_\W\d])"
    r"|easting|northing|geotransform|bbox|bounding|bounds|extent|corner|centre|center"
    r"|ul_?x|ul_?y|lr_?x|lr_?y|(^|_)(min|max)_?(x|y)($|_)",
    re.IGNORECASE,
)
_WKT_GEOMETRY = re.compile(
    r"\b(POINT|LINESTRING|POLYGON|MULTIPOLYGON|MULTIPOINT|BOX)\s*Z?\s*\(+\s*[-\d]", re.I
)
_NUMBER = re.compile(r"\d")
_AUX_GEO = re.compile(r"<(GeoTransform|GCPList|SRS)\b", re.IGNORECASE)
_MAX_AUX = 1 << 20
_MAX_SHOWN = 80  # characters of a value shown in a trace
_GEOD = Geod(ellps="WGS84")
# How far RPCs (at height 0, as GDAL's tools take them unless told a height or given a
# DEM) may place an image from its geotransform and still agree with it. Terrain shifts
# a point seen off nadir by its height times the tangent of the view angle: 1,000 m
# seen at 25 degrees, about 470 m. An old datum (Tokyo, Korean Bessel) without its shift
# to WGS84 moves it by some 400-700 m too, hence a floor of 1 km; a corner-fitted
# geotransform strays from the RPCs' non-affine grid by a share of the image's size.
_AGREE_M = 1_000.0
_AGREE_SHARE = 0.05  # of the image's ground diagonal


def unplaced(image: RasterSource) -> bool:
    """The image cannot be placed on the Earth by what it carries."""
    return image.crs is None or not is_georeferenced(image)


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."


def _from_tags(domain: str, tags: dict[str, str]) -> list[str]:
    found = []
    for key, value in tags.items():
        text = str(value)
        if domain == "xml:XMP":
            # GDAL reads a TIFF's XMP tag wherever its bytes lie, which may be past the
            # file's first and last megabyte that ``xmp_geodata`` reads.
            found += xmp_positions(text.encode("utf-8", "replace"))
            continue
        if domain.startswith("xml:"):
            continue  # other XML packets are read from the file's bytes
        if (_COORDINATE_KEY.search(key) and _NUMBER.search(text)) or _WKT_GEOMETRY.search(text):
            where = "metadata" if not domain else f"metadata ({domain})"
            found.append(f"{where} {key}={_shown(text)}")
    return found


def _from_dataset(ds: Any, image: RasterSource) -> list[str]:
    """Traces GDAL reads from the image itself: unused GCPs, RPCs, metadata items."""
    found = []
    points, gcp_crs = ds.gcps
    if points and not image.gcps:
        first = points[0]
        found.append(
            f"{len(points)} GCPs"
            + ("" if gcp_crs else " without a CRS")
            + f" (the first at {first.x:.6g}, {first.y:.6g})"
        )
    if ds.rpcs is not None:
        rpc = ds.rpcs
        found.append(
            f"RPC metadata centred at latitude {rpc.lat_off:.6g}, longitude {rpc.long_off:.6g}"
        )
    found += _from_tags("", ds.tags() or {})
    for domain in ds.tag_namespaces() or []:
        if domain not in ("IMAGE_STRUCTURE", "DERIVED_SUBDATASETS", "SUBDATASETS", "RPC"):
            found += _from_tags(domain, ds.tags(ns=domain) or {})
    return found


def _sidecars(path: Path) -> list[str]:
    found = []
    wld = world_file(path)
    t = read_world_file(wld) if wld is not None else None
    if wld is not None and t is not None:
        found.append(f"the world file {wld.name} (first pixel at {t.c:.6g}, {t.f:.6g})")
    aux = path.with_name(path.name + ".aux.xml")
    if aux.is_file():
        text = aux.read_text(errors="replace")[:_MAX_AUX]
        kinds = sorted({m.group(1) for m in _AUX_GEO.finditer(text)})
        items = [
            key
            for key, value in re.findall(r'<MDI key="([^"]*)">([^<]*)</MDI>', text)
            if _COORDINATE_KEY.search(key) and _NUMBER.search(value)
        ]
        if kinds or items:
            found.append(f"{aux.name} ({', '.join(kinds + items)})")
    return found


def _rpc_lonlat(
    rpcs: dict[str, str], cols: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Where RPCs put pixel positions at height 0, as lon/lat; None when they cannot be
    evaluated."""
    from rasterio.rpc import RPC
    from rasterio.transform import RPCTransformer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with RPCTransformer(RPC.from_gdal(rpcs)) as rpc:
                lon, lat = rpc.xy(rows, cols, zs=np.zeros(cols.size), offset="ul")
    except Exception:  # malformed items (ValueError, KeyError) or GDAL's CPLE_* errors
        return None
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _rpcs_elsewhere(raster: RasterSource) -> list[str]:
    """Where an image's RPCs put it, when that is not where its geotransform or GCPs do
    (RPCs that cannot be evaluated are not known to agree), or when they make its
    pixels finer than those place them."""
    if raster.rpcs is None:
        return []
    by = "geotransform" if raster.transform is not None else "GCPs"
    # Corners, edge midpoints and centre (0, 2, 6, 8 the corners, 4 the centre), each
    # also moved a column and a row.
    cols, rows = step_places(raster.width, raster.height, 3)
    here = image_lonlat(raster, cols, rows)
    there = _rpc_lonlat(raster.rpcs, cols, rows)
    if here is None or there is None or not np.isfinite(np.concatenate(here + there)).all():
        return [f"RPCs beside its {by} that cannot be evaluated: where they place it is unknown"]
    apart = _GEOD.inv(here[0][:9], here[1][:9], there[0][:9], there[1][:9])[2]
    agree = max(_AGREE_M, _AGREE_SHARE * min(_diagonal(*here), _diagonal(*there)))
    found = []
    if float(np.max(apart)) > agree:
        found.append(
            f"its RPCs place it about {apart[4] / 1000:.3g} km from where its {by} does "
            f"(centre at latitude {there[1][4]:.6g}, longitude {there[0][4]:.6g})"
        )
    # Within that distance, RPCs could still shrink a small image: pixels they space
    # closer than the measured ones are another image of the same place.
    least_there, _ = ground_steps(*there)
    _, shorter_here = ground_steps(*here)
    # A place the RPCs fold to a point (NaN) spaces pixels closer than any grid.
    least = float(np.where(np.isfinite(least_there), least_there, 0.0).min())
    shorter = float(np.where(np.isfinite(shorter_here), shorter_here, np.inf).min())
    if least < (1 - _AGREE_SHARE) * shorter:
        found.append(
            f"its RPCs space its pixels {least:.3g} m apart, closer than its {by} does "
            f"({shorter:.3g} m)"
        )
    return found


def _diagonal(lon: np.ndarray, lat: np.ndarray) -> float:
    """The longer ground diagonal between the corners of ``step_places``' 3 x 3 grid."""
    return float(
        max(
            _GEOD.inv(lon[0], lat[0], lon[8], lat[8])[2],
            _GEOD.inv(lon[2], lat[2], lon[6], lat[6])[2],
        )
    )


def metadata_coordinates(raster: RasterSource, gdal_name: str | None = None) -> list[str]:
    """Every trace of a position an image that cannot be placed still carries; for an
    image that can be placed (its position is checked as such), the placement its RPCs
    give when they put it elsewhere."""
    if not unplaced(raster):
        return _rpcs_elsewhere(raster)
    path = raster.path
    sidecars = _sidecars(path) if gdal_name is None and path.is_file() else []
    found: list[str] = list(sidecars)
    t = raster.transform
    # A grid whose first pixel sits at the origin numbers pixels; it holds no position.
    if t is not None and not sidecars and (t.c, t.f) != (0.0, 0.0):
        found.append(f"a geotransform without a CRS (first pixel at {t.c:.6g}, {t.f:.6g})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_image(gdal_name or str(path), raster.driver) as ds:
                found += _from_dataset(ds, raster)
    except Exception:  # GDAL's CPLE_* errors are not RasterioError
        # The header was read before; what else GDAL shows is then unknown, and the
        # image is held for review anyway, as one that cannot be placed.
        pass
    if gdal_name is None and path.is_file():
        gps = exif_gps(path)
        found += ([gps] if gps else []) + xmp_geodata(path)
    return list(dict.fromkeys(found))
