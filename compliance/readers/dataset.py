"""Open a local dataset as a raster or as vector layers, reading metadata only.

Vector layers are read as a stream of WKB batches so that large files never sit whole
in memory; rasters are described from their headers and no pixel is read.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from compliance.errors import UnreadableDataset, UnsupportedFormat
from compliance.geo.geodesy import WGS84, transformer
from compliance.readers.geoarrow_native import NATIVE_ENCODINGS, native_to_wkb
from compliance.readers.geojson_crs import declared_crs, unreadable_reason
from compliance.readers.gml_properties import geometry_properties
from compliance.readers.gpkg_sql import gpkg_rows
from compliance.readers.raster_sidecars import apply_sidecars
from compliance.readers.upload_guard import (
    UPLOAD_RASTER_DRIVERS,
    heads,
    refuse_driver,
    refuse_outside_files,
    screen_upload,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 16_384
_PARQUET_MAGIC = b"PAR1"
# Open options that keep GDAL to the input itself. The GML driver otherwise leaves a .gfs
# schema next to the file it reads (in the caller's folder, a change to the evidence) and
# later trusts that .gfs over the file; and it fetches the schema a GML names as a WFS
# DescribeFeatureType address, from whatever server the file names, at every open.
# Drivers without these options ignore them, with a warning silenced where the dataset
# is opened.
READ_ONLY = {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"}
_GML_DRIVERS = frozenset({"GML", "NAS"})


def parse_crs(value: Any) -> CRS | None:
    """A pyproj CRS from whatever a driver reports, or None when there is none, or when it
    cannot be related to WGS84 (another planet's, an engineering CRS): data in such a CRS
    cannot be placed on the Earth, exactly as data without one."""
    if value is None or value == "":
        return None
    try:
        crs = CRS.from_json_dict(value) if isinstance(value, dict) else CRS.from_user_input(value)
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
    # A second (third...) geometry field of a source layer is checked as a layer of its own:
    # the source layer's name, and the field to read. None: the layer's primary geometry.
    source_layer: str | None = None
    geometry_column: str | None = None
    # Every geometry field the driver exposes for the source layer (when asked), first first.
    geometry_fields: tuple[str, ...] = ()
    # Why the CRS the file declares was not taken (crs is then None).
    crs_problem: str | None = None


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


class VectorSource:
    """A vector dataset: its driver, its layers, and a batch reader per layer."""

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

    def wkb_batches(self, layer: LayerInfo) -> Iterator[pa.Array]:
        """The layer's geometries as Arrow arrays of WKB, batch by batch."""
        raise NotImplementedError

    def driver_extent(self, layer: LayerInfo) -> tuple[float, float, float, float] | None:
        """The extent the driver reports, for features whose own coordinates cannot be read."""
        return layer.total_bounds


class OgrVectorSource(VectorSource):
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

    def wkb_batches(self, layer: LayerInfo) -> Iterator[pa.Array]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pyogrio.open_arrow(
                    self.path,
                    layer=layer.source_layer or layer.name,
                    columns=[],
                    batch_size=BATCH_SIZE,
                    use_pyarrow=True,
                    **READ_ONLY,
                ) as (meta, reader):
                    column = layer.geometry_column or meta.get("geometry_name") or "wkb_geometry"
                    for record_batch in reader:
                        if column not in record_batch.schema.names:
                            if not record_batch.schema.names:
                                raise UnreadableDataset("it has no geometry column")
                            column = record_batch.schema.names[-1]
                        yield record_batch.column(column)
        except (
            pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError,
            pyogrio.errors.GeometryError,
            pyogrio.errors.FieldError,
            OSError,
            pa.ArrowException,
            UnicodeDecodeError,  # names or metadata that are not text, in a damaged file
        ) as exc:
            raise UnreadableDataset(f"layer {layer.name!r} cannot be read: {exc}") from exc


class GeoParquetSource(VectorSource):
    """A GeoParquet file: each of its geometry columns is read as a layer of its own."""

    def __init__(self, path: Path, layers: dict[str, LayerInfo], encodings: dict[str, str]) -> None:
        super().__init__(path, "Parquet", list(layers.values()))
        self.columns = {layer.name: column for column, layer in layers.items()}
        self.encodings = encodings  # per layer name: WKB, or a native GeoArrow encoding

    def wkb_batches(self, layer: LayerInfo) -> Iterator[pa.Array]:
        encoding = self.encodings.get(layer.name, "WKB")
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
            columns = [self.columns[layer.name]]
            for record_batch in parquet.iter_batches(batch_size=BATCH_SIZE, columns=columns):
                column = record_batch.column(0)
                if encoding in NATIVE_ENCODINGS:
                    column = native_to_wkb(column, encoding)
                if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
                    raise UnsupportedFormat(
                        f"GeoParquet geometry column has type {column.type}, not WKB"
                    )
                yield column
        except (OSError, pa.ArrowException, ValueError) as exc:
            column_name = self.columns[layer.name]
            raise UnreadableDataset(
                f"GeoParquet column {column_name!r} cannot be read: {exc}"
            ) from exc


class FrameSource(VectorSource):
    """An in-memory GeoDataFrame, for pipelines that already hold their data."""

    def __init__(self, frame: Any, name: str) -> None:
        crs = parse_crs(frame.crs.to_wkt()) if frame.crs is not None else None
        geoms = np.asarray(frame.geometry.values, dtype=object)
        bounds = None
        if len(frame) and not frame.geometry.is_empty.all():
            bounds = tuple(float(v) for v in frame.geometry.total_bounds)
        fields = [str(c) for c in frame.columns if c != frame.geometry.name]
        geom_types = sorted(set(frame.geometry.geom_type.dropna().unique()))
        layer = LayerInfo(
            name=name,
            crs=crs,
            geometry_type=",".join(geom_types) or "Unknown",
            feature_count=len(frame),
            fields=fields,
            total_bounds=bounds,  # type: ignore[arg-type]
        )
        super().__init__(None, "GeoDataFrame", [layer])
        self._geoms = geoms

    def wkb_batches(self, layer: LayerInfo) -> Iterator[pa.Array]:
        for start in range(0, len(self._geoms), BATCH_SIZE):
            chunk = self._geoms[start : start + BATCH_SIZE]
            yield pa.array(shapely.to_wkb(chunk, flavor="iso"), type=pa.binary())


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
    label: str | None = None

    kind = "raster"


# Drivers whose single-file sources hold exactly one layer: the first layer's description is
# the whole listing, which saves parsing a GeoJSON file a third time.
_SINGLE_LAYER_DRIVERS = frozenset({"GeoJSON", "GeoJSONSeq", "FlatGeobuf", "ESRI Shapefile"})


def _layer_info(info: dict[str, Any], layer_name: str) -> LayerInfo:
    count = info.get("features")
    bounds = info.get("total_bounds")
    return LayerInfo(
        name=layer_name,
        crs=parse_crs(info.get("crs")),
        # pyogrio reports None for a table without geometry; "Unknown" is a geometry layer
        # whose type GDAL does not know.
        geometry_type=NO_GEOMETRY
        if info.get("geometry_type") is None
        else str(info["geometry_type"]),
        feature_count=int(count) if count is not None and count >= 0 else None,
        fields=[str(f) for f in info.get("fields", [])],
        total_bounds=tuple(bounds) if bounds is not None and np.all(np.isfinite(bounds)) else None,
        metadata={str(k): str(v) for k, v in (info.get("layer_metadata") or {}).items()},
    )


def _ogr_layers(
    path: Path, reasons: list[str], upload: _Upload | None
) -> tuple[str, list[LayerInfo], dict[str, str]] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            first = pyogrio.read_info(path, **READ_ONLY)
        except (pyogrio.errors.DataSourceError, OSError) as exc:
            reasons.append(str(exc).split(";")[0])
            return None
        except (pyogrio.errors.DataLayerError, IndexError, ValueError):
            # No usable layer 0 (a raster-only GeoPackage, a fuzzed header): the listing decides.
            first = None
        if upload and first is not None:
            refuse_driver(str(first.get("driver")), upload.display)
        if (
            first is not None
            and first.get("driver") in _SINGLE_LAYER_DRIVERS
            and first.get("layer_name")
            and path.is_file()
        ):
            layer = _layer_info(first, str(first["layer_name"]))
            return str(first["driver"]), [layer], dict(first.get("dataset_metadata") or {})
        try:
            listed = _layer_names(path, first)
        except (pyogrio.errors.DataSourceError, OSError) as exc:
            reasons.append(str(exc).split(";")[0])
            return None
        except (pyogrio.errors.DataLayerError, UnicodeDecodeError) as exc:
            raise UnreadableDataset(f"{path.name}: a layer cannot be read: {exc}") from exc
        if len(listed) == 0:
            return None
        layers: list[LayerInfo] = []
        driver = ""
        dataset_meta: dict[str, str] = {}
        for layer_name in listed:
            if first is not None and first.get("layer_name") == layer_name:
                info = first
            else:
                try:
                    info = pyogrio.read_info(path, layer=layer_name, **READ_ONLY)
                except (
                    pyogrio.errors.DataSourceError,
                    pyogrio.errors.DataLayerError,
                    UnicodeDecodeError,  # field names or metadata that are not text
                ) as exc:
                    raise UnreadableDataset(f"layer {layer_name!r} cannot be read: {exc}") from exc
            driver = info.get("driver") or driver
            if upload:
                refuse_driver(driver, upload.display)
            dataset_meta.update(info.get("dataset_metadata") or {})
            layer = _layer_info(info, str(layer_name))
            if driver not in _SINGLE_GEOMETRY_DRIVERS and layer.geometry_type != NO_GEOMETRY:
                layers.extend(_with_other_geometry_fields(path, layer))
            else:
                layers.append(layer)
        return driver, layers, dataset_meta


def _layer_names(path: Path, first: dict[str, Any] | None) -> list[str]:
    """The names of a source's layers. pyogrio lists them without open options, so a GML
    file's are read one by one (each read with ``READ_ONLY``) rather than listed."""
    if first is None or first.get("driver") not in _GML_DRIVERS:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    names = [str(first["layer_name"])]
    while True:
        try:
            info = pyogrio.read_info(path, layer=len(names), **READ_ONLY)
        except pyogrio.errors.DataLayerError:
            return names
        names.append(str(info["layer_name"]))


def _take_declared_crs(path: Path, layers: list[LayerInfo]) -> None:
    """Where GDAL could not read the CRS a GeoJSON declares, it quietly took WGS84; the
    layer's CRS is unknown instead."""
    member = declared_crs(path)
    if member is None:
        return
    for layer in layers:
        problem = unreadable_reason(member, layer.crs)
        if problem is not None:
            layer.crs, layer.crs_problem = None, problem


def has_vector_geometry(path: Path) -> bool:
    """Whether GDAL reads ``path`` as vector layers of which one has geometry. The file is
    opened read-only, as a check opens it: no ``.gfs`` is left beside a GML."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            first = pyogrio.read_info(path, **READ_ONLY)
        except (pyogrio.errors.DataSourceError, OSError):
            return False
        except (pyogrio.errors.DataLayerError, IndexError, ValueError):
            first = None
        if first is not None and first.get("geometry_type") is not None:
            return True
        if first is not None and first.get("driver") in _GML_DRIVERS:
            names = _layer_names(path, first)
            return any(
                pyogrio.read_info(path, layer=n, **READ_ONLY).get("geometry_type") is not None
                for n in names[1:]
            )
        try:
            return any(kind is not None for _, kind in pyogrio.list_layers(path))
        except (pyogrio.errors.DataSourceError, OSError, ValueError):
            return False


# Drivers whose layers hold one geometry field at most. Others (GML, NAS, SQLite, CSV, OGR
# VRT, Arrow, Interlis...) may hold several, of which pyogrio names only the first.
_SINGLE_GEOMETRY_DRIVERS = _SINGLE_LAYER_DRIVERS | {
    "GPKG",
    "OpenFileGDB",
    "KML",
    "LIBKML",
    "GPX",
    "MapInfo File",
    "DXF",
    "TopoJSON",
    "ESRIJSON",
}
_WKB_EXTENSIONS = {b"geoarrow.wkb", b"ogc.wkb"}


def _geometry_fields(path: Path, layer_name: str) -> list[tuple[str, CRS | None]]:
    """Every geometry field of a layer with its CRS, the driver's primary one first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pyogrio.open_arrow(
                path, layer=layer_name, columns=[], use_pyarrow=True, **READ_ONLY
            ) as (meta, reader):
                schema = reader.schema
                primary = meta.get("geometry_name") or "wkb_geometry"
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise UnreadableDataset(f"layer {layer_name!r} cannot be read: {exc}") from exc
    fields: list[tuple[str, CRS | None]] = []
    for f in schema:
        meta_of = f.metadata or {}
        if f.name != primary and meta_of.get(b"ARROW:extension:name") not in _WKB_EXTENSIONS:
            continue
        try:
            crs_json = json.loads(meta_of.get(b"ARROW:extension:metadata") or b"{}").get("crs")
        except (ValueError, AttributeError):
            crs_json = None
        entry = (f.name, parse_crs(crs_json) if crs_json else None)
        if f.name == primary:
            fields.insert(0, entry)
        else:
            fields.append(entry)
    return fields


