"""Rasters described from their headers: the image GDAL opens, the file's other images
(pages, subdatasets, a GeoPackage's tile tables) and the placements its sidecars give."""

from __future__ import annotations

import ctypes
import os
import warnings
from pathlib import Path
from typing import Any

from compliance.errors import UnreadableDataset
from compliance.readers.coordinate_axes import netcdf_axis_centres
from compliance.readers.formats import UPLOAD_RASTER_DRIVERS
from compliance.readers.mbtiles_edges import mbtiles_reach
from compliance.readers.mbtiles_tiles import mbtiles_unread_tiles
from compliance.readers.pixels import open_level
from compliance.readers.raster_sidecars import apply_sidecars
from compliance.readers.rasterio_gdal import OF_RASTER, rasterio_gdal
from compliance.readers.sources import RasterSource, parse_crs
from compliance.readers.upload_guard import UploadScope

__all__ = ["gpkg_rasters", "open_raster", "read_raster"]


def open_raster(name: str, upload: bool = False) -> Any:
    """A rasterio dataset; an upload's is opened only by the upload drivers."""
    import rasterio

    if not upload:
        return rasterio.open(name)
    # rasterio.open takes one driver name; the reader it builds takes GDAL's list.
    from rasterio.io import DatasetReader

    with rasterio.Env():
        return DatasetReader(name, driver=sorted(UPLOAD_RASTER_DRIVERS))


def read_raster(path: Path, reasons: list[str], upload: UploadScope | None) -> RasterSource | None:
    """The raster at ``path`` with its other images and placements; None, with why in
    ``reasons``, when GDAL does not open it as a raster."""
    # rasterio loads a second GDAL: import it only when a file turns out not to be vector data.
    from rasterio.errors import RasterioError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = open_raster(str(path), upload is not None)
        except (RasterioError, OSError, ValueError) as exc:
            reasons.append(str(exc))
            return None
        try:
            with ds:
                if upload:
                    upload.check_files(ds.files)
                raster = _describe_raster(path, ds)
                subdatasets = list(ds.subdatasets or [])
                if raster.driver == "MBTiles" and path.is_file():
                    raster.unread_tables, served = mbtiles_unread_tiles(
                        path, ds.block_shapes[0][1], abs(ds.res[0]), tuple(ds.bounds),
                        len(ds.overviews(1)),
                    )  # fmt: skip
                    raster.reach = mbtiles_reach(path, served, tuple(ds.bounds))
        except UnreadableDataset:
            raise
        except Exception as exc:  # GDAL surfaces header errors lazily, from any property
            raise UnreadableDataset(f"{path.name}: raster header cannot be read: {exc}") from exc
        apply_sidecars(raster, _header_alone(path, upload))
        if raster.driver == "GTiff":
            subdatasets = subdatasets[1:]  # the first page is the raster just described
        raster.other_images = _other_images(path, subdatasets, upload)
        return raster


def _header_alone(path: Path, upload: UploadScope | None) -> RasterSource | None:
    """The raster as its own header places it, when a PAM ``.aux.xml`` beside it may
    override that: GDAL prefers the ``.aux.xml``, which can give a coarser grid or
    another CRS than the header other software reads."""
    import rasterio
    from rasterio.errors import RasterioError

    if not path.with_name(path.name + ".aux.xml").is_file():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with rasterio.Env(GDAL_PAM_ENABLED="NO"), open_raster(str(path), bool(upload)) as ds:
                return _describe_raster(path, ds)
        except (RasterioError, OSError, ValueError):
            return None


_MAX_IMAGES = 256  # a container of more is refused, not checked in part


def _other_images(path: Path, names: list[str], upload: UploadScope | None) -> list[RasterSource]:
    """Every image a file holds besides the one GDAL opened first: a multi-page TIFF whose
    second page is a 0.1 m orthophoto is that orthophoto too."""
    from rasterio.errors import RasterioError

    if len(names) > _MAX_IMAGES:
        raise UnreadableDataset(
            f"{path.name}: holds {len(names)} images; at most {_MAX_IMAGES} are checked"
        )
    images = []
    for name in names:
        label = name.replace(str(path), path.name)
        try:
            images.append(_describe_image(path, name, label, upload))
        except (RasterioError, OSError, ValueError) as exc:
            raise UnreadableDataset(f"{path.name}: image {label} cannot be read: {exc}") from exc
    return images


def _describe_image(path: Path, name: str, label: str, upload: UploadScope | None) -> RasterSource:
    """One image of the file at ``path``, opened by its GDAL name, described and labelled."""

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_raster(name, upload is not None) as ds:
            if upload:
                upload.check_files(ds.files)
            image = _describe_raster(path, ds)
    image.label = label
    return image


