"""The images a KML or KMZ drapes over the ground (GroundOverlay), found and opened.

GDAL's LIBKML driver reads a GroundOverlay as a feature: its LatLonBox (or gx:LatLonQuad)
as a polygon, and the image it drapes as the ``icon`` field. The readers hand on each
overlay's polygon and its image's width and height, read from the image's header; the
measuring stage spreads the pixels over the polygon (``measure.kml_overlays``).

Only images inside the file (the KMZ archive, or beside the KML in its own folder) are
opened; an image elsewhere (a web address, an absolute path, a path climbing out of the
folder) is not fetched, and why goes on with the overlay. The document itself is read
again for what GDAL does not pass on (``kml_document``): turned overlays and, in a KMZ,
the members it refers to.
"""

from __future__ import annotations

import warnings
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


def read_kml_extras(source: VectorSource) -> None:
    """Fill in what a KML or KMZ source holds beyond its layers: the draped images, the
    document's own reading and, for a KMZ, the members the document does not refer to."""
    path = source.path
    if path is None:
        return
    source.draped_images = draped_images(path, source.layers)
    kmz = is_zip(path)
    if source.draped_images or kmz:
        source.kml_document = read_kml_document(path)
    if kmz:
        source.unreferenced_members = unreferenced_members(path, source.kml_document)


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
    except shapely.errors.GEOSException:
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


def _local_image(path: Path, href: str) -> str | None:
    """The image as GDAL should open it, or None when it lies outside the file."""
    relative = PurePosixPath(href.replace("\\", "/"))
    if (
        ":" in href  # a web address, a drive letter, a GDAL /vsi prefix's options
        or relative.is_absolute()
        or ".." in relative.parts
        or not relative.parts
    ):
        return None
    if path.is_file() and is_zip(path):
        return f"/vsizip/{path}/{relative.as_posix()}"
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