def _with_other_geometry_fields(path: Path, layer: LayerInfo) -> list[LayerInfo]:
    """The layer, then a layer per geometry field after its first: a GML feature with a
    coarse outline and a precise position carries both out of the country, and the position
    may be inside a zone."""
    fields = _geometry_fields(path, layer.name)
    layer.geometry_fields = tuple(name for name, _ in fields)
    others = [
        LayerInfo(
            name=f"{layer.name}:{name}",
            crs=crs,
            geometry_type="Unknown",
            feature_count=layer.feature_count,
            fields=layer.fields,
            total_bounds=None,
            source_layer=layer.name,
            geometry_column=name,
            geometry_fields=layer.geometry_fields,
        )
        for name, crs in fields[1:]
    ]
    return [layer, *others]


_FEATURE_TYPES = {"features", "attributes"}


def unread_gml_geometries(path: Path, layers: list[LayerInfo]) -> list[str]:
    """``feature type.property`` for each GML geometry property no layer reads; the whole
    file, by name, when its XML cannot be read through to tell."""
    found = geometry_properties(path)
    if found is None:
        return [f"{path.name} (its geometry properties could not be listed)"]
    exposed: dict[str, set[str]] = {}
    for layer in layers:
        exposed.setdefault(layer.source_layer or layer.name, set()).update(layer.geometry_fields)
    everywhere = set().union(*exposed.values()) if exposed else set()
    unread = []
    for feature_type, properties in sorted(found.items()):
        read = exposed.get(feature_type, everywhere)
        unread += [f"{feature_type}.{p}" for p in sorted(properties - read)]
    return unread


