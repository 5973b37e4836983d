"""Images a KML or KMZ drapes over the ground (GroundOverlay), measured by their pixels.

The readers hand on each overlay's polygon (its LatLonBox or gx:LatLonQuad) and its
image's width and height (``readers.kml_images``). The polygon alone measures as a coarse
square, while the image may be an orthophoto of 0.1 m pixels: the image is spread over
the polygon's corners and measured as a pixel lattice, so a trapezoid, a sheared quad or
oblong pixels count where finest. An image the readers did not open (outside the file,
unreadable) is reported as unmeasured, with their reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from shapely.geometry.base import BaseGeometry

from compliance.dataset_profile import ImageOverlay
from compliance.geo.crs_identity import WGS84
from compliance.measure.pixel_lattice import lattice_spacing
from compliance.readers.kml_images import DrapedImage

__all__ = ["measure_overlay", "overlay_files"]


def measure_overlay(draped: DrapedImage) -> ImageOverlay:
    """The overlay with the finest ground spacing of its image's pixels, or why not."""
    overlay = ImageOverlay(name=draped.name, image=draped.href)
    if draped.unopened is not None or draped.size is None:
        overlay.unmeasured = draped.unopened or "the image cannot be read"
        return overlay
    overlay.width, overlay.height = draped.size
    corners = _corners(draped.shape)
    finest = _finest_spacing_m(corners, draped.size) if corners is not None else None
    if finest is None:
        overlay.unmeasured = "the overlay's corners are not a usable quadrilateral"
        return overlay
    overlay.resolution_m = finest
    return overlay


def overlay_files(draped: list[DrapedImage], overlays: list[ImageOverlay]) -> list[Path]:
    """The files beside a KML that its measured overlays read (none for a KMZ: inside it)."""
    return [
        d.file
        for d, o in zip(draped, overlays, strict=True)
        if o.resolution_m is not None and d.file is not None
    ]


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
