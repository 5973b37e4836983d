"""Open a local dataset as a raster or as vector layers, reading metadata only: the
readers' entry point. Everything the measuring stage needs from the file is read here
and handed on with the source."""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path

from compliance.errors import UnreadableDataset, UnsupportedFormat
from compliance.readers.dataset_parts import metadata_document
from compliance.readers.esrijson_unread import esrijson_unread_text
from compliance.readers.formats import GML_DRIVERS, KML_DRIVERS
from compliance.readers.gdal_dataset import VectorDataset
from compliance.readers.geojson_members import coordinates_members
from compliance.readers.geojson_unread import unread_members
from compliance.readers.geoparquet import PARQUET_MAGIC, open_geoparquet
from compliance.readers.gpkg_hidden import hidden_tables
from compliance.readers.gpkg_sql import gpkg_catalogue
from compliance.readers.jsonfg_places import geometries_off_their_place
from compliance.readers.kml_images import read_kml_extras
from compliance.readers.mbtiles_tiles import mbtiles_unread_vector_tiles
from compliance.readers.mif_unread import mif_unread_text
from compliance.readers.ogr_layers import (
    ogr_layers,
    take_declared_crs,
    unread_gml_geometries,
)
from compliance.readers.osm_pbf_unread import pbf_unread_text
from compliance.readers.osm_unread import OsmUnreadText
from compliance.readers.outside_features import georss_unread
from compliance.readers.pmtiles_tiles import pmtiles_unread_tiles
from compliance.readers.pyogrio_dataset import PyogrioDataset
from compliance.readers.rasters import gpkg_rasters, read_raster
from compliance.readers.sources import LayerInfo, OgrVectorSource, RasterSource, VectorSource
from compliance.readers.upload_guard import UploadScope, heads, screen_upload
from compliance.readers.xml_unread import GPX, UnreadText, unread_text

__all__ = ["open_dataset"]

# The XML documents whose text their driver does not read is looked through, by driver.
_XML_READINGS: dict[str, Callable[[], UnreadText]] = {
    "GPX": lambda: UnreadText(GPX),
    "OSM": OsmUnreadText,
    "GeoRSS": georss_unread,
}