def gpkg_raster_tables(path: Path) -> list[str]:
    """The tables of a GeoPackage that hold tiles or gridded coverage rather than features.

    GDAL opens a GeoPackage as vector layers or as a raster, never both: when it has
    features, its rasters (an orthophoto pyramid beside a layer of outlines) are not read.
    GDAL read its layers from gpkg_contents, so the table is there to ask.
    """
    rows = gpkg_rows(path, "SELECT table_name, data_type FROM gpkg_contents")
    return sorted(str(name) for name, kind in rows if str(kind).lower() not in _FEATURE_TYPES)


def _gpkg_rasters(path: Path, tables: list[str], upload: _Upload | None) -> list[RasterSource]:
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


def _geoparquet(path: Path) -> GeoParquetSource:
    # Imported only for Parquet files: every other check goes without it.
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableDataset(f"{path.name}: unreadable Parquet: {exc}") from exc
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        raise UnsupportedFormat(
            f"{path.name}: Parquet without GeoParquet 'geo' metadata holds no geometry"
        )
    try:
        geo = json.loads(raw)
        primary = geo["primary_column"]
        described = dict(geo["columns"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UnsupportedFormat(f"{path.name}: malformed GeoParquet metadata: {exc}") from exc
    if primary not in described:
        raise UnsupportedFormat(
            f"{path.name}: malformed GeoParquet metadata: primary column {primary!r} is not described"
        )
    # Every geometry column is data that leaves with the file, not only the primary one.
    layers: dict[str, LayerInfo] = {}
    encodings: dict[str, str] = {}
    for column in [primary, *sorted(c for c in described if c != primary)]:
        col_meta = described[column]
        if not isinstance(col_meta, dict) or column not in schema.names:
            raise UnsupportedFormat(f"{path.name}: geometry column {column!r} is not in the file")
        encoding = str(col_meta.get("encoding", "WKB"))
        if encoding.upper() != "WKB" and encoding not in NATIVE_ENCODINGS:
            raise UnsupportedFormat(
                f"{path.name}: GeoParquet encoding {encoding!r} of column {column!r} is "
                f"not one GeoParquet defines (WKB, {', '.join(sorted(NATIVE_ENCODINGS))})"
            )
        # The GeoParquet spec says a missing "crs" means OGC:CRS84; an explicit null means unknown.
        crs = parse_crs("OGC:CRS84") if "crs" not in col_meta else parse_crs(col_meta["crs"])
        bbox = col_meta.get("bbox")
        layers[column] = LayerInfo(
            name=path.stem if column == primary else f"{path.stem}:{column}",
            crs=crs,
            geometry_type=",".join(col_meta.get("geometry_types") or []) or "Unknown",
            feature_count=meta.num_rows,
            fields=[n for n in schema.names if n not in described],
            total_bounds=tuple(bbox[:4]) if bbox and len(bbox) == 4 else None,
        )
        encodings[layers[column].name] = encoding
    return GeoParquetSource(path, layers, encodings)


@dataclass(frozen=True)
class _Upload:
    """How an upload is opened: by the upload drivers only, and within its own folder."""

    root: Path
    display: str

    def check_files(self, files: list[str]) -> None:
        refuse_outside_files(files, self.root, self.display)


def open_raster(name: str, upload: bool = False) -> Any:
    """A rasterio dataset; an upload's is opened only by the upload drivers."""
    import rasterio

    if not upload:
        return rasterio.open(name)
    # rasterio.open takes one driver name; the reader it builds takes GDAL's list.
    from rasterio.io import DatasetReader

    with rasterio.Env():
        return DatasetReader(name, driver=sorted(UPLOAD_RASTER_DRIVERS))


def _raster(path: Path, reasons: list[str], upload: _Upload | None) -> RasterSource | None:
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


def _header_alone(path: Path, upload: _Upload | None) -> RasterSource | None:
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


_MAX_IMAGES = 256


def _other_images(path: Path, names: list[str], upload: _Upload | None) -> list[RasterSource]:
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


def _describe_image(path: Path, name: str, label: str, upload: _Upload | None) -> RasterSource:
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


def open_dataset(
    path: Path, name: str | None = None, uploaded: bool = False
) -> VectorSource | RasterSource:
    """Open ``path`` as vector layers or a raster, whichever GDAL recognises.

    An ``uploaded`` XML file is read as vector data only: the XML raster formats (a KML
    super-overlay, VRT, WMS and WMTS descriptions, SAFE and DIMAP manifests) open the
    files their text names, and an upload must not make the checker read files on this
    machine. A KML that GDAL's KML reader refuses used to reach the super-overlay driver,
    which opened an image by any relative path, ``../../`` included.

    Raises
    ------
    UnsupportedFormat
        Neither a vector nor a raster driver recognises the file.
    UnreadableDataset
        A driver recognises it but it cannot be read.
    """
    display = name or path.name
    if path.is_file():
        with path.open("rb") as f:
            if f.read(4) == _PARQUET_MAGIC:
                return _geoparquet(path)
    upload = _Upload(path if path.is_dir() else path.parent, display) if uploaded else None
    if upload:
        screen_upload(path, display)
    reasons: list[str] = []
    vector = _ogr_layers(path, reasons, upload)
    if vector is not None:
        driver, layers, meta = vector
        source = OgrVectorSource(path, driver, layers, meta)
        if driver == "GPKG" and path.is_file():
            tables = gpkg_raster_tables(path)
            source.rasters = _gpkg_rasters(path, tables, upload)
            read = {r.label for r in source.rasters}
            source.unread_tables = [t for t in tables if t not in read]
        if driver in _GML_DRIVERS and path.is_file():
            source.unread_geometries = unread_gml_geometries(path, layers)
        if driver == "GeoJSON" and path.is_file():
            _take_declared_crs(path, layers)
        return source
    if upload and any(head.startswith(b"<") for head in heads(path)):
        # Not vector data, yet XML: what is left are XML raster formats, which name files.
        raise UnsupportedFormat(
            f"{display}: not vector data GDAL can read"
            + (f" ({reasons[0].replace(str(path), display)})" if reasons else "")
            + "; an uploaded XML file is not read as a raster, since XML raster formats "
            "name other files to read"
        )
    raster = _raster(path, reasons, upload)
    if raster is not None:
        return raster
    detail = "; ".join(dict.fromkeys(r.replace(str(path), display).strip() for r in reasons if r))
    what = "a format accepted as an upload (one that reads nothing but the upload)"
    raise UnsupportedFormat(
        f"{display}: not a raster or vector dataset "
        + (f"in {what}" if upload else "GDAL can read")
        + (f" ({detail})" if detail else "")
    )
