"""A dataset's parts: the files beside it that are read with it.

A file beside a dataset is one of its parts only when the table of formats names it as a
part of that dataset's format, by its exact name (``roads.dbf``, ``ortho.tif.ovr``; never
``roads.csv``, nor ``ortho.ovr``, which GDAL does not read), and when it is read with the
dataset: by the GDAL driver whenever it is there (a shapefile's ``.dbf``), by mapgate's
own raster reader (the world file it picks), or as GDAL's list of the files it opened for
the dataset says. Any other file beside a dataset is a file of its own, whatever its
name: a check names it unchecked in an archive or a folder, discovery sniffs it like any
other file, and a signed statement does not vouch for it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection
from pathlib import Path

from compliance.readers.formats import Format, Part, format_of, world_file_names

__all__ = ["metadata_document", "named_parts", "parts_read"]


def _names(part: Part, name: str, stem: str, suffix: str) -> list[str]:
    """The names ``part`` may have beside the dataset ``name`` (``stem`` + ``suffix``), in
    the order its readers try them."""
    base = name if part.whole_name else stem
    endings = world_file_names(suffix) if part.world_file else [part.suffix]
    upper_first = suffix.isupper()
    names: list[str] = []
    for ending in endings:
        cases = (
            (ending.upper(), ending.lower()) if upper_first else (ending.lower(), ending.upper())
        )
        names += [base + e for e in cases if base + e not in names]
    return names


def _present(dataset: Path, fmt: Format, listing: Collection[str] | None) -> dict[Part, list[Path]]:
    """Each part of the format, with the files so named that are beside ``dataset``."""
    folder, name, stem, suffix = dataset.parent, dataset.name, dataset.stem, dataset.suffix

    def exists(part_name: str) -> bool:
        return part_name in listing if listing is not None else (folder / part_name).is_file()

    return {
        part: [folder / n for n in _names(part, name, stem, suffix) if exists(n)]
        for part in fmt.parts
    }


def named_parts(dataset: Path, listing: Collection[str] | None = None) -> list[Path]:
    """The files beside ``dataset`` that the table names as parts of its format, read or
    not: what a dataset's digest covers, known without opening it.

    ``listing``: the names of the files in the dataset's folder, when the caller has them.
    """
    fmt = format_of(dataset)
    if fmt is None:
        return []
    return sorted({f for files in _present(dataset, fmt, listing).values() for f in files})


def parts_read(dataset: Path, listing: Collection[str] | None = None) -> list[Path]:
    """The parts of ``dataset`` read with it (see the module's docstring), in name order.

    GDAL is asked only when a part whose reading it alone can tell is there (an ``.ovr``,
    a shapefile's ``.sbn``); when it cannot tell (the dataset does not open), such a part
    is not counted.
    """
    fmt = format_of(dataset)
    if fmt is None:
        return []
    present = _present(dataset, fmt, listing)
    read: set[Path] = set()
    for reader in ("driver", "mapgate", "GDAL's list", "metadata"):
        candidates = {p: files for p, files in present.items() if files and p.read == reader}
        if not candidates:
            continue
        if reader == "driver":  # the first name that exists is the one the driver opens
            read |= {files[0] for files in candidates.values()}
        elif reader == "mapgate":
            read |= _read_by_mapgate(dataset) & {f for fs in candidates.values() for f in fs}
        elif reader == "metadata":
            read |= {f for fs in candidates.values() for f in fs[:1] if metadata_document(f)}
        else:
            listed = _listed(dataset, fmt)
            read |= {f for fs in candidates.values() for f in _in_list(fs, listed)}
    return sorted(read)


_MAX_METADATA = 16 << 20


def metadata_document(path: Path) -> str | None:
    """The text of ``path`` when it is a metadata document beside a dataset (ArcGIS's
    ``.shp.xml``): XML of at most 16 MiB that no vector driver an upload may use reads
    as data with geometry (a GML or KML so named is a dataset of its own); else None."""
    from compliance.readers.formats import UPLOAD_VECTOR_DRIVERS
    from compliance.readers.ogr_layers import has_vector_geometry

    try:
        if path.stat().st_size > _MAX_METADATA:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    if not raw.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        return None
    if has_vector_geometry(path, UPLOAD_VECTOR_DRIVERS):
        return None
    return raw.decode("utf-8", errors="replace")


def _read_by_mapgate(image: Path) -> set[Path]:
    """The sidecars mapgate's raster reader opens beside ``image`` itself."""
    from compliance.readers.raster_sidecars import prj_file, world_file

    # The .aux.xml by its one name, as the reader and GDAL's PAM open it (callers keep only
    # the files that are there).
    found = {world_file(image), prj_file(image), image.with_name(image.name + ".aux.xml")}
    return {f for f in found if f is not None}


def _in_list(files: list[Path], listed: set[Path]) -> list[Path]:
    """Those of ``files`` GDAL listed. GDAL's shapefile driver lists a part by the name it
    derived (``roads.shx``) even when it opened the other case (``roads.SHX``)."""
    exact = [f for f in files if f in listed]
    if exact:
        return exact
    folded = {str(p).casefold() for p in listed}
    return [f for f in files if str(f).casefold() in folded][:1]


def _listed(dataset: Path, fmt: Format) -> set[Path]:
    """The files beside ``dataset`` that GDAL lists as opened for it; none when it cannot
    open the dataset (with the drivers an upload may use) or cannot be asked."""
    names = _raster_files(dataset) if fmt.raster else _vector_files(dataset)
    folder = Path(os.path.abspath(dataset.parent))
    beside = (Path(os.path.abspath(n)) for n in names)
    return {dataset.parent / p.name for p in beside if p.parent == folder}


def _raster_files(dataset: Path) -> list[str]:
    from rasterio.errors import RasterioError

    from compliance.readers.rasters import open_raster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with open_raster(str(dataset), upload=True) as ds:
                return list(ds.files)
        except (RasterioError, OSError, ValueError):
            return []


def _vector_files(dataset: Path) -> list[str]:
    """The files GDAL opens for ``dataset`` as vector data (with the drivers an upload may
    use); none when it cannot open it, or when pyogrio's GDAL cannot be asked."""
    import pyogrio

    from compliance.readers.formats import UPLOAD_VECTOR_DRIVERS
    from compliance.readers.gdal_dataset import VectorDataset, open_vector
    from compliance.readers.sources import READ_ONLY

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset_ = open_vector(dataset, READ_ONLY, UPLOAD_VECTOR_DRIVERS)
        except (pyogrio.errors.DataSourceError, OSError):
            return []
    try:
        return dataset_.files() if isinstance(dataset_, VectorDataset) else []
    finally:
        dataset_.close()
