"""Placing shapes on the ground: a box or an image's outline taken to lon/lat, met with
the zones and territories, and its CRS tag weighed against its coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from compliance.geo.footprint import footprint_to_wgs84
from compliance.measure.crs_plausibility import crs_mismatch
from compliance.readers.sources import RasterSource
from compliance.zones.area_cover import growing_index
from compliance.zones.overlap import OverlapAccumulator
from compliance.zones.territory import Territory
from compliance.zones.zone_set import ZoneSet

__all__ = [
    "PlacedImage",
    "box_to_wgs84",
    "check_crs",
    "crs_label",
    "meet_areas",
    "place_image",
    "union_bounds",
]

_DENSIFY_EDGES = 32


def crs_label(crs: CRS | None) -> str | None:
    """A CRS as its authority code (``EPSG:4326``) where it has one, else its WKT."""
    if crs is None:
        return None
    code = crs.to_authority(min_confidence=90)
    return f"{code[0]}:{code[1]}" if code else crs.to_wkt()


def box_to_wgs84(bounds: tuple[float, ...], crs: CRS) -> BaseGeometry | None:
    """A box in ``crs``, its edges densified, as lon/lat; None when it is not on the Earth."""
    minx, miny, maxx, maxy = bounds
    if maxx - minx <= 0 and maxy - miny <= 0:
        outline: BaseGeometry = shapely.Point(minx, miny)
    elif maxx - minx <= 0 or maxy - miny <= 0:
        outline = shapely.LineString([(minx, miny), (maxx, maxy)])
    else:
        outline = shapely.box(minx, miny, maxx, maxy)
    length = max(maxx - minx, maxy - miny)
    if length > 0:
        try:
            outline = shapely.segmentize(outline, length / _DENSIFY_EDGES)
        except shapely.errors.GEOSException:
            # Coordinates so large that a 256th of the extent is lost in round-off: they
            # are not positions on the Earth in any CRS.
            return None
    return footprint_to_wgs84(outline, crs)


def union_bounds(a: tuple[float, ...] | None, b: tuple[float, ...]) -> tuple[float, ...]:
    """The box that holds both boxes (``a`` may be None: then ``b``)."""
    if a is None:
        return tuple(b)
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def check_crs(
    name: str,
    crs: CRS,
    native_bounds: tuple[float, ...],
    footprint: BaseGeometry,
    hits: dict[str, OverlapAccumulator],
    mismatches: list[str],
    lonlat_features: int = 0,
) -> None:
    """Note a CRS tag that does not fit the coordinates. The data may then lie anywhere,
    so every pack's territory counts as touched: the packs apply as to unplaced data."""
    why = crs_mismatch(crs, native_bounds, footprint, lonlat_features)
    if why is None:
        return
    mismatches.append(f"{name}: {why}")
    for acc in hits.values():
        acc.mark_touched()


def meet_areas(
    geoms: np.ndarray,
    crs: CRS,
    acc: OverlapAccumulator,
    hits: dict[str, OverlapAccumulator],
    zones: ZoneSet,
    territories: list[Territory],
    areas_too: bool = True,
    zone_geoms: np.ndarray | None = None,
) -> None:
    """Test a few whole shapes (a raster's outline, a turned overlay's reach) against the
    zones and territories, outside any layer's stream; ``zone_geoms`` (within ``geoms``)
    stand for them against the zones when given."""
    box = tuple(shapely.total_bounds(geoms))
    index = growing_index(zones.areas, crs).covering(box).index
    acc.add(geoms if zone_geoms is None else zone_geoms, index, areas_too=areas_too)
    for t in territories:
        index = growing_index(t.areas, crs, coarse=True).covering(box).index
        hits[t.pack].add(geoms, index, areas_too=False)


@dataclass
class PlacedImage:
    """Where an image lies on the ground and how fine its pixels are there."""

    footprint: BaseGeometry | None  # lon/lat; None when the image cannot be placed
    sizes: tuple[float, float] | None  # finest and coarsest ground pixel side, metres
    # The (width, height) of the overview level finer than the image that set the finest.
    finer_level: tuple[int, int] | None = None


def place_image(
    image: RasterSource,
    acc: OverlapAccumulator,
    hits: dict[str, OverlapAccumulator],
    zones: ZoneSet,
    territories: list[Territory],
    notes: list[str],
    off_aou: list[str],
) -> PlacedImage:
    """Place one image on the ground, meet the zones and territories with its outline, and
    measure its pixels; why it cannot be placed goes to ``notes``."""
    # Pixel measures load with the first image: a vector check never needs them.
    from compliance.measure.raster_profile import MAX_GCPS, is_georeferenced, measure_pixels
    from compliance.measure.valid_pixels import data_over_zones

    where = f"image {image.label}: " if image.label else ""
    measured = measure_pixels(image)
    outline = measured.outline
    footprint = None
    if image.crs is not None and outline is None and is_georeferenced(image):
        notes.append(
            f"{where}its pixels cannot be mapped to its CRS"
            + (
                f" (GCPs a thin-plate spline cannot pass through, or more than {MAX_GCPS:,})"
                if image.gcps
                else ""
            )
            + "; its footprint is unknown"
        )
    if image.crs is not None and outline is not None:
        footprint = footprint_to_wgs84(outline, image.crs)
        if footprint is None:
            notes.append(
                f"{where}the raster's corners are not valid positions in its CRS; "
                "its footprint is unknown"
            )
    if image.crs is None:
        notes.append(
            f"{where}no CRS that places it on the Earth: "
            + ("it cannot be placed" if where else "the raster cannot be placed")
        )
    if not is_georeferenced(image):
        notes.append(
            f"{where}no geotransform or usable GCPs" + (" (RPCs only)" if image.has_rpc else "")
        )
    if footprint is not None and outline is not None and image.crs is not None:
        # Against the zones, only where the image holds valid pixels (any overview too).
        data = np.array([data_over_zones(image, outline, zones.areas)], dtype=object)
        outlines = np.array([outline], dtype=object)
        meet_areas(outlines, image.crs, acc, hits, zones, territories, zone_geoms=data)
        check_crs(image.label or "raster", image.crs, outline.bounds, footprint, hits, off_aou)
    else:
        footprint = None
    return PlacedImage(footprint, measured.sizes, measured.finer_level)
