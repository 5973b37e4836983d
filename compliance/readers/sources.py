"""The sources the readers hand on: vector layers read as a stream of WKB batches, and
rasters described from their headers (no pixel is read).

A source carries everything the readers found in the file, so that the measuring stage
computes from it and never opens the file again; only a vector layer's geometries are
streamed, through the source's own ``wkb_batches``.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry.base import BaseGeometry

from compliance.errors import UnreadableDataset
from compliance.geo.crs_identity import WGS84
from compliance.geo.geodesy import transformer
from compliance.readers.gpkg_sql import table_values
from compliance.readers.kept_boxes import KeptBoxes
from compliance.readers.kml_document import KmlDocument
from compliance.readers.xml_unread import unread_said

if TYPE_CHECKING:
    from compliance.readers.gdal_dataset import VectorDataset
    from compliance.readers.pyogrio_dataset import PyogrioDataset

__all__ = [
    "BATCH_SIZE",
    "NO_GEOMETRY",
    "READ_ONLY",
    "Batch",
    "DrapedImage",
    "LayerInfo",
    "OgrVectorSource",
    "RasterSource",
    "TextSink",
    "VectorSource",
    "decode_wkb",
    "parse_crs",
]

BATCH_SIZE = 16_384

# Open options that keep GDAL to the input itself. The GML driver otherwise leaves a .gfs
# schema next to the file it reads (in the caller's folder, a change to the evidence) and
# later trusts that .gfs over the file; and it fetches the schema a GML names as a WFS
# DescribeFeatureType address, from whatever server the file names, at every open.
# Drivers without these options ignore them, with a warning silenced where the dataset
# is opened.
READ_ONLY = {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"}


def parse_crs(value: Any) -> CRS | None:
    """A pyproj CRS from whatever a driver reports, or None when there is none, or when it
    cannot be related to WGS84 (another planet's, an engineering CRS): data in such a CRS
    cannot be placed on the Earth, exactly as data without one."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return _parsed(json.dumps(value, sort_keys=True), True)
    if isinstance(value, str):
        return _parsed(value, False)
    return _parse(value, False)


@lru_cache(maxsize=256)
def _parsed(text: str, is_json: bool) -> CRS | None:
    """Parsed once per text: PROJ takes milliseconds to read a WKT (an ESRI .prj's about
    9 ms), and the same few CRSs come with every file of an archive. CRSs are immutable
    and, since pyproj 3.1, safe to share between threads."""
    return _parse(json.loads(text) if is_json else text, is_json)


def _parse(value: Any, is_json: bool) -> CRS | None:
    try:
        crs = CRS.from_json_dict(value) if is_json else CRS.from_user_input(value)
        transformer(crs, WGS84)
    except (CRSError, ProjError):
        return None
    return crs


NO_GEOMETRY = "None"  # GDAL's name for a layer without geometry: an attribute table


@dataclass
class LayerInfo:
    name: str
    crs: CRS | None
    geometry_type: str
    feature_count: int | None
    fields: list[str]
    total_bounds: tuple[float, float, float, float] | None
    metadata: dict[str, str] = field(default_factory=dict)
    # The fields of text and binary types: the ones a geometry can be written into.
    text_fields: list[str] = field(default_factory=list)
    # A second (third...) geometry field of a source layer is checked as a layer of its own:
    # the source layer's name, and the field to read. None: the layer's primary geometry.
    source_layer: str | None = None
    geometry_column: str | None = None
    # Every geometry field the driver exposes for the source layer (when asked), first first.
    geometry_fields: tuple[str, ...] = ()
    # Why the CRS the file declares was not taken (crs is then None).
    crs_problem: str | None = None
    # A table an SQLite database keeps about itself (``gpkg_sql.sqlite_catalogue``): its
    # values are read for geometry, its names and numbers not taken for positions.
    catalogue: bool = False
    # Of a catalogue table, the columns its standard gives it, whose names say nothing of
    # positions (None: every column); any other column is read as any table's. Their
    # numbers too, when ``catalogue_values``: numbers of the catalogue's own.
    catalogue_columns: frozenset[str] | None = None
    catalogue_values: bool = True
    # A table the driver does not list, read from the file with SQLite
    # (``readers/gpkg_hidden.py``).
    unlisted: bool = False
    # A node, parent or rowid table of a layer's R*Tree spatial index, which the layer's
    # index check walks node by node: the tree's structure (its node blobs may read as
    # WKB by chance), not read as values.
    rtree_shadow: bool = False


_UNDECODABLE = (
    shapely.errors.GEOSException,
    shapely.errors.ShapelyError,
    ValueError,
    NotImplementedError,
)


@dataclass
class Batch:
    """One slice of a layer: decoded geometries and how many could not be decoded."""

    geometries: np.ndarray  # shapely geometries, None for null/undecodable
    undecodable: int


def decode_wkb(wkb: np.ndarray) -> Batch:
    """Decode WKB, falling back to one geometry at a time for types shapely cannot parse."""
    try:
        return Batch(shapely.from_wkb(wkb, on_invalid="raise"), 0)
    except _UNDECODABLE:
        out = np.empty(len(wkb), dtype=object)
        bad = 0
        for i, item in enumerate(wkb):
            if item is None:
                continue
            try:
                out[i] = shapely.from_wkb(item, on_invalid="raise")
            except _UNDECODABLE:
                bad += 1  # curves, TINs, triangles, truncated WKB: GDAL reads them, GEOS does not
        return Batch(out, bad)


@dataclass(frozen=True)
class DrapedImage:
    """One GroundOverlay as read: its polygon (lon/lat, as the driver gives it) and its
    image's size in pixels, or why the image was not opened or read."""

    name: str | None
    href: str
    shape: BaseGeometry | None
    size: tuple[int, int] | None = None  # width, height
    # The file opened beside a KML; None inside a KMZ, or when nothing was opened.
    file: Path | None = None
    unopened: str | None = None


# Takes a batch's attributes (the ones asked for) and its geometry column (WKB), as its
# geometries are read.
TextSink = Callable[[pa.RecordBatch, pa.Array], None]


class VectorSource(KeptBoxes):
    """A vector dataset: its driver, its layers, and a batch reader per layer (and the
    boxes its file keeps beside them, ``KeptBoxes``)."""

    kind = "vector"

    def __init__(
        self,
        path: Path | None,
        driver: str,
        layers: list[LayerInfo],
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.path = path
        self.driver = driver
        self.layers = layers
        self.metadata = metadata or {}
        # Rasters stored beside the layers (a GeoPackage's tile tables), each measured.
        self.rasters: list[RasterSource] = []
        # Parts of the file that hold data no layer reads (a raster table GDAL cannot open).
        self.unread_tables: list[str] = []
        # Geometry properties the driver drops (a GML feature's second geometry).
        self.unread_geometries: list[str] = []
        # A GeoJSON document's "coordinates" members, counted in its bytes: each geometry
        # object has one, read by GDAL or not (a foreign member's).
        self.coordinates_members: int | None = None
        # Metadata documents the file stores beside its layers (a GeoPackage's
        # gpkg_metadata: ISO 19115 XML, which may declare a scale).
        self.metadata_documents: list[str] = []
        # Small tables the readers read whole as they found them, by name: their rows.
        self.table_rows: dict[str, pa.RecordBatch] = {}
        # The images a KML or KMZ drapes over the ground, opened by the readers.
        self.draped_images: list[DrapedImage] = []
        # A KML document's own reading (None: not read, or not readable through) and,
        # for a KMZ, the members its document neither is nor refers to.
        self.kml_document: KmlDocument | None = None
        self.unreferenced_members: list[str] = []
        # The text an XML document (GPX, KML) writes where its driver does not read it
        # (readers.xml_unread), met with where the features lie.
        self.unread_text: list[str] = []

    def take_unread(self, parts: list[str] | None) -> None:
        """Text the driver does not read, to be met with the features; None: a document
        not looked through, said so."""
        text, said = unread_said(parts)
        self.unread_text += text
        self.unread_geometries += said

    def wkb_batches(
        self, layer: LayerInfo, text: TextSink | None = None, fields: list[str] | None = None
    ) -> Iterator[pa.Array]:
        """The layer's geometries as Arrow arrays of WKB, batch by batch. ``text``, when
        given, is handed each batch's attributes ``fields`` (by default its text and binary
        ones, ``layer.text_fields``) and its geometries, read in the same pass."""
        raise NotImplementedError

    def driver_extent(self, layer: LayerInfo) -> tuple[float, float, float, float] | None:
        """The extent the driver reports, for features whose own coordinates cannot be read."""
        return layer.total_bounds

    def attribute_batches(self, layer: LayerInfo) -> Iterator[pa.RecordBatch]:
        """The rows of a table without geometry, every column, batch by batch (none here:
        only sources that read such tables have any)."""
        return iter(())

    def close(self) -> None:
        """Release what the source holds open (a reader's dataset, the connection the
        boxes its file keeps are read on)."""
        self.close_kept()


_READ_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FieldError,
    OSError,
    pa.ArrowException,
    UnicodeDecodeError,  # names or metadata that are not text, in a damaged file
)


class OgrVectorSource(VectorSource):
    """Layers GDAL reads, streamed from the dataset the readers opened to describe them."""

    def __init__(
        self,
        path: Path,
        driver: str,
        layers: list[LayerInfo],
        metadata: dict[str, str],
        dataset: VectorDataset | PyogrioDataset,
    ) -> None:
        super().__init__(path, driver, layers, metadata)
        self.dataset = dataset

    def close(self) -> None:
        self.dataset.close()
        super().close()

    def driver_extent(self, layer: LayerInfo) -> tuple[float, float, float, float] | None:
        if layer.geometry_column is not None:
            return None  # the driver's extent is that of the primary geometry only
        # Asked for only when a layer holds undecodable geometries: forcing it may cost a pass.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bounds = pyogrio.read_info(
                    self.path, layer=layer.name, force_total_bounds=True, **READ_ONLY
                ).get("total_bounds")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
            return layer.total_bounds
        if bounds is None or not np.all(np.isfinite(bounds)):
            return layer.total_bounds
        return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))

    def attribute_batches(self, layer: LayerInfo) -> Iterator[pa.RecordBatch]:
        name = layer.source_layer or layer.name
        if (rows := self.table_rows.get(name)) is not None:
            yield rows
            return
        started = False
        try:
            if self.driver in ("GPKG", "SQLite") and self.path is not None and self.path.is_file():
                # The bytes as stored, where SQLite itself reads the table (a virtual table
                # of GDAL's own module it does not: GDAL reads that one).
                try:
                    for batch in table_values(self.kept(), name, BATCH_SIZE):
                        started = True
                        yield batch
                    return
                except sqlite3.Error:
                    if started:
                        raise
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield from self.dataset.attribute_batches(name, BATCH_SIZE)
        except (*_READ_ERRORS, sqlite3.Error) as exc:
            raise UnreadableDataset(f"table {layer.name!r} cannot be read: {exc}") from exc
        self.unread_geometries += self.dataset.take_failures()

    def wkb_batches(
        self, layer: LayerInfo, text: TextSink | None = None, fields: list[str] | None = None
    ) -> Iterator[pa.Array]:
        fields = (layer.text_fields if fields is None else fields) if text is not None else []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                name = layer.source_layer or layer.name
                batches = self.dataset.layer_batches(name, BATCH_SIZE, keep=fields)
                for primary, record_batch in batches:
                    column = layer.geometry_column or primary or "wkb_geometry"
                    if column not in record_batch.schema.names:
                        if not record_batch.schema.names:
                            raise UnreadableDataset("it has no geometry column")
                        column = record_batch.schema.names[-1]
                    if text is not None and fields:
                        names = record_batch.schema.names
                        attributes = record_batch.select([f for f in fields if f in names])
                        text(attributes, record_batch.column(column))
                    yield record_batch.column(column)
        except _READ_ERRORS as exc:
            raise UnreadableDataset(f"layer {layer.name!r} cannot be read: {exc}") from exc
        self.unread_geometries += self.dataset.take_failures()