# Classic TIFF and BigTIFF, little- and big-endian.
_TIFF_MAGIC = frozenset({b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"})


def _require_shapefile_index(path: Path) -> None:
    """A .shp without its .shx: GDAL would answer with advice about its own settings; the
    sender needs to know which parts to send."""
    if path.suffix.lower() == ".shp" and not any(
        p.suffix.lower() == ".shx" for p in path.parent.glob(f"{glob.escape(path.stem)}.*")
    ):
        raise UnreadableDataset(
            f"{path.name} is one part of a shapefile and its {path.stem}.shx is missing: "
            "send all its parts (.shp, .shx, .dbf, .prj) together, or in one zip"
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
    _require_shapefile_index(path)
    display = name or path.name
    magic = b""
    if path.is_file():
        with path.open("rb") as f:
            magic = f.read(4)
        if magic == PARQUET_MAGIC:
            return open_geoparquet(path)
    upload = UploadScope(path if path.is_dir() else path.parent, display) if uploaded else None
    if upload:
        screen_upload(path, display)
    if magic in _TIFF_MAGIC:
        # No vector driver reads a TIFF: asking them all first costs about as much as
        # opening the image. One that fails as a raster goes the usual way, for its reasons.
        raster = read_raster(path, [], upload)
        if raster is not None:
            return raster
    reasons: list[str] = []
    vector = ogr_layers(path, reasons, upload)
    if vector is not None:
        return _vector_source(path, *vector, upload)
    if upload and any(head.startswith(b"<") for head in heads(path)):
        # Not vector data, yet XML: what is left are XML raster formats, which name files.
        raise UnsupportedFormat(
            f"{display}: not vector data GDAL can read"
            + (f" ({reasons[0].replace(str(path), display)})" if reasons else "")
            + "; an uploaded XML file is not read as a raster, since XML raster formats "
            "name other files to read"
        )
    raster = read_raster(path, reasons, upload)
    if raster is not None:
        if raster.driver == "GPKG" and path.is_file():
            # GDAL opens a GeoPackage of tiles alone as a raster: its hidden tiles too.
            raster.unread_tables = [
                f"{table}: {why}" for table, why in gpkg_catalogue(path).unread_tiles
            ]
        return raster
    detail = "; ".join(dict.fromkeys(r.replace(str(path), display).strip() for r in reasons if r))
    what = "a format accepted as an upload (one that reads nothing but the upload)"
    raise UnsupportedFormat(
        f"{display}: not a raster or vector dataset "
        + (f"in {what}" if upload else "GDAL can read")
        + (f" ({detail})" if detail else "")
    )


def _vector_source(
    path: Path,
    driver: str,
    layers: list[LayerInfo],
    meta: dict[str, str],
    dataset: VectorDataset | PyogrioDataset,
    upload: UploadScope | None,
) -> OgrVectorSource:
    """The vector source with what its driver does not report read beside its layers."""
    source = OgrVectorSource(path, driver, layers, meta, dataset)
    try:
        _read_beside(source, path, upload)
    except BaseException:
        source.close()
        raise
    return source


def _read_beside(source: OgrVectorSource, path: Path, upload: UploadScope | None) -> None:
    """What the file holds beside the layers its driver reports."""
    driver, layers = source.driver, source.layers
    if driver == "GPKG":
        # On the connection the layers' own tables are read on, when the file is one.
        catalogue = gpkg_catalogue(source.kept() if path.is_file() else path)
        source.metadata_documents = catalogue.metadata_documents
        if path.is_file():
            tables = catalogue.raster_tables
            source.rasters = gpkg_rasters(path, tables, upload)
            read = {r.label for r in source.rasters}
            unopened = [t for t in tables if t not in read]
            # A table of tiles that no reader opens is named with why, whether GDAL lists
            # it as a table without geometry or not at all.
            source.unread_tables = unopened + [
                f"{table}: {why}" for table, why in catalogue.unread_tiles if table not in unopened
            ]
            # The R*Trees the layers' index check walks with their features.
            trees = [t[1] for la in layers if (t := source.index_tables(la.name)) and t[1]]
            hidden = hidden_tables(source.kept(), [la.name for la in layers], [*tables, *trees])
            source.layers = layers = [*layers, *hidden.layers]
            source.unread_geometries += hidden.unread
            source.table_rows.update(hidden.rows)
    if driver == "MBTiles" and path.is_file():
        source.unread_tables = mbtiles_unread_vector_tiles(path, source.metadata)
    if driver == "PMTiles" and path.is_file():
        source.unread_tables = pmtiles_unread_tiles(path, source.metadata)
    if driver == "ESRI Shapefile" and path.is_file():
        # ArcGIS's metadata beside it, read as a metadata document (a declared scale).
        for name in (f"{path.name}.xml", f"{path.name}.XML"):
            document = metadata_document(path.with_name(name))
            if document is not None:
                source.metadata_documents.append(document)
                break
    if driver in GML_DRIVERS and path.is_file():
        source.unread_geometries, parts = unread_gml_geometries(path, layers)
        source.take_unread(parts)
    if driver == "GeoJSON" and path.is_file():
        take_declared_crs(path, layers)
    if driver in ("GeoJSON", "GeoJSONSeq") and path.is_file():
        source.coordinates_members = coordinates_members(path)
        fields = [name for layer in layers for name in layer.fields]
        source.unread_geometries += unread_members(path, fields, sequence=driver == "GeoJSONSeq")
    if driver in KML_DRIVERS:
        read_kml_extras(source)
    if driver == "ESRIJSON" and path.is_file():
        source.take_unread(esrijson_unread_text(path))
    if driver == "JSONFG" and path.is_file():
        source.unread_geometries += geometries_off_their_place(path)
    if driver == "MapInfo File" and path.suffix.lower() == ".mif" and path.is_file():
        source.take_unread(mif_unread_text(path))
    if driver in _XML_READINGS and path.is_file():
        if _is_xml(path):
            source.take_unread(unread_text(path, _XML_READINGS[driver]()))
        elif driver == "OSM":  # a PBF file
            source.take_unread(pbf_unread_text(path))


def _is_xml(path: Path) -> bool:
    """Whether the file is XML (an OSM file may be PBF, read with ``osm_pbf_unread``)."""
    with path.open("rb") as file:
        return file.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
