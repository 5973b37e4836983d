"""Stream a multipart upload to temporary files, cutting it off as soon as it passes the limit.

Several ``file`` parts are one dataset sent in pieces: a shapefile's .shp, .shx, .dbf and
.prj, or a raster with its world file. They land in one private folder under their own
names, and the check opens the dataset's main file with the rest beside it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import (
    MultipartParseError,
    MultipartParser,
    MultipartState,
    parse_options_header,
)
from starlette.requests import Request

from api.problems import Problem
from compliance.isolation.pool import mark_temp_dir
from compliance.readers.formats import RASTER_SIDECARS, SHAPEFILE_PARTS

__all__ = [
    "FILE_FIELD", "FRAMING_ALLOWANCE", "MAX_NAME_BYTES", "MAX_PARTS", "SHAPEFILE_NEEDS",
    "TEMP_PREFIX", "Upload", "dataset_part", "receive_upload", "safe_filename",
]  # fmt: skip

FILE_FIELD = "file"
TEMP_PREFIX = "mapgate-upload-"
# Room for multipart framing and the small form fields on top of the file's own limit.
FRAMING_ALLOWANCE = 64 * 1024
MAX_PARTS = 16
# A kept file name's UTF-8 bytes: under the 255 most file systems allow, with room for the
# sidecars a reader may write beside it (``.aux.xml``, ``.ovr``).
MAX_NAME_BYTES = 200
# A shapefile without these cannot be read whole: its geometry index and its attributes.
SHAPEFILE_NEEDS = (".shx", ".dbf")
# Parts that only describe another part: never a dataset of their own (readers.formats).
_SIDECAR_SUFFIXES = SHAPEFILE_PARTS | RASTER_SIDECARS


@dataclass
class Upload:
    """An uploaded file on local disk plus the form's text fields. Call ``remove()`` when done."""

    path: Path
    directory: Path
    filename: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)
    removed: bool = False

    def remove(self) -> None:
        """Delete the file, its directory and anything the check left beside it."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self.removed = True


def safe_filename(raw: str | None) -> str:
    """The base name of a client-supplied filename, without path parts or control characters."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in {".", ".."}:
        name = ""
    return _last_utf8_bytes(name, MAX_NAME_BYTES) or "upload"


def _last_utf8_bytes(name: str, limit: int) -> str:
    """The end of ``name`` (where its suffix is) in at most ``limit`` UTF-8 bytes, cut
    between characters: file systems count a name's bytes (255 on most), not its
    characters, and a Hangul syllable or an emoji takes 3 or 4 of them."""
    kept = 0
    for start in range(len(name) - 1, -1, -1):
        kept += len(name[start].encode("utf-8", "surrogatepass"))
        if kept > limit:
            return name[start + 1 :].strip()
    return name