def _describe_raster(path: Path, ds: Any) -> RasterSource:
    from rasterio.errors import RasterioError

    overviews: list[int] = []
    try:
        overviews = list(ds.overviews(1)) if ds.count else []
    except RasterioError:
        pass
    rpcs = ds.rpcs
    tags = {str(k): str(v) for k, v in (ds.tags() or {}).items()}
    tags.update(
        {f"IMAGE_STRUCTURE:{k}": str(v) for k, v in (ds.tags(ns="IMAGE_STRUCTURE") or {}).items()}
    )
    header = {
        "driver": ds.driver,
        "width": ds.width,
        "height": ds.height,
        "count": ds.count,
        "dtypes": list(ds.dtypes),
        "overviews": overviews,
        "mask_flags": sorted({f.name for flags in ds.mask_flag_enums for f in flags}),
        "tags": tags,
        "units": [u or "" for u in ds.units],
        "colorinterp": [c.name for c in ds.colorinterp],
        "has_rpc": rpcs is not None,
        "rpcs": None if rpcs is None else {str(k): str(v) for k, v in rpcs.to_gdal().items()},
        "overview_sizes": _overview_sizes(ds),
    }
    # The CRS last: PROJ rejects some (other planets, bad parameters), and GDAL then reports
    # the failure on whatever it is asked next.
    try:
        crs = parse_crs(ds.crs.to_wkt()) if ds.crs else None
    except Exception:
        crs = None
    transform = None
    source = "none"
    gcps: list[tuple[float, float, float, float]] = []
    axes = None
    if not ds.transform.is_identity:
        transform, source = ds.transform, "geotransform"
        if ds.driver == "netCDF" and ds.count:
            variable = (ds.tags(1) or {}).get("NETCDF_VARNAME")
            axes = netcdf_axis_centres(ds.name, variable, transform, ds.width, ds.height)
    else:
        # Never one best-fit affine through the GCPs: it misplaces a warp's outline and
        # averages its spacing. The GCPs themselves go on (see raster_profile).
        points, gcp_crs = ds.gcps
        if len(points) >= 3 and gcp_crs:
            gcps = [(g.col, g.row, g.x, g.y) for g in points]
            crs, source = parse_crs(gcp_crs.to_wkt()), "gcps"
    return RasterSource(
        path=path, crs=crs, transform=transform, transform_source=source, gcps=gcps,
        axis_centres=axes, **header,
    )  # fmt: skip


def _overview_sizes(ds: Any) -> list[tuple[int, int]]:
    """The width and height of every band's overview levels, each size once.

    rasterio gives a level only as a factor, the image's width over the level's, rounded:
    a level larger than the image (0 or 1), or finer along its rows only (any factor), is
    invisible in it, yet GDAL serves it as an overview of the image's ground. So the
    sizes are asked of GDAL itself, for every band (each may have overviews of its own;
    a mask's are not images), and only of a file that has overviews.
    """
    counts = [len(ds.overviews(band)) for band in ds.indexes]
    if not any(counts):
        return []
    calls = rasterio_gdal()
    sizes = _band_level_sizes(calls, ds.name, ds.driver) if calls is not None else None
    if sizes is None or len(sizes) != sum(counts):
        # Each level opened by rasterio (about 0.8 ms each, against 0.3 ms for every level
        # of every band above): the dataset's levels, whose bands GDAL requires alike.
        sizes = []
        for level in range(max(counts)):
            with open_level(ds.name, ds.driver, level) as overview:
                sizes.append((overview.width, overview.height))
    return list(dict.fromkeys(sizes))


def _band_level_sizes(
    calls: dict[str, Any], name: str, driver: str
) -> list[tuple[int, int]] | None:
    """Every band's overview sizes, the dataset opened again by the driver that opened it
    (so nothing else parses an upload); None when it cannot be."""
    allowed = (ctypes.c_char_p * 2)(driver.encode(), None)
    handle = calls["GDALOpenEx"](os.fsencode(name), OF_RASTER, allowed, None, None)
    if not handle:
        return None
    sizes = []
    try:
        for index in range(1, calls["GDALGetRasterCount"](handle) + 1):
            band = calls["GDALGetRasterBand"](handle, index)
            for level in range(calls["GDALGetOverviewCount"](band) if band else 0):
                overview = calls["GDALGetOverview"](band, level)
                if not overview:
                    return None
                sizes.append(
                    (
                        calls["GDALGetRasterBandXSize"](overview),
                        calls["GDALGetRasterBandYSize"](overview),
                    )
                )
    finally:
        calls["GDALClose"](handle)
    return sizes


def gpkg_rasters(path: Path, tables: list[str], upload: UploadScope | None) -> list[RasterSource]:
    """The raster tables of a GeoPackage opened as vector layers, each described from its
    header (``label`` is the table's name); a table GDAL cannot open is left out."""
    if not tables:
        return []  # and rasterio, a tenth of a second to import, is not needed
    from rasterio.errors import RasterioError

    rasters = []
    for table in tables:
        try:
            rasters.append(_describe_image(path, f"GPKG:{path}:{table}", table, upload))
        except (RasterioError, OSError, ValueError, UnreadableDataset):
            continue
    return rasters
