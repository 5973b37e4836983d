"""The one table of formats: file suffixes, sidecars and GDAL driver sets.

Every other reader derives what it needs from here: ``discover`` (which files of a folder
are datasets), ``materialize`` (which file of an unpacked archive is the dataset, which
zips are read in place), ``unchecked_files`` (which files beside a dataset are its own),
and the readers (which drivers hold one layer, one geometry field, which may read an
upload). A suffix known to one and not the other would let a dataset be found and not
accepted, or accepted and not found; ``docs/formats.md`` lists the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "ARCHIVE_SUFFIXES",
    "DATASET_SUFFIXES",
    "FORMATS",
    "GML_DRIVERS",
    "KML_DRIVERS",
    "PICTURE_DRIVERS",
    "PICTURE_SUFFIXES",
    "RASTER_SIDECARS",
    "READ_IN_PLACE",
    "SHAPEFILE_PARTS",
    "SINGLE_GEOMETRY_DRIVERS",
    "SINGLE_LAYER_DRIVERS",
    "UPLOAD_RASTER_DRIVERS",
    "UPLOAD_VECTOR_DRIVERS",
    "WORLD_FILE_SUFFIXES",
    "Format",
    "all_suffixes",
    "is_dataset_name",
    "is_raster_sidecar",
    "looks_like_text_geodata",
    "world_file_names",
]

Role = Literal["dataset", "picture", "archive", "spreadsheet", "shapefile part", "sidecar"]


@dataclass(frozen=True)
class Format:
    """One format as the readers know it.

    ``role`` says what a file of it is: a ``dataset`` (found by name in a folder, picked by
    name in an archive); a ``picture`` (a dataset only with a world file beside it); an
    ``archive`` (unpacked, and the dataset in it checked); a ``spreadsheet`` (a zip GDAL
    reads in place when named, never found by name); a ``shapefile part`` or a raster
    ``sidecar`` (read with the dataset beside it, never a dataset of its own).
    """

    name: str
    suffixes: tuple[str, ...]
    role: Role
    # Only when its content says so: ``.json`` is too common to be GeoJSON by name alone.
    by_content: bool = False
    # A folder, not a file (a File Geodatabase): one dataset, never walked into.
    folder: bool = False
    # A zip that is a format of its own: GDAL reads it in place, it is not unpacked.
    zipped: bool = False


FORMATS: tuple[Format, ...] = (
    Format("ESRI Shapefile", (".shp",), "dataset"),
    Format("GeoPackage", (".gpkg",), "dataset"),
    Format("GeoJSON", (".geojson",), "dataset"),
    Format("GeoJSON named .json", (".json",), "dataset", by_content=True),
    Format("GeoJSON sequence", (".geojsonl", ".geojsons"), "dataset"),
    Format("TopoJSON", (".topojson",), "dataset"),
    Format("FlatGeobuf", (".fgb",), "dataset"),
    Format("KML", (".kml",), "dataset"),
    Format("KMZ", (".kmz",), "dataset", zipped=True),
    Format("GML", (".gml",), "dataset"),
    Format("GPX", (".gpx",), "dataset"),
    Format("GeoParquet", (".parquet", ".geoparquet"), "dataset"),
    Format("SQLite / SpatiaLite", (".sqlite",), "dataset"),
    Format("MBTiles", (".mbtiles",), "dataset"),
    Format("PMTiles", (".pmtiles",), "dataset"),
    Format("File Geodatabase", (".gdb",), "dataset", folder=True),
    Format("File Geodatabase table", (".gdbtable",), "dataset"),
    Format("GeoTIFF", (".tif", ".tiff", ".gtiff"), "dataset"),
    Format("GDAL VRT", (".vrt",), "dataset"),
    Format("Erdas Imagine", (".img",), "dataset"),
    Format("JPEG 2000", (".jp2",), "dataset"),
    Format("SRTM HGT", (".hgt",), "dataset"),
    Format("Arc/Info ASCII grid", (".asc",), "dataset"),
    Format("NITF", (".ntf",), "dataset"),
    Format("USGS DEM", (".dem",), "dataset"),
    Format("ECW", (".ecw",), "dataset"),
    Format("MrSID", (".sid",), "dataset"),
    Format("Picture with a world file", (".png", ".jpg", ".jpeg", ".gif", ".bmp"), "picture"),
    Format("Zip archive", (".zip",), "archive"),
    Format("Spreadsheet", (".xlsx", ".ods"), "spreadsheet", zipped=True),
    Format(
        "Shapefile part",
        (
            ".shx",
            ".dbf",
            ".prj",
            ".cpg",
            ".sbn",
            ".sbx",
            ".qix",
            ".fbn",
            ".fbx",
            ".ain",
            ".aih",
            ".atx",
            ".ixs",
            ".mxs",
            ".qmd",
            ".sld",
            ".fix",
            ".xml",
        ),
        "shapefile part",
    ),  # fmt: skip
    Format(
        "Raster sidecar",
        (
            ".aux.xml",
            ".ovr",
            ".aux",
            ".rrd",
            ".tfwx",
            ".msk",
            ".xml",
            ".prj",
            ".hdr",
            ".rpb",
            ".imd",
        ),
        "sidecar",
    ),  # fmt: skip
)

# Images GDAL places by a world file beside them: its name is the image's suffix's first
# and last letters plus ``w`` (``.tfw``), the suffix plus ``w`` (``.tifw``), or ``.wld``.
_WORLD_FILE_IMAGES = (".tif", ".tiff", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".jp2")


def world_file_names(suffix: str) -> list[str]:
    """The world-file suffixes GDAL looks for beside an image of ``suffix``, in its order."""
    ext = suffix.lstrip(".")
    if not ext:
        return []
    return ["." + ext[0] + ext[-1] + "w", "." + ext + "w", ".wld"]


def _of(role: Role) -> frozenset[str]:
    return frozenset(s for f in FORMATS if f.role == role for s in f.suffixes)


WORLD_FILE_SUFFIXES = frozenset(n.lower() for s in _WORLD_FILE_IMAGES for n in world_file_names(s))
# Found by name in a folder and picked by name in an unpacked archive (``.json`` by content).
DATASET_SUFFIXES = _of("dataset")
PICTURE_SUFFIXES = _of("picture")
ARCHIVE_SUFFIXES = _of("archive")
READ_IN_PLACE = frozenset(s for f in FORMATS if f.zipped for s in f.suffixes)
SHAPEFILE_PARTS = _of("shapefile part")
RASTER_SIDECARS = (_of("sidecar") - {".aux.xml"}) | WORLD_FILE_SUFFIXES


def all_suffixes() -> frozenset[str]:
    """Every suffix the table names (world files included), as the docs must list them."""
    return frozenset(s for f in FORMATS for s in f.suffixes) | WORLD_FILE_SUFFIXES


def is_raster_sidecar(name: str) -> bool:
    """Whether a file name is a raster's sidecar (``.aux.xml``, overviews, world files...)."""
    lower = name.lower()
    return lower.endswith(".aux.xml") or Path(lower).suffix in RASTER_SIDECARS


