"""Find the map datasets under folders, by content as well as by name.

Rules, in order, for each file met while walking:

* hidden files, ``._*`` AppleDouble files and ``__MACOSX`` folders are ignored;
* a dataset's parts belong to it (``dataset_parts``, the rule the checker counts them
  by): ``roads.shp`` absorbs ``roads.shx``, ``roads.dbf``, ``roads.prj``, ``roads.cpg``
  and the indexes GDAL reads; a raster's world file, ``.aux.xml`` and the ``.ovr`` GDAL
  opens (``ortho.tif.ovr``) are never datasets. A file that merely shares a dataset's
  name (``roads.csv``, ``ortho.ovr``) is not a part: it is judged on its own, like any
  other. Shapefile parts left without their ``.shp`` (a ``.shx`` or ``.dbf``) become one
  dataset with a ``problem``, which the audit reports as an ``error`` row;
* a file with a dataset suffix of the table in ``formats`` (``.tif``, ``.gpkg``,
  ``.geojson``, ``.zip``, ...; ``.json`` when its content is GeoJSON; a picture with a
  world file beside it) is a dataset whatever its bytes: if it is junk, the check fails
  and the row says why. ``materialize`` picks the dataset of an archive by the same table;
* any other file is sniffed: known magic bytes (TIFF, SQLite, FlatGeobuf, Parquet, JPEG
  2000, HFA), GeoJSON or KML/GML text, a zip holding geodata, and finally a GDAL probe
  that accepts only vector layers with geometry or georeferenced rasters. Files that
  fail every test are not geodata: they are counted as ``ignored`` and get no row;
* a ``.gdb`` folder (File Geodatabase) is one dataset and is not walked into.
"""

from __future__ import annotations

import csv
import os
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compliance.readers.dataset_parts import parts_read
from compliance.readers.formats import (
    ARCHIVE_SUFFIXES,
    DATASET_SUFFIXES,
    SHAPEFILE_PARTS,
    is_dataset_name,
    looks_like_text_geodata,
)

__all__ = ["Dataset", "Discovery", "discover", "read_manifest", "sniff"]

# Never probed with GDAL: common files that are certainly not geodata.
_NOT_GEODATA = frozenset({
    ".md", ".rst", ".html", ".htm", ".css", ".js", ".py", ".pyc", ".pdf", ".doc", ".docx",
    ".xls", ".xlsx", ".ppt", ".pptx", ".log", ".jsonl", ".lock", ".sh", ".yaml", ".yml",
    ".toml", ".ini", ".cfg", ".mp3", ".mp4", ".mov", ".avi", ".exe", ".dll", ".so",
})  # fmt: skip
_MAGIC: tuple[bytes, ...] = (
    b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+",  # TIFF, BigTIFF
    b"SQLite format 3\x00",  # GeoPackage, SpatiaLite, MBTiles
    b"fgb\x03",  # FlatGeobuf
    b"PAR1",  # (Geo)Parquet
    b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xffO\xffQ",  # JPEG 2000
    b"EHFA_HEADER_TAG",  # Erdas Imagine
    b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02",  # HDF5, netCDF
)  # fmt: skip
_HEAD = 4096


@dataclass(frozen=True)
class Dataset:
    """One thing to check: the path the checker opens and every file that belongs to it.

    ``problem`` is set when discovery already knows the dataset cannot be checked
    (shapefile parts without a ``.shp``, a manifest entry that does not exist).
    """

    path: Path
    members: tuple[Path, ...]
    problem: str | None = None


