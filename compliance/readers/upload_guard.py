"""What an upload may be read with: GDAL drivers that read the upload and nothing else.

Some formats are pointers: their text names other files or addresses, and GDAL follows
them as soon as the file is opened. A PDS or ERS label names its image file by any path,
``../../`` included; a GDALG file runs a pipeline over whatever files it names; a WFS
description calls its server; a table of an SQLite file can be a VirtualOGR table over any
file GDAL reads. Read from an upload, they make the checker open files on its own machine
or call addresses on its network, chosen by the uploader, and report what it found there
(fields, counts, extents, or only whether the file exists).

So an upload is read only by drivers on a list of formats (``formats.UPLOAD_*_DRIVERS``) that read the upload alone (its
own sidecars included), and a format not on the list is refused: fail closed, since GDAL
gains drivers with every release. Within those formats, the few ways to point elsewhere
that remain are screened from the content before GDAL sees it (a GeoJSON's CRS given as
a link, which GDAL fetches, among them). Both opens take the list (rasterio's, and
``gdal_dataset.open_vector``'s own call to GDAL), so a driver off it never parses an
upload; where pyogrio answers instead (its GDAL library not identified), a vector driver
off the list is refused after opening. A process that reads nothing but uploads (the
HTTP service, an untrusted audit's workers) also unregisters every other vector driver:
nothing in it can open a file with them by any path.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from compliance.errors import UnsupportedFormat
from compliance.readers.formats import UPLOAD_VECTOR_DRIVERS
from compliance.readers.geojson_crs import crs_member, is_link
from compliance.readers.gpkg_sql import RTREE_SQL, sqlite_rows
from compliance.readers.raw.sqlite_pages import SQLITE_MAGIC

__all__ = [
    "UploadScope",
    "heads",
    "refuse_driver",
    "refuse_outside_files",
    "restrict_process_to_upload_drivers",
    "screen_upload",
]

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Descriptions of other datasets.
_POINTER_TAGS = (
    b"<VRTDataset",
    b"<OGRVRTDataSource",
    b"<GDALTileIndexDataset",
    b"<OGRWFSDataSource",
)
# A GDALG file is JSON whose "type" is this; GDAL runs its command line when it opens it.
_GDALG_MARK = b'"gdal_streamed_alg"'
_HEAD_BYTES = 512
_SCAN_BYTES = 1 << 20


def heads(path: Path) -> Iterator[bytes]:
    """The first bytes of a file (or of each file in a folder), as text would start:
    without a byte-order mark, UTF-16's zero bytes, leading blank space or XML declaration."""
    for file in _files(path):
        with file.open("rb") as f:
            head = f.read(_HEAD_BYTES)
        for bom in _BOMS:
            head = head.removeprefix(bom)
        head = head.translate(None, b"\x00").lstrip(b" \t\r\n")
        end = head.find(b"?>") if head.startswith(b"<?xml") else -1
        yield head[end + 2 :].lstrip() if end >= 0 else head


def screen_upload(path: Path, display: str) -> None:
    """Refuse an upload whose content points at other files or addresses.

    Raises
    ------
    UnsupportedFormat
        The upload is, or holds, a description of other data.
    """
    for file in _files(path):
        with file.open("rb") as f:
            start = f.read(_SCAN_BYTES)
        # GDAL finds these tags anywhere in a file's first bytes, after a comment too; the
        # zero bytes go so that UTF-16 text reads as the tags do (``translate`` deletes them
        # at a tenth of ``replace``'s cost in a binary file that is mostly zeros).
        text = start.translate(None, b"\x00")
        # Each tag opens with "<", which is found at memchr's speed; a tag, at a tenth.
        if b"<" in text and any(tag in text for tag in _POINTER_TAGS):
            _refuse(
                display, "it describes other files or a server to read (a VRT or WFS description)"
            )
        if _GDALG_MARK in text or file.name.lower().endswith(".gdalg.json"):
            _refuse(display, "it is a GDALG pipeline, which reads the files it names")
        if start.startswith(SQLITE_MAGIC):
            _screen_sqlite(file, display)
        member = crs_member(start)
        if member is not None and is_link(member):
            _refuse(display, "its crs member is a link, an address GDAL would fetch")
        if file.suffix.lower() == ".tab" and b"isseamless" in text.lower():
            _refuse(display, "it is a MapInfo seamless table, which names other tables to read")