_TEXT_MARKERS = (
    '"FeatureCollection"', '"Feature"', '"coordinates"', '"Topology"', "<kml", "<gml:",
    "<VRTDataset", "<gpx", "ncols",
)  # fmt: skip
_HEAD = 4096


def looks_like_text_geodata(head: bytes) -> bool:
    """Whether a file's first bytes read as GeoJSON, TopoJSON, KML, GML, GPX, VRT or a grid."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if not text or text[0] not in "{<n[":
        return False
    return any(marker in text for marker in _TEXT_MARKERS)


def _has_world_file(path: Path) -> bool:
    # The names GDAL tries, in lower and upper case, as ``raster_sidecars`` reads them.
    return any(
        path.with_suffix(variant).is_file()
        for w in world_file_names(path.suffix)
        for variant in (w.lower(), w.upper())
    )


def is_dataset_name(path: Path) -> bool:
    """Whether ``path`` is a dataset by the table: its suffix, a ``.json`` whose content is
    GeoJSON, or a picture with a world file beside it. Archives are not: they hold one."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            with path.open("rb") as f:
                return looks_like_text_geodata(f.read(_HEAD))
        except OSError:
            return False
    if suffix in PICTURE_SUFFIXES:
        return path.is_file() and _has_world_file(path)
    return suffix in DATASET_SUFFIXES


# GDAL drivers. Formats whose single-file sources hold exactly one layer: the first layer's
# description is the whole listing, which saves parsing a GeoJSON file a third time.
SINGLE_LAYER_DRIVERS = frozenset({"GeoJSON", "GeoJSONSeq", "FlatGeobuf", "ESRI Shapefile"})
# Drivers whose layers hold one geometry field at most. Others (GML, NAS, SQLite, CSV, OGR
# VRT, Arrow, Interlis...) may hold several, of which pyogrio names only the first.
SINGLE_GEOMETRY_DRIVERS = SINGLE_LAYER_DRIVERS | {
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
GML_DRIVERS = frozenset({"GML", "NAS"})
KML_DRIVERS = frozenset({"LIBKML", "KML"})
# Picture formats only, for the images a KML drapes: a VRT (or any format that names other
# files) renamed .png must not make the checker read files on this machine or fetch
# addresses it names. Tried in this order, each by name.
PICTURE_DRIVERS = ("PNG", "JPEG", "GTiff", "GIF", "BMP", "WEBP", "JP2OpenJPEG")

# Vector formats that read one file, or a folder of one dataset's own files: the only
# drivers an upload is read with (see ``upload_guard``).
UPLOAD_VECTOR_DRIVERS = frozenset(
    {
        "CSV",
        "DGN",
        "DXF",
        "ESRI Shapefile",
        "ESRIJSON",
        "FlatGeobuf",
        "GML",
        "GPKG",
        "GPX",
        "GeoJSON",
        "GeoJSONSeq",
        "GeoRSS",
        "JSONFG",
        "KML",
        "LIBKML",
        "MBTiles",
        "MVT",
        "MapInfo File",  # its seamless tables, which name other tables, are screened
        "ODS",
        "OSM",
        "OpenFileGDB",
        "PMTiles",
        "S57",
        "SQLite",  # its virtual tables are screened
        "TopoJSON",
        "XLSX",
    }
)
# Raster formats whose header names no other file but its own sidecars (same base name).
UPLOAD_RASTER_DRIVERS = frozenset(
    {
        "AAIGrid",
        "BMP",
        "BT",
        "BYN",
        "BIGGIF",
        "COG",
        "CTable2",
        "DTED",
        "EHdr",
        "ENVI",
        "GIF",
        "GPKG",
        "GRASSASCIIGrid",
        "GRIB",
        "GS7BG",
        "GSAG",
        "GSBG",
        "GTX",
        "GTiff",
        "HF2",
        "HFA",  # may name a spill file: the files it opened are checked after opening
        "ISG",
        "JP2OpenJPEG",
        "JPEG",
        "KRO",
        "LCP",
        "Leveller",
        "MBTiles",
        "NGSGEOID",
        "NITF",
        "NTv2",
        "PNG",
        "PNM",
        "RRASTER",
        "RST",
        "SAGA",
        "SIGDEM",
        "SRTMHGT",
        "Terragen",
        "USGSDEM",
        "WEBP",
        "XYZ",
        "ZMap",
        "netCDF",
    }
)
