"""Rasters described from their headers: the image GDAL opens, the file's other images
(pages, subdatasets, a GeoPackage's tile tables) and the placements its sidecars give."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from compliance.errors import UnreadableDataset
from compliance.readers.formats import UPLOAD_RASTER_DRIVERS
from compliance.readers.raster_sidecars import apply_sidecars
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
        "has_rpc": ds.rpcs is not None,
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
    if not ds.transform.is_identity:
        transform, source = ds.transform, "geotransform"
    else:
        # Never one best-fit affine through the GCPs: it misplaces a warp's outline and
        # averages its spacing. The GCPs themselves go on (see raster_profile).
        points, gcp_crs = ds.gcps
        if len(points) >= 3 and gcp_crs:
            gcps = [(g.col, g.row, g.x, g.y) for g in points]
            crs, source = parse_crs(gcp_crs.to_wkt()), "gcps"
    return RasterSource(
        path=path, crs=crs, transform=transform, transform_source=source, gcps=gcps, **header
    )


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