class _FormReader:
    """Callbacks for ``MultipartParser``: one file part to disk, small text parts to memory."""

    def __init__(self, max_bytes: int, max_field_bytes: int, tmp_dir: Path | None) -> None:
        self.max_bytes = max_bytes
        self.max_field_bytes = max_field_bytes
        self.tmp_dir = tmp_dir
        self.fields: dict[str, str] = {}
        self.names: list[str] = []
        self.directory: Path | None = None
        self.size = 0
        self.error: Problem | None = None
        self.parts = 0
        self._file: BinaryIO | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._field: str | None = None
        self._buffer = bytearray()
        self._to_file = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_val,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def fail(self, status: int, detail: str) -> None:
        if self.error is None:
            self.error = Problem(status, detail)

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.fail(422, f"at most {MAX_PARTS} form fields are accepted")
        self._headers, self._header_name, self._header_value = {}, b"", b""
        self._field, self._to_file = None, False
        self._buffer = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_val(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            self.fail(400, "a form part has no name")
            return
        self._field = name.decode("utf-8", "replace")
        if self._field == FILE_FIELD:
            raw = options.get(b"filename")
            filename = safe_filename(raw.decode("utf-8", "replace") if raw else None)
            if filename.lower() in {n.lower() for n in self.names}:
                self.fail(422, f"two '{FILE_FIELD}' parts are both named {filename!r}")
                return
            self._open_file(filename)

    def _open_file(self, name: str) -> None:
        # A private directory keeps the client's file names, which the library reads (layer
        # names, format detection, a shapefile's parts), without any chance of clashing
        # with another upload. Its name carries this process's id: after a kill -9 the
        # next start removes it.
        if self.directory is None:
            self.directory = mark_temp_dir(TEMP_PREFIX, self.tmp_dir)
        self.names.append(name)
        self._file = (self.directory / name).open("xb")
        self._to_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        n = end - start
        if self._to_file:
            self.size += n  # every part together: one dataset, one limit
            if self.size > self.max_bytes:
                self.fail(413, f"the upload is larger than the limit of {self.max_bytes} bytes")
                return
            assert self._file is not None
            self._file.write(data[start:end])
        elif self._field is not None:
            if len(self._buffer) + n > self.max_field_bytes:
                self.fail(422, f"form field '{self._field}' is over {self.max_field_bytes} bytes")
                return
            self._buffer += data[start:end]

    def _part_end(self) -> None:
        if self._to_file:
            self._close_file()
        elif self._field is not None and self.error is None:
            self.fields[self._field] = self._buffer.decode("utf-8", "replace")

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._to_file = False

    def discard(self) -> None:
        """Close and delete whatever was written."""
        self._close_file()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def _boundary(request: Request) -> bytes:
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data":
        raise Problem(415, "send the file as multipart/form-data with a 'file' field")
    boundary = options.get(b"boundary")
    if not boundary:
        raise Problem(400, "the multipart content type has no boundary")
    return boundary


def _check_length(request: Request, limit: int) -> None:
    length = request.headers.get("content-length")
    if length is None:
        return
    if not length.isdigit():
        raise Problem(400, "invalid Content-Length")
    if int(length) > limit + FRAMING_ALLOWANCE:
        raise Problem(413, f"the upload is larger than the limit of {limit} bytes")


async def receive_upload(
    request: Request, *, max_bytes: int, max_field_bytes: int, tmp_dir: Path | None = None
) -> Upload:
    """Read the request body as a form whose ``file`` part goes to a temporary file.

    Raises
    ------
    Problem
        415 not multipart, 400 malformed, 413 over ``max_bytes`` (raised as soon as the
        limit is passed, before the rest of the body is read), 422 missing or extra parts.
    """
    boundary = _boundary(request)
    _check_length(request, max_bytes)
    reader = _FormReader(max_bytes, max_field_bytes, tmp_dir)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes + FRAMING_ALLOWANCE:
                reader.fail(413, f"the upload is larger than the limit of {max_bytes} bytes")
            else:
                parser.write(chunk)
            if reader.error is not None:
                raise reader.error
        parser.finalize()
        if reader.error is not None:
            raise reader.error
        if not reader.names:
            raise Problem(422, f"the form has no '{FILE_FIELD}' part")
        if parser.state != MultipartState.END:
            raise Problem(400, "the multipart body ended before its closing boundary")
        main = dataset_part(reader.names)
    except MultipartParseError as exc:
        reader.discard()
        raise Problem(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        reader.discard()
        raise
    assert reader.directory is not None
    return Upload(reader.directory / main, reader.directory, main, reader.size, reader.fields)


def dataset_part(names: list[str]) -> str:
    """The part the check opens: the one that is not another's sidecar.

    Raises
    ------
    Problem
        422 when the parts are not one dataset (two main files, a part that belongs to
        neither), or a shapefile lacks the parts it cannot be read without.
    """
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    mains = shapefiles or [n for n in names if not _is_sidecar(n)]
    if len(mains) != 1:
        listed = ", ".join(sorted(mains or names)[:5])
        raise Problem(422, f"the '{FILE_FIELD}' parts hold {len(mains) or 'no'} datasets "
                           f"({listed}); send one dataset per request, or one zip")  # fmt: skip
    main = mains[0]
    stray = [n for n in names if n != main and not _belongs(n, main)]
    if stray:
        raise Problem(422, f"part {stray[0]!r} is not part of {main!r}: a dataset's parts share "
                           "its name (roads.shp, roads.shx, roads.dbf)")  # fmt: skip
    if main.lower().endswith(".shp"):
        stem = Path(main).stem.lower()
        missing = [s for s in SHAPEFILE_NEEDS if f"{stem}{s}" not in {n.lower() for n in names}]
        if missing:
            raise Problem(422, f"{main} is one part of a shapefile: send its "
                               f"{', '.join(stem + s for s in missing)} (and .prj) as more "
                               f"'{FILE_FIELD}' parts of the same form, or all of them in one zip",
                          title="Incomplete shapefile")  # fmt: skip
    return main


def _is_sidecar(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(".aux.xml") or Path(lower).suffix in _SIDECAR_SUFFIXES


def _belongs(part: str, main: str) -> bool:
    """A sidecar of ``main``: the same name with another suffix, or ``main`` + a suffix."""
    a, b = part.lower(), main.lower()
    return Path(a).stem == Path(b).stem or a.startswith(b + ".")