@dataclass
class RasterSource:
    """A raster's header facts; pixels are never read."""

    path: Path
    driver: str
    crs: CRS | None
    transform: Any  # affine.Affine, or None when not georeferenced
    transform_source: str  # geotransform | gcps | none
    width: int
    height: int
    count: int
    dtypes: list[str]
    overviews: list[int]
    mask_flags: list[str]
    tags: dict[str, str]
    units: list[str]
    colorinterp: list[str]
    has_rpc: bool
    # GCPs as (column, row, x, y) when they, not a geotransform, place the raster.
    gcps: list[tuple[float, float, float, float]] = field(default_factory=list)
    # Other placements the image's sidecars give (a world file, a .prj that disagree with
    # the header): each is the same pixels, placed another way, and each is measured.
    placements: list[RasterSource] = field(default_factory=list)
    sidecars_read: list[str] = field(default_factory=list)  # a .prj that gave the CRS
    # The file's other images (a multi-page TIFF's pages, a netCDF's variables): each
    # leaves with the file, so each is measured. ``label`` names an image among them.
    other_images: list[RasterSource] = field(default_factory=list)
    # Tables of the file holding data no reader opens, each with why (a GeoPackage's tiles
    # at zoom levels its tile matrix does not list, say).
    unread_tables: list[str] = field(default_factory=list)
    # Where its pixels reach past the grid GDAL opens, in its CRS (an MBTiles raster's
    # edge tiles): the outline takes it in.
    reach: tuple[float, float, float, float] | None = None
    label: str | None = None
    # The (width, height) of every band's overview levels, each size once, as GDAL serves
    # them. A level is the image's ground at another size, larger than the image too.
    overview_sizes: list[tuple[int, int]] = field(default_factory=list)
    # The RPC metadata items (GDAL's RPC domain), when the image carries RPCs.
    rpcs: dict[str, str] | None = None
    # Where the file's coordinate arrays put the pixel centres when they are uneven (a
    # netCDF's): column centre i at grid position ``axis_centres[0][i]`` (i where even;
    # the geotransform then maps grid positions), rows likewise; None for an even axis,
    # NaN for one that could not be read or is no grid. None: both even.
    axis_centres: tuple[np.ndarray | None, np.ndarray | None] | None = None

    kind = "raster"
