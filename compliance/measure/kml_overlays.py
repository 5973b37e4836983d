"""Images a KML or KMZ drapes over the ground (GroundOverlay), measured by their pixels.

GDAL's LIBKML driver reads a GroundOverlay as a feature: its LatLonBox (or gx:LatLonQuad)
as a polygon, and the image it drapes as the ``icon`` field. The polygon alone measures as
a coarse square, while the image may be an orthophoto of 0.1 m pixels: the image (its
width and height read from its header) is spread over the polygon's corners and measured
as a pixel lattice, so a trapezoid, a sheared quad or oblong pixels count where finest.

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

from compliance.dataset_profile import ImageOverlay
from compliance.errors import UnreadableDataset
from compliance.geo.geodesy import WGS84
from compliance.measure.pixel_lattice import lattice_spacing
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
    corners = _corners(shape)
    finest = _finest_spacing_m(corners, size) if corners is not None else None
    if finest is None:
        overlay.unmeasured = "the overlay's corners are not a usable quadrilateral"
        return overlay
    overlay.resolution_m = finest
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


def _corners(shape: BaseGeometry | None) -> np.ndarray | None:
    """The overlay quadrilateral's four corners (lon, lat), or None when it is not one."""
    if shape is None or shape.is_empty or shape.geom_type != "Polygon":
        return None
    ring = np.asarray(shape.exterior.coords)[:, :2]
    if len(ring) != 5 or not np.isfinite(ring).all():
        return None
    return ring[:4]


# Which image corner lies on which corner of the quadrilateral: GDAL's ring may start at
# any corner and run either way, so every one of the eight pairings is measured.
_PAIRINGS = [(k, flip) for k in range(4) for flip in (False, True)]


def _finest_spacing_m(corners: np.ndarray, size: tuple[int, int]) -> float | None:
    """The finest ground spacing of the image's pixel centres over the quadrilateral.

    The image is taken as spread bilinearly over the four corners (as a gx:LatLonQuad is
    drawn; a LatLonBox is its rectangular case) and measured as a pixel lattice
    (``pixel_lattice``): a trapezoid's short side, a sheared quad's short diagonal and an
    image of oblong pixels are measured where they are finest, not by mean edge lengths.
    The pairing of image and quad corners is not known, so the finest over all counts.
    """
    width, height = size
    finest: float | None = None
    for k, flip in _PAIRINGS:
        order = np.roll(corners, -k, axis=0)
        if flip:
            order = order[[0, 3, 2, 1]]
        top_left, top_right, bottom_right, bottom_left = order

        def to_lonlat(
            col: np.ndarray,
            row: np.ndarray,
            q: tuple = (top_left, top_right, bottom_right, bottom_left),
        ) -> tuple[np.ndarray, np.ndarray]:
            s, t = (col / width)[:, None], (row / height)[:, None]
            xy = (1 - s) * (1 - t) * q[0] + s * (1 - t) * q[1] + s * t * q[2] + (1 - s) * t * q[3]
            return xy[:, 0], xy[:, 1]

        spacing = lattice_spacing(to_lonlat, WGS84, width, height)
        if spacing is not None and (finest is None or spacing[0] < finest):
            finest = spacing[0]
    return finest
