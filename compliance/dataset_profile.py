"""The facts about a dataset that rules read, each with how it was obtained.

``Profile`` is a plain record; the code that measures it lives in ``raster_profile``
and ``vector_profile``. No rule logic here.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "DEFAULT_DETAIL_COUNT",
    "DEFAULT_DETAIL_SHARE",
    "DEFAULT_SCALE_FACTOR",
    "DetailDistribution",
    "ImageOverlay",
    "LayerProfile",
    "LeakFacts",
    "MAX_DETAIL_COUNT",
    "Profile",
    "detail_unknown",
    "resolution_for",
    "settle_scale",
]

# Tobler (1987): the smallest detectable detail is denominator/1000 m, resolution half that.
DEFAULT_SCALE_FACTOR = 2000.0
# The detail that counts is the one reached by this share of the lines and rings, or by this
# many of them, whichever is fewer: a meaningful part of the data, not its median, so that
# padding with coarse shapes cannot hide a fine part. The same rank among all their
# segments counts too, when finer: fine lines chained into one line stay that many
# segments. Packs may set their own.
DEFAULT_DETAIL_SHARE = 0.01
DEFAULT_DETAIL_COUNT = 100
# The finest this many lines, and segments, are kept exactly, per layer and dataset.
MAX_DETAIL_COUNT = 1000


class DetailDistribution(BaseModel):
    """Each line's and ring's shortest segment on the ground, over every one measured, and
    the finest of all their segments."""

    lines_measured: int = Field(description="Lines and rings with a non-zero segment.")
    segments_measured: int = Field(
        default=0,
        description="Non-zero segments of those lines and rings (with finite ends): the "
        "detail reached by the same share or count of them counts too, when finer.",
    )
    points: int = Field(
        default=0,
        description="Points (of points and multi-points), and lines and rings drawn as one "
        "position (every segment of zero length): one point each.",
    )
    points_unmeasured: bool = Field(
        default=False,
        description="Points stored at full precision: their detail cannot be measured.",
    )
    quantum_m: float | None = Field(
        default=None,
        description="Ground size of the grid every coordinate sits on, if any (a floor).",
    )
    points_quantum_m: float | None = Field(
        default=None, description="That grid's size where quantised points give the detail."
    )
    quantiles_m: dict[str, float] = Field(
        default_factory=dict,
        description="Quantiles of the per-line shortest segment, metres (to a tenth of a decade).",
    )
    histogram_m: list[list[float]] = Field(
        default_factory=list,
        description="[lower edge m, lines] per non-empty bin, ten bins per decade.",
    )
    finest_m: list[float] = Field(
        default_factory=list,
        exclude=True,
        description="The smallest per-line shortest segments, exact and floored, ascending.",
    )
    finest_segments_m: list[float] = Field(
        default_factory=list,
        exclude=True,
        description="The smallest segments of all lines and rings, exact and floored, ascending.",
    )

    def resolution(
        self, share: float = DEFAULT_DETAIL_SHARE, count: int = DEFAULT_DETAIL_COUNT
    ) -> float | None:
        """The detail reached by ``share`` of the lines and rings or by ``count`` of them,
        whichever is fewer, or the finer one reached by as many of their segments; None
        when unmeasurable (full-precision points, nothing drawn)."""
        if self.points_unmeasured:
            return None
        found = [
            _ranked(finest, measured, share, count)
            for finest, measured in (
                (self.finest_m, self.lines_measured),
                (self.finest_segments_m, self.segments_measured),
            )
            if measured and finest
        ]
        if self.points_quantum_m is not None:
            found.append(self.points_quantum_m)
        return min(found) if found else None


def _ranked(finest: list[float], measured: int, share: float, count: int) -> float:
    """The value reached by ``share`` of ``measured`` or by ``count``, whichever is fewer,
    of the ``finest`` of them (ascending)."""
    # The small allowance keeps 0.01 x 300 (3.0000000000000004) at rank 3.
    rank = max(1, min(math.ceil(share * measured - 1e-9), count))
    return finest[min(rank, len(finest)) - 1]


class LayerProfile(BaseModel):
    name: str
    crs: str | None
    geometry_type: str = Field(description='GDAL geometry type; "None" for an attribute table.')
    feature_count: int | None
    resolution_m: float | None
    bounds_wgs84: list[float] | None
    detail: DetailDistribution | None = Field(
        default=None, description="How fine every line and ring of the layer is drawn."
    )
    coordinate_columns: list[str] | None = Field(
        default=None,
        description=(
            "Columns that may hold coordinates as plain values: in a table without geometry,"
            " those whose names suggest coordinates; in any table or layer, those of which a"
            " value reads as a geometry (WKT, GeoJSON, WKB, a GeoPackage blob)."
        ),
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


class LeakFacts(BaseModel):
    """What the file carries where its readers do not look (``compliance.measure.leaks``)."""

    overview_pixels: int = Field(
        default=0,
        description="Pixels of overviews and other images of the same ground that are valid "
        "where every pixel of the level above them is masked.",
    )
    overview_levels: list[str] = Field(
        default_factory=list, description="Each level with such pixels, and how many."
    )
    deleted_geometries: int = Field(
        default=0,
        description="Deleted geometries still in the file: GeoPackage/SQLite free pages and "
        "free space, shapes of records deleted from a shapefile's .dbf.",
    )
    deleted_geometries_unplaced: int = Field(
        default=0, description="Of those, the ones that cannot be placed (no CRS, no shape)."
    )
    free_pages_with_data: int = Field(
        default=0,
        description="SQLite free pages that still hold bytes: parts of deleted rows, such as "
        "the overflow pages of a large geometry, which are not rebuilt.",
    )
    deleted_geometries_in_zones: int = Field(
        default=0,
        exclude=True,  # a zone fact: shown only in findings, where clearance decides
        description="Of those, the ones that meet a sensitive zone.",
    )
    unindexed_records: int = Field(
        default=0,
        description="Records the file holds that GDAL does not read: shapes in a .shp that "
        "no .shx entry it reads points to (or past the .dbf's records), FlatGeobuf features "
        "past the count in its header.",
    )
    unindexed_records_unplaced: int = Field(
        default=0, description="Of those, the ones that cannot be placed (no CRS, no shape)."
    )
    unindexed_records_in_zones: int = Field(
        default=0,
        exclude=True,  # a zone fact: shown only in findings, where clearance decides
        description="Of those, the ones that meet a sensitive zone.",
    )
    unindexed_damaged: list[str] = Field(
        default_factory=list,
        description="Files whose records could not be walked to the end (a length past the "
        "end of the file, stray bytes after the last record), each with where: what lies "
        "past that point is unknown; and files holding bytes no reader reads although "
        "every record is read (a .shp record's bytes past its shape, .dbf records past the "
        "count in its header), each with how many.",
    )
    metadata_coordinates: list[str] = Field(
        default_factory=list,
        description="Positions an image that cannot be placed still carries (sidecars, EXIF "
        "GPS, XMP, metadata, GCPs, RPCs), and numbers a vector file's metadata holds the size "
        "of coordinates, each with where it was found.",
    )
    unchecked: list[str] = Field(
        default_factory=list, description="Leak checks that could not read what they look at."
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
    detail: DetailDistribution | None = Field(
        default=None,
        description="Vector data: how fine every line and ring of every layer is drawn.",
    )
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
    elevation_unsure: bool = Field(
        default=False,
        description="A raster band may hold heights or an image's values (one grey band of "
        "unsigned integers; bands of signed integers or floats labelled as colours), or a "
        "vector field not named as heights holds numbers laid on the lines or polygons as "
        "contour levels are, or could not be met with them (methods: "
        "elevation_unsure[<layer>]): has_z is false, and the verdict is held for review "
        "where reading it as heights would change it.",
    )
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
    leaks: LeakFacts = Field(
        default_factory=LeakFacts,
        description="Data the file carries where its readers do not look.",
    )


def resolution_for(
    profile: Profile, share: float = DEFAULT_DETAIL_SHARE, count: int = DEFAULT_DETAIL_COUNT
) -> float | None:
    """A vector dataset's resolution with a pack's own detail share and count: its lines'
    and rings' detail at that rank, or its imagery's pixels if finer. Unknown whenever
    full-precision points make the vector detail unknown, whatever else the file holds."""
    detail = profile.detail
    read_back = detail is not None and (
        (detail.lines_measured and not detail.finest_m)
        or (detail.segments_measured and not detail.finest_segments_m)
    )
    if read_back:
        return profile.resolution_m  # a profile read back without its finest lines, segments
    if detail is not None and detail.points_unmeasured:
        return None
    vector = detail.resolution(share, count) if detail is not None else None
    found = [v for v in (vector, profile.imagery_resolution_m) if v is not None]
    return min(found) if found else None


def detail_unknown(profile: Profile) -> bool:
    """Whether the data holds detail that cannot be measured (full-precision points)."""
    return profile.detail is not None and profile.detail.points_unmeasured


def scale_from_resolution(
    resolution_m: float | None, factor: float = DEFAULT_SCALE_FACTOR
) -> float | None:
    """Estimate a scale denominator from ground resolution (default Tobler: 2000 x metres)."""
    if resolution_m is None:
        return None
    return resolution_m * factor


def settle_scale(
    resolution_m: float | None,
    declared: float | None,
    factor: float = DEFAULT_SCALE_FACTOR,
    detail_unknown: bool = False,
) -> tuple[float | None, Literal["declared", "estimated"] | None, bool]:
    """Pick the scale that counts: the finer of declared and estimated.

    ``detail_unknown``: the data holds detail that cannot be measured (full-precision
    points); a declared scale cannot vouch for it, so no scale is settled.

    Returns (denominator, source, declared_is_coarser).
    """
    if detail_unknown:
        return None, None, False
    estimated = scale_from_resolution(resolution_m, factor)
    if declared is None:
        return estimated, ("estimated" if estimated is not None else None), False
    if estimated is not None and estimated < declared:
        return estimated, "estimated", True
    return declared, "declared", False