@dataclass
class Discovery:
    """What a walk found: the datasets, in a stable order, and how many files were ignored."""

    datasets: list[Dataset] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _zip_holds_geodata(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    # .json only by content, which a listing does not give.
    return any(Path(n).suffix.lower() in DATASET_SUFFIXES - {".json"} for n in names)


def _gdal_recognises(path: Path, untrusted: bool) -> bool:
    """A vector layer with geometry, or a georeferenced raster: anything else is not a map.
    A third party's file is opened only by the drivers uploads may use: one that only
    another driver reads is ignored (its check would refuse it), never parsed here."""
    from rasterio.errors import RasterioError

    from compliance.readers.formats import UPLOAD_VECTOR_DRIVERS
    from compliance.readers.ogr_layers import has_vector_geometry
    from compliance.readers.rasters import open_raster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if has_vector_geometry(path, UPLOAD_VECTOR_DRIVERS if untrusted else None):
            return True
        try:
            with open_raster(str(path), untrusted) as ds:
                return bool(ds.crs) or not ds.transform.is_identity or bool(ds.gcps[0])
        except (RasterioError, OSError, ValueError):
            return False


def sniff(path: Path, untrusted: bool = False) -> bool:
    """Whether a file of no known geodata extension holds geodata, judged by its content.

    A third party's (``untrusted``) file that points at other files or addresses counts:
    its check then refuses it, and the report names it."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except OSError:
        return False
    if not head:
        return False
    if head.startswith(_MAGIC):
        return True
    if head.startswith(b"PK\x03\x04"):
        return _zip_holds_geodata(path)
    if looks_like_text_geodata(head):
        return True
    if _suffix(path) in _NOT_GEODATA:
        return False
    if untrusted:
        from compliance.errors import UnsupportedFormat
        from compliance.readers.upload_guard import screen_upload

        try:
            screen_upload(path, path.name)
        except UnsupportedFormat:
            return True
    return _gdal_recognises(path, untrusted)


def _group_folder(folder: Path, files: list[Path], found: Discovery, untrusted: bool) -> None:
    """Turn the files of one folder into datasets, each with the parts read with it
    (``dataset_parts``, as the checker counts them); any other file, whatever its name,
    is judged on its own."""
    files = sorted(files)
    listing = {f.name for f in files}
    named = [f for f in files if _suffix(f) in ARCHIVE_SUFFIXES or is_dataset_name(f)]
    parts = {f: parts_read(f, listing) for f in named}
    shapefiles = [f for f in named if _suffix(f) == ".shp"]
    members = {p for shp in shapefiles for p in parts[shp]}
    taken = {p for ps in parts.values() for p in ps}
    shp_stems = {f.stem for f in shapefiles}
    orphans: dict[str, list[Path]] = {}
    for f in files:
        if f in parts:
            if _suffix(f) != ".shp":
                found.datasets.append(Dataset(f, (f,)))
        elif f in members:
            continue
        elif f in taken:  # a raster's part: never a dataset
            found.ignored.append(f)
        elif _suffix(f) in SHAPEFILE_PARTS and _shapefile_stem(f) not in shp_stems:
            orphans.setdefault(_shapefile_stem(f), []).append(f)
        else:
            _judge(f, found, untrusted)
    for shp in shapefiles:
        found.datasets.append(Dataset(shp, tuple(sorted([shp, *parts[shp]]))))
    for group in orphans.values():
        if {_suffix(m) for m in group} & {".shx", ".dbf"}:
            names = ", ".join(m.name for m in group)
            problem = f"shapefile parts without their .shp: {names}"
            found.datasets.append(Dataset(group[0], tuple(group), problem))
        else:
            for f in group:
                _judge(f, found, untrusted)


def _shapefile_stem(path: Path) -> str:
    name = path.name
    return name[: -len(".shp.xml")] if name.lower().endswith(".shp.xml") else path.stem


def _judge(path: Path, found: Discovery, untrusted: bool) -> None:
    """A file no name made a dataset or a part: a dataset when its content is geodata."""
    if _suffix(path) != ".json" and sniff(path, untrusted):
        found.datasets.append(Dataset(path, (path,)))
    else:
        found.ignored.append(path)


def _walk(
    root: Path, recursive: bool, exclude: set[Path], found: Discovery, untrusted: bool
) -> None:
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        keep: list[str] = []
        for d in sorted(dirnames):
            sub = here / d
            if _is_hidden(d) or sub.resolve() in exclude:
                continue
            if d.lower().endswith(".gdb"):
                found.datasets.append(Dataset(sub, tuple(sorted(p for p in sub.iterdir()))))
            elif recursive:
                keep.append(d)
        dirnames[:] = keep
        files = [here / n for n in filenames if not _is_hidden(n)]
        _group_folder(here, [f for f in files if f.is_file()], found, untrusted)


def _explicit_file(path: Path) -> Dataset:
    """A file named on the command line or in a manifest is checked whatever its content."""
    if not path.exists():
        return Dataset(path, (path,), f"{path}: no such file")
    shp = path.with_suffix(".shp")
    if _suffix(path) in SHAPEFILE_PARTS and shp.is_file() and path in parts_read(shp):
        path = shp
    if _suffix(path) == ".shp":
        return Dataset(path, tuple(sorted([path, *parts_read(path)])))
    return Dataset(path, (path,))


def read_manifest(manifest: Path) -> list[Path]:
    """Paths listed in a CSV manifest: a ``path`` column (or the first one), relative to it."""
    with manifest.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    column = header.index("path") if "path" in header else 0
    body = rows[1:] if "path" in header else rows
    out: list[Path] = []
    for row in body:
        if len(row) > column and row[column].strip() and not row[column].startswith("#"):
            p = Path(row[column].strip()).expanduser()
            out.append(p if p.is_absolute() else manifest.parent / p)
    return out


def discover(
    paths: Iterable[str | Path],
    *,
    recursive: bool = True,
    manifest: str | Path | None = None,
    exclude: Iterable[str | Path] = (),
    untrusted: bool = False,
) -> Discovery:
    """Find the datasets under ``paths`` (files or folders) and those a manifest lists.

    Parameters
    ----------
    paths
        Files (always checked) and folders (walked, sniffing each file).
    recursive
        Walk sub-folders; when False only the files directly inside each folder are seen.
    manifest
        A CSV file with a ``path`` column; entries may be files or folders.
    exclude
        Folders never walked into (the audit's own output folder).
    untrusted
        The files are a third party's: sniffing opens files only by the drivers uploads
        may use, and counts a file that points elsewhere as a dataset (its check refuses it).

    Returns
    -------
    Discovery
        Datasets without duplicates, in discovery order, and the ignored files.
    """
    roots = [Path(p) for p in paths]
    if manifest is not None:
        roots.extend(read_manifest(Path(manifest)))
    skip = {Path(p).resolve() for p in exclude}
    found = Discovery()
    for root in roots:
        if root.is_dir() and not root.name.lower().endswith(".gdb"):
            _walk(root, recursive, skip, found, untrusted)
        else:
            found.datasets.append(_explicit_file(root))
    found.datasets = list(_unique(found.datasets))
    return found


def _unique(datasets: list[Dataset]) -> Iterator[Dataset]:
    seen: set[str] = set()
    for ds in datasets:
        key = os.path.abspath(ds.path)
        if key not in seen:
            seen.add(key)
            yield ds
