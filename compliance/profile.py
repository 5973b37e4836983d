"""The facts about a dataset that rules read, each with how it was obtained.

``Profile`` is a plain record; the code that measures it lives in ``raster_profile``
and ``vector_profile``. No rule logic here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# Tobler (1987): the smallest detectable detail is denominator/1000 m, resolution half that.
DEFAULT_SCALE_FACTOR = 2000.0


class LayerProfile(BaseModel):
    name: str
    crs: str | None
    geometry_type: str = Field(description='GDAL geometry type; "None" for an attribute table.')
    feature_count: int | None
    resolution_m: float | None
    bounds_wgs84: list[float] | None
    finer_detail_share: float | None = Field(
        default=None,
        description="Share of sampled lines and rings drawn far finer than the layer's "
        "typical detail, when the layer mixes detail levels.",
    )
    finer_detail_m: float | None = Field(
        default=None, description="Typical shortest segment of those finer lines and rings."
    )
    coordinate_columns: list[str] | None = Field(
        default=None,
        description="In an attribute table: columns whose names suggest coordinates.",
    )


class ImageOverlay(BaseModel):
    """An image draped over the ground by a vector file (a KML GroundOverlay)."""

    name: str | None
    image: str = Field(description="The image as the file refers to it.")
    width: int | None = Field(default=None, description="Image width, pixels.")
    height: int | None = Field(default=None, description="Image height, pixels.")
    resolution_m: float | None = Field(
        default=None, description="Ground size of a pixel: the overlay's edges over its pixels."
    )
    unmeasured: str | None = Field(
        default=None, description="Why the pixel size could not be measured, when it could not."
    )


class Profile(BaseModel):
    """Facts about one dataset. Unknown facts are null, never guessed."""

    kind: Literal["raster", "vector"]
    format: str = Field(description="GDAL driver short name (or Parquet / GeoDataFrame).")
    crs: str | None = Field(description='"EPSG:n" when the CRS has a code, else WKT; null if none.')
    has_crs: bool
    georeferenced: bool = Field(
        description="The data can be placed on the Earth (CRS and geotransform)."
    )
    bounds_wgs84: list[float] | None = Field(description="[min lon, min lat, max lon, max lat].")
    footprint_wgs84: dict[str, Any] | None = Field(
        default=None, description="GeoJSON geometry of the data's extent on the ground."
    )
    area_km2: float | None = Field(description="Geodesic area of the footprint, km².")
    resolution_m: float | None = Field(description="Ground size of the finest detail, metres.")
    has_imagery: bool = Field(
        default=False,
        description="The dataset is or carries imagery: a raster, a raster table beside "
        "vector layers, an image draped over the ground.",
    )
    imagery_resolution_m: float | None = Field(
        default=None,
        description="Ground size of the finest pixel of the imagery it carries, metres.",
    )
    scale_denominator: float | None
    scale_source: Literal["declared", "estimated"] | None
    declared_scale_denominator: float | None = None
    feature_count: int | None = None
    layer_count: int | None = None
    band_count: int | None = None
    has_z: bool = False
    fields: list[str] = Field(default_factory=list)
    width: int | None = None
    height: int | None = None
    overviews: list[int] = Field(default_factory=list)
    layers: list[LayerProfile] = Field(default_factory=list)
    empty_geometries: int = 0
    invalid_geometries: int = 0
    undecodable_geometries: int = 0
    unplaceable_geometries: int = 0
    unread_tables: list[str] = Field(
        default_factory=list,
        description="Tables holding data no layer reads (a raster table GDAL cannot open).",
    )
    image_overlays: list[ImageOverlay] = Field(
        default_factory=list,
        description="Images the file drapes over the ground; their pixels count as detail.",
    )
    unread_geometries: list[str] = Field(
        default_factory=list,
        description="Geometry properties the format's driver drops (feature type.property).",
    )
    methods: dict[str, str] = Field(
        default_factory=dict, description="How each measured fact was obtained."
    )
    notes: list[str] = Field(default_factory=list)


def scale_from_resolution(
    resolution_m: float | None, factor: float = DEFAULT_SCALE_FACTOR
) -> float | None:
    """Estimate a scale denominator from ground resolution (default Tobler: 2000 x metres)."""
    if resolution_m is None:
        return None
    return resolution_m * factor


def settle_scale(
    resolution_m: float | None, declared: float | None, factor: float = DEFAULT_SCALE_FACTOR
) -> tuple[float | None, Literal["declared", "estimated"] | None, bool]:
    """Pick the scale that counts: the finer of declared and estimated.

    Returns (denominator, source, declared_is_coarser).
    """
    estimated = scale_from_resolution(resolution_m, factor)
    if declared is None:
        return estimated, ("estimated" if estimated is not None else None), False
    if estimated is not None and estimated < declared:
        return estimated, "estimated", True
    return declared, "declared", False