def refuse_driver(driver: str, display: str) -> None:
    """Refuse an upload that only a vector driver off the upload list would read."""
    if driver not in UPLOAD_VECTOR_DRIVERS:
        _refuse(
            display,
            f"{driver} is not among the formats accepted as uploads, which are those that "
            "read nothing but the uploaded file",
        )


def refuse_outside_files(files: Iterable[str], root: Path, display: str) -> None:
    """Refuse an upload that made GDAL open files outside its own folder."""
    inside = root.resolve()
    for name in files:
        if not Path(name).resolve().is_relative_to(inside):
            _refuse(display, "its header names a file outside the upload")


@dataclass(frozen=True)
class UploadScope:
    """How an upload is opened: by the upload drivers only, and within its own folder."""

    root: Path
    display: str

    def check_files(self, files: list[str]) -> None:
        refuse_outside_files(files, self.root, self.display)


def restrict_process_to_upload_drivers() -> None:
    """Unregister, in this process, every vector driver not on the upload list, and send
    GDAL's web requests nowhere.

    For a process that reads only uploads: a driver that acts when a file is opened
    (GDALG, WFS) then never runs, whatever an upload holds. GDAL skips the drivers named
    in GDAL_SKIP when its drivers are registered, so they are registered again. Requests
    that a listed format can still make (the screens above know of a GeoJSON's linked CRS
    and a GML's WFS schema) go through a proxy that refuses every connection, in both of
    the process's GDALs: no address an upload names is called. NO_PROXY is cleared from
    the environment, which would exempt the hosts it lists (curl reads it at each request).

    Raises
    ------
    RuntimeError
        A driver off the list is still registered (its name has a space, which GDAL_SKIP
        cannot name); the process must not go on reading uploads.
    """
    import pyogrio
    import rasterio.env
    from pyogrio import _ogr  # pyogrio has no public call that registers drivers again

    others = sorted(set(pyogrio.list_drivers()) - UPLOAD_VECTOR_DRIVERS)
    pyogrio.set_gdal_config_options({"GDAL_SKIP": " ".join(others), **_NO_WEB})
    _ogr._register_drivers()
    for key, value in _NO_WEB.items():
        rasterio.env.set_gdal_config(key, value)
    for name in ("NO_PROXY", "no_proxy"):
        os.environ.pop(name, None)
    left = sorted(set(pyogrio.list_drivers()) - UPLOAD_VECTOR_DRIVERS)
    if left:
        raise RuntimeError(f"GDAL drivers that uploads must not reach are still registered: {left}")


# A proxy on a port nothing listens on: every request GDAL makes fails at once.
_NO_WEB = {"GDAL_HTTP_PROXY": "127.0.0.1:1", "GDAL_HTTP_MAX_RETRY": "0"}


def _screen_sqlite(file: Path, display: str) -> None:
    # A virtual table has no pages of its own (rootpage 0), however its SQL is written.
    try:
        virtual = sqlite_rows(
            file, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND rootpage = 0"
        )
    except sqlite3.Error as exc:
        _refuse(display, f"its SQLite schema cannot be read to be screened ({exc})")
    for name, sql in virtual:
        # The only virtual tables a spatial SQLite file needs: its R-tree spatial indexes.
        if not RTREE_SQL.match(str(sql or "")):
            _refuse(
                display,
                f"its SQLite table {name!r} is a virtual table other than a spatial index, "
                "which can read other files",
            )


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def _refuse(display: str, why: str) -> None:
    raise UnsupportedFormat(
        f"{display}: refused as an upload: {why}; an upload may not make the "
        "checker read other files or addresses"
    )
