"""Stream a multipart upload to a temporary file, cutting it off as soon as it passes the limit."""

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

FILE_FIELD = "file"
TEMP_PREFIX = "mapgate-upload-"
# Room for multipart framing and the small form fields on top of the file's own limit.
FRAMING_ALLOWANCE = 64 * 1024
MAX_PARTS = 16
# A kept file name's UTF-8 bytes: under the 255 most file systems allow, with room for the
# sidecars a reader may write beside it (``.aux.xml``, ``.ovr``).
MAX_NAME_BYTES = 200


@dataclass
class Upload:
    """An uploaded file on local disk plus the form's text fields. Call ``remove()`` when done."""

    path: Path
    directory: Path
    filename: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)

    def remove(self) -> None:
        """Delete the file, its directory and anything the check left beside it."""
        shutil.rmtree(self.directory, ignore_errors=True)


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
        self.path: Path | None = None
        self.directory: Path | None = None
        self.filename = ""
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
            if self.path is not None:
                self.fail(422, f"only one '{FILE_FIELD}' part is accepted")
                return
            raw = options.get(b"filename")
            self.filename = safe_filename(raw.decode("utf-8", "replace") if raw else None)
            self._open_file()

    def _open_file(self) -> None:
        # A private directory keeps the client's file name, which the library reads (layer
        # names, format detection), without any chance of clashing with another upload.
        # Its name carries this process's id: after a kill -9 the next start removes it.
        self.directory = mark_temp_dir(TEMP_PREFIX, self.tmp_dir)
        self.path = self.directory / self.filename
        self._file = self.path.open("xb")
        self._to_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        n = end - start
        if self._to_file:
            self.size += n
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
        if reader.path is None:
            raise Problem(422, f"the form has no '{FILE_FIELD}' part")
        if parser.state != MultipartState.END:
            raise Problem(400, "the multipart body ended before its closing boundary")
    except MultipartParseError as exc:
        reader.discard()
        raise Problem(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        reader.discard()
        raise
    assert reader.directory is not None
    return Upload(reader.path, reader.directory, reader.filename, reader.size, reader.fields)
