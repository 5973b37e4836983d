"""The images a KML or KMZ drapes over the ground (GroundOverlay), found and opened.

GDAL's LIBKML driver reads a GroundOverlay as a feature: its LatLonBox (or gx:LatLonQuad)
as a polygon, and the image it drapes as the ``icon`` field. The readers hand on each
overlay's polygon and its image's width and height, read from the image's header; the
measuring stage spreads the pixels over the polygon (``measure.kml_overlays``).

Only images inside the file (the KMZ archive, or beside the KML in its own folder) are
opened; an image elsewhere (a web address, an absolute path, a path climbing out of the
folder) is not fetched, and why goes on with the overlay. The document itself is read
again for what GDAL does not pass on (``kml_document``): turned overlays and, in a KMZ,
the documents LIBKML reads. A KMZ member counts as read only when a reader reads it: a
document LIBKML reads, an overlay's image opened here, or an icon that is a symbol
(below); anything else in the archive, whatever the document names it as (a screen or
photo overlay's image, a model, a link LIBKML does not follow), leaves unread.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from compliance.errors import UnreadableDataset
from compliance.readers.archive import is_zip
from compliance.readers.formats import PICTURE_DRIVERS
from compliance.readers.kml_document import read_kml_document, unreferenced_members
from compliance.readers.sources import DrapedImage, LayerInfo, VectorSource

__all__ = ["draped_images", "read_kml_extras"]

_ICON = "icon"
# An icon is drawn at a point at screen size (Google Earth: 32 px times its scale): its
# pixels have no size on the ground, and a style may name any file as one. So a member
# an icon names counts as read only as a symbol: a picture that holds no placement (no
# CRS, geotransform, GCPs or RPCs, nor a sidecar giving one) and no more pixels than an
# icon is drawn with. A larger picture is imagery whose place is a placemark's, and a
# GeoTIFF, a KML or a CSV named as an icon is no symbol at all: each is left unread.
_ICON_PIXELS = 256
_ICON_DRIVERS = tuple(d for d in PICTURE_DRIVERS if d not in {"GTiff", "JP2OpenJPEG"})
_MAX_ICONS = 256  # a KMZ naming more icon members has none of them counted as read


def read_kml_extras(source: VectorSource) -> None:
    """Fill in what a KML or KMZ source holds beyond its layers: the draped images, the
    document's own reading and, for a KMZ, the members the document does not refer to."""
    path = source.path
    if path is None:
        return
    source.draped_images = draped_images(path, source.layers)
    kmz = is_zip(path)
    source.kml_document = read_kml_document(path)
    if source.kml_document is not None and source.kml_document.unplaced_views:
        source.unread_geometries.append(
            f"{source.kml_document.unplaced_views} placemarks, views or regions holding a "
            "position off their geometry (a LookAt, Camera, tour, Region, Model or address "
            "GDAL does not read)"
        )
    # A document its XML cannot be read through for (damaged, entities) is not passed.
    source.take_unread(source.kml_document.unread_text if source.kml_document else None)
    if kmz:
        opened = {
            member
            for image in source.draped_images
            if image.size is not None and (member := _member(image.href)) is not None
        }
        if source.kml_document is not None:
            opened |= _symbols(path, source.kml_document.icons)
        source.unreferenced_members = unreferenced_members(path, source.kml_document, opened)


def draped_images(path: Path, layers: list[LayerInfo]) -> list[DrapedImage]:
    """Every GroundOverlay of every layer, with its image opened where it may be."""
    found: list[DrapedImage] = []
    for layer in layers:
        if _ICON not in layer.fields:
            continue
        names = ["Name"] if "Name" in layer.fields else []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta, table = pyogrio.read_arrow(path, layer=layer.name, columns=[*names, _ICON])
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
            raise UnreadableDataset(f"layer {layer.name!r} cannot be read: {exc}") from exc
        column = meta.get("geometry_name") or "wkb_geometry"
        icons = table.column(_ICON).to_pylist()
        titles = table.column("Name").to_pylist() if names else [None] * len(icons)
        shapes = _geometries(table.column(column)) if column in table.column_names else None
        for i, icon in enumerate(icons):
            if not icon:
                continue  # a placemark: its icon is a symbol, not imagery
            shape = shapes[i] if shapes is not None else None
            found.append(_open_image(path, titles[i], str(icon), shape))
    return found


def _geometries(column: pa.ChunkedArray) -> np.ndarray:
    wkb = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    try:
        return np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), dtype=object)
    except (shapely.errors.GEOSException, NotImplementedError):  # NotImplemented: a curve
        return np.full(len(wkb), None, dtype=object)


def _open_image(path: Path, name: str | None, href: str, shape: BaseGeometry | None) -> DrapedImage:
    image = _local_image(path, href)
    if image is None:
        return DrapedImage(
            name, href, shape, unopened="the image is not inside the file, so it was not opened"
        )
    size = _pixels(image)
    if size is None:
        return DrapedImage(name, href, shape, unopened="the image cannot be read")
    file = None if image.startswith("/vsizip/") else Path(image)
    return DrapedImage(name, href, shape, size=size, file=file)


def _member(href: str) -> str | None:
    """The path, inside the file's folder or archive, that an href names; None when it
    points elsewhere."""
    relative = PurePosixPath(href.replace("\\", "/"))
    if (
        ":" in href  # a web address, a drive letter, a GDAL /vsi prefix's options
        or relative.is_absolute()
        or ".." in relative.parts
        or not relative.parts
    ):
        return None
    return relative.as_posix()


def _local_image(path: Path, href: str) -> str | None:
    """The image as GDAL should open it, or None when it lies outside the file."""
    relative = _member(href)
    if relative is None:
        return None
    if path.is_file() and is_zip(path):
        return f"/vsizip/{path}/{relative}"
    folder = path.parent.resolve()
    image = (folder / relative).resolve()
    if not image.is_file() or not image.is_relative_to(folder):
        return None
    return str(image)


def _pixels(image: str) -> tuple[int, int] | None:
    # rasterio loads a second GDAL: only when a file drapes an image.
    import rasterio
    from rasterio.errors import RasterioError

    for driver in PICTURE_DRIVERS:  # each tried by name: GDAL then tries no other format
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with rasterio.open(image, driver=driver) as ds:
                    return int(ds.width), int(ds.height)
        except (RasterioError, OSError):
            continue
    return None


def _symbols(path: Path, icons: set[str]) -> set[str]:
    """The KMZ members that the icons name and that are symbols (see ``_ICON_PIXELS``)."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    members = {m for href in icons if (m := _member(href)) is not None and m in names}
    if len(members) > _MAX_ICONS:
        return set()
    return {m for m in members if _is_symbol(f"/vsizip/{path}/{m}")}


def _is_symbol(image: str) -> bool:
    import rasterio
    from rasterio.errors import RasterioError

    for driver in _ICON_DRIVERS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with rasterio.open(image, driver=driver) as ds:
                    return (
                        ds.crs is None
                        and ds.transform.is_identity
                        and not ds.gcps[0]
                        and ds.rpcs is None
                        and not ds.subdatasets
                        and max(ds.width, ds.height) <= _ICON_PIXELS
                    )
        except (RasterioError, OSError):
            continue
    return False
