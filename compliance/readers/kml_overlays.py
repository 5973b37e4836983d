"""Images a KML or KMZ drapes over the ground (GroundOverlay), measured by their pixels.

GDAL's LIBKML driver reads a GroundOverlay as a feature: its LatLonBox (or gx:LatLonQuad)
as a polygon, and the image it drapes as the ``icon`` field. The polygon alone measures as
a coarse square, while the image may be an orthophoto of 0.1 m pixels: the pixel's ground
size is the overlay's edges over the image's width and height, read from the image's header.

Only images inside the file (the KMZ archive, or beside the KML in its own folder) are
opened; an image elsewhere (a web address, an absolute path, a path climbing out of the
folder) is not fetched and the overlay is reported as unmeasured.
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
from compliance.geodesy import distances_m
from compliance.profile import ImageOverlay
from compliance.readers.archive import is_zip
from compliance.readers.dataset import LayerInfo

KML_DRIVERS = frozenset({"LIBKML", "KML"})
_ICON = "icon"
# Picture formats only: a VRT (or any format that names other files) renamed .png must not
# make the checker read files on this machine or fetch addresses it names.
_IMAGE_DRIVERS = ["PNG", "JPEG", "GTiff", "GIF", "BMP", "WEBP", "JP2OpenJPEG"]


def image_overlays(path: Path, layers: list[LayerInfo]) -> list[ImageOverlay]:
    """Every GroundOverlay of every layer, with the ground size of its image's pixels."""
    overlays: list[ImageOverlay] = []
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
            overlays.append(_measure(path, titles[i], str(icon), shape))
    return overlays


def overlay_files(path: Path, overlays: list[ImageOverlay]) -> list[Path]:
    """The files beside a KML that its measured overlays read (none for a KMZ: inside it)."""
    found = []
    for overlay in overlays:
        image = _local_image(path, overlay.image) if overlay.resolution_m is not None else None
        if image is not None and not image.startswith("/vsizip/"):
            found.append(Path(image))
    return found


def _geometries(column: pa.ChunkedArray) -> np.ndarray:
    wkb = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    try:
        return np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), dtype=object)
    except shapely.errors.GEOSException:
        return np.full(len(wkb), None, dtype=object)


def _measure(path: Path, name: str | None, href: str, shape: BaseGeometry | None) -> ImageOverlay:
    overlay = ImageOverlay(name=name, image=href)
    image = _local_image(path, href)
    if image is None:
        overlay.unmeasured = "the image is not inside the file, so it was not opened"
        return overlay
    size = _pixels(image)
    if size is None:
        overlay.unmeasured = "the image cannot be read"
        return overlay
    overlay.width, overlay.height = size
    edges = _edges_m(shape)
    if edges is None:
        overlay.unmeasured = "the overlay's corners are not a usable quadrilateral"
        return overlay
    overlay.resolution_m = _pixel_m(edges, size)
    return overlay


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

    for driver in _IMAGE_DRIVERS:  # each tried by name: GDAL then tries no other format
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with rasterio.open(image, driver=driver) as ds:
                    return int(ds.width), int(ds.height)
        except (RasterioError, OSError):
            continue
    return None


def _edges_m(shape: BaseGeometry | None) -> tuple[float, float] | None:
    """Ground lengths of two adjacent edges of the overlay's quadrilateral, each the mean of
    it and its opposite edge."""
    if shape is None or shape.is_empty or shape.geom_type != "Polygon":
        return None
    ring = np.asarray(shape.exterior.coords)[:, :2]
    if len(ring) != 5 or not np.isfinite(ring).all():
        return None
    start, end = ring[:-1], np.roll(ring[:-1], -1, axis=0)
    lengths = distances_m(start[:, 0], start[:, 1], end[:, 0], end[:, 1])
    first, second = (lengths[0] + lengths[2]) / 2, (lengths[1] + lengths[3]) / 2
    if not (first > 0 and second > 0):
        return None
    return float(first), float(second)


def _pixel_m(edges: tuple[float, float], size: tuple[int, int]) -> float:
    """The finer ground size of a pixel. Which edge runs along the image's width depends on
    the corner order and rotation; the pairing that gives the squarer pixels is taken."""
    (a, b), (width, height) = edges, size
    pairings = [(a / width, b / height), (a / height, b / width)]
    squarest = min(pairings, key=lambda p: max(p) / min(p))
    return min(squarest)
