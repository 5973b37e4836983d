"""The one table of formats: file suffixes, the parts beside a dataset, GDAL driver sets.

Every other reader derives what it needs from here: ``discover`` (which files of a folder
are datasets), ``materialize`` (which file of an unpacked archive is the dataset, which
zips are read in place), ``dataset_parts`` (which files beside a dataset are its own,
for ``unchecked_files``, discovery and a statement's subjects), and the readers (which
drivers hold one layer, one geometry field, which may read an upload). A suffix known to
one and not the other would let a dataset be found and not accepted, or accepted and not
found; ``docs/formats.md`` lists the same table.
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
    "Part",
    "all_suffixes",
    "format_of",
    "is_dataset_name",
    "looks_like_text_geodata",
    "world_file_names",
]

Role = Literal["dataset", "picture", "archive", "spreadsheet", "shapefile part", "sidecar"]
Reader = Literal["driver", "mapgate", "GDAL's list", "metadata"]


@dataclass(frozen=True)
class Part:
    """A file a dataset of some format may have beside it, read with it.

    Its name is the dataset's stem and ``suffix`` (``roads.dbf``) or, with ``whole_name``,
    the dataset's whole name and ``suffix`` (``ortho.tif.ovr``); a ``world_file``'s suffix
    follows the image's (``world_file_names``). Readers look for each suffix in the
    dataset suffix's case first, then in the other (``.dbf``, then ``.DBF``).

    ``read`` says when a file so named is one: ``driver``, always, since the GDAL driver
    opens the first such name that exists whenever it opens the dataset (a shapefile's
    ``.dbf``); ``mapgate``, when it is the one mapgate's raster reader opens itself (the
    world file it picks, see ``raster_sidecars``); ``GDAL's list``, only when GDAL names it
    among the files it opened for the dataset (an ``.ovr`` it could read as overviews).
    """

    suffix: str
    read: Reader
    whole_name: bool = False
    world_file: bool = False


@dataclass(frozen=True)
class Format:
    """One format as the readers know it.

    ``role`` says what a file of it is: a ``dataset`` (found by name in a folder, picked by
    name in an archive); a ``picture`` (a dataset only with a world file beside it); an
    ``archive`` (unpacked, and the dataset in it checked); a ``spreadsheet`` (a zip GDAL
    reads in place when named, never found by name); a ``shapefile part`` or a raster
    ``sidecar`` (a file that goes with a dataset, never a dataset by its name). Which files
    beside a dataset are its own is its format's ``parts``: the name alone never makes one.
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
    # The files beside a dataset of this format that are its own (see ``dataset_parts``).
    parts: tuple[Part, ...] = ()
    # Read as a raster: GDAL's list of the files it opened comes from rasterio.
    raster: bool = False


# A shapefile's parts GDAL's driver reads, and ArcGIS's ``.shp.xml`` metadata, which the
# readers read as a metadata document when it is one (XML that no driver opens as data).
# Others often sent with it (ArcGIS's ``.atx`` or ``.fix`` indexes, a QGIS ``.qmd``) are
# read by nothing: such a file is a file of its own, like any other beside the dataset.
_SHAPEFILE_PARTS_READ = (
    Part(".shx", "driver"),
    Part(".dbf", "driver"),
    Part(".prj", "driver"),
    Part(".cpg", "driver"),
    Part(".qix", "driver"),
    # Spatial indexes GDAL reads only when valid and there is no .qix.
    Part(".sbn", "GDAL's list"),
    Part(".sbx", "GDAL's list"),
    Part(".xml", "metadata", whole_name=True),
)
# A raster's parts, as GDAL names them beside ``ortho.tif``: ``ortho.tif.ovr``, never
# ``ortho.ovr``, which GDAL does not read.
_RASTER_PARTS = (
    Part("", "mapgate", world_file=True),
    Part(".prj", "mapgate"),
    Part(".aux.xml", "mapgate", whole_name=True),
    Part(".ovr", "GDAL's list", whole_name=True),
    Part(".msk", "GDAL's list", whole_name=True),
    Part(".aux", "GDAL's list"),
    Part(".rrd", "GDAL's list"),
    Part(".hdr", "GDAL's list"),
    Part(".rpb", "GDAL's list"),
    Part(".imd", "GDAL's list"),
    Part(".xml", "GDAL's list"),
)


def _raster(name: str, suffixes: tuple[str, ...], role: Role = "dataset") -> Format:
    return Format(name, suffixes, role, parts=_RASTER_PARTS, raster=True)


FORMATS: tuple[Format, ...] = (
    Format("ESRI Shapefile", (".shp",), "dataset", parts=_SHAPEFILE_PARTS_READ),
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
    _raster("GeoTIFF", (".tif", ".tiff", ".gtiff")),
    _raster("GDAL VRT", (".vrt",)),
    _raster("Erdas Imagine", (".img",)),
    _raster("JPEG 2000", (".jp2",)),
    _raster("SRTM HGT", (".hgt",)),
    _raster("Arc/Info ASCII grid", (".asc",)),
    _raster("NITF", (".ntf",)),
    _raster("USGS DEM", (".dem",)),
    _raster("ECW", (".ecw",)),
    _raster("MrSID", (".sid",)),
    _raster("Picture with a world file", (".png", ".jpg", ".jpeg", ".gif", ".bmp"), "picture"),
    Format("Zip archive", (".zip",), "archive"),
    Format("Spreadsheet", (".xlsx", ".ods"), "spreadsheet", zipped=True),
    # Files that go with a dataset, never one by their name (nor an upload's main file).
    # Which of them a dataset's check reads, and so count as its own, is its ``parts``.
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


def format_of(path: Path) -> Format | None:
    """The dataset or picture format a file is by its suffix; None for any other file."""
    return _BY_SUFFIX.get(path.suffix.lower())


_BY_SUFFIX = {s: f for f in FORMATS if f.role in ("dataset", "picture") for s in f.suffixes}


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
