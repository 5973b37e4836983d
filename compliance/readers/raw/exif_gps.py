"""GPS positions and XMP geodata in an image file's own bytes, read without GDAL.

A camera or drone image stripped of its georeferencing for export often still carries
where it was taken: EXIF GPS tags (in a JPEG's APP1 segment, a PNG's ``eXIf`` chunk, a
TIFF's GPS IFD) or an XMP packet. GDAL shows some of these as metadata and not others,
so they are read here from the file: EXIF is a TIFF structure (CIPA DC-008), found by
walking the JPEG segments before the image data, the PNG chunks, or the TIFF's IFD0.
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["exif_gps", "xmp_geodata", "xmp_positions"]

_GPS_IFD_TAG = 34853
_XMP_TAG = 700
_HEAD = 1 << 20  # XMP packets sit in a file's first or last megabyte
_MAX_ENTRIES = 4096
_RATIONAL = 5
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}


def _entries(f: BinaryIO, base: int, order: str, offset: int) -> dict[int, tuple[int, int, bytes]]:
    """The tags of the IFD at ``offset``: tag -> (type, count, value bytes)."""
    f.seek(base + offset)
    raw = f.read(2)
    if len(raw) < 2:
        return {}
    count = min(struct.unpack(order + "H", raw)[0], _MAX_ENTRIES)
    block = f.read(12 * count)
    out = {}
    for i in range(len(block) // 12):
        tag, kind, n = struct.unpack_from(order + "HHI", block, 12 * i)
        size = _TYPE_SIZES.get(kind, 1) * min(n, 1 << 16)
        value = block[12 * i + 8 : 12 * i + 12]
        if size > 4:
            f.seek(base + struct.unpack(order + "I", value)[0])
            value = f.read(size)
        out[tag] = (kind, n, value[:size])
    return out


def _degrees(entry: tuple[int, int, bytes] | None, order: str) -> float | None:
    if entry is None or entry[0] != _RATIONAL or len(entry[2]) < 24:
        return None
    parts = struct.unpack(order + "6I", entry[2][:24])
    if 0 in parts[1::2]:
        return None
    d, m, s = (parts[i] / parts[i + 1] for i in (0, 2, 4))
    return d + m / 60 + s / 3600


def _tiff_gps(f: BinaryIO, base: int = 0) -> str | None:
    """The GPS position an EXIF/TIFF structure at ``base`` holds, as text, or None."""
    f.seek(base)
    head = f.read(8)
    if len(head) < 8 or head[:2] not in (b"II", b"MM"):
        return None
    order = "<" if head[:2] == b"II" else ">"
    if struct.unpack(order + "H", head[2:4])[0] != 42:
        return None  # BigTIFF and others: GDAL's metadata covers them
    ifd0 = _entries(f, base, order, struct.unpack(order + "I", head[4:8])[0])
    pointer = ifd0.get(_GPS_IFD_TAG)
    if pointer is None or len(pointer[2]) < 4:
        return None
    gps = _entries(f, base, order, struct.unpack(order + "I", pointer[2][:4])[0])
    lat, lon = _degrees(gps.get(2), order), _degrees(gps.get(4), order)
    if lat is None and lon is None:
        return None
    lat_ref = gps.get(1, (0, 0, b"N"))[2][:1].decode("ascii", "replace")
    lon_ref = gps.get(3, (0, 0, b"E"))[2][:1].decode("ascii", "replace")
    shown = [f"{v:.6f}{r}" for v, r in ((lat, lat_ref), (lon, lon_ref)) if v is not None]
    return "EXIF GPS position " + " ".join(shown)


def _jpeg_exif(f: BinaryIO) -> bytes | None:
    f.seek(2)
    while True:
        marker = f.read(4)
        if len(marker) < 4 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):
            return None  # end of image, or the image data: no more metadata segments
        length = struct.unpack(">H", marker[2:])[0]
        body = f.read(max(0, length - 2))
        if marker[1] == 0xE1 and body.startswith(b"Exif\x00\x00"):
            return body[6:]


def _png_exif(f: BinaryIO) -> bytes | None:
    f.seek(8)
    while True:
        head = f.read(8)
        if len(head) < 8:
            return None
        length, kind = struct.unpack(">I4s", head)
        if kind == b"eXIf":
            return f.read(length)
        if kind == b"IEND":
            return None
        f.seek(length + 4, io.SEEK_CUR)


def exif_gps(path: Path) -> str | None:
    """The EXIF GPS position a JPEG, PNG or TIFF file carries, as text, or None."""
    try:
        with path.open("rb") as f:
            magic = f.read(8)
            if magic[:2] in (b"II", b"MM"):
                return _tiff_gps(f)
            exif = None
            if magic[:2] == b"\xff\xd8":
                exif = _jpeg_exif(f)
            elif magic == b"\x89PNG\r\n\x1a\n":
                exif = _png_exif(f)
            return _tiff_gps(io.BytesIO(exif)) if exif else None
    except (OSError, struct.error, ValueError):
        return None  # a damaged header: GDAL's metadata is still read


_XMP_GEO = re.compile(
    rb"(GPS(?:Latitude|Longitude|DestLatitude|DestLongitude)|[\w:]*(?:[Ll]atitude|[Ll]ongitude)"
    rb"|geo:lat|geo:long|geo:lon)\s*(?:=\s*[\"']|>)\s*([-+]?\d[\d.,:\s]*[NSEW]?)"
)


def xmp_geodata(path: Path) -> list[str]:
    """Geographic positions in the XMP packets of the file's first and last megabyte
    (where formats put them; GDAL's ``xml:XMP`` metadata holds a TIFF's wherever it is)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, io.SEEK_END)
            f.seek(0)
            data = f.read(_HEAD)
            if size > _HEAD:
                f.seek(max(_HEAD, size - _HEAD))
                data += f.read(_HEAD)
    except OSError:
        return []
    return xmp_positions(data)


def xmp_positions(data: bytes) -> list[str]:
    """Geographic positions in the XMP packets ``data`` holds, each said once, sorted."""
    found = []
    for packet in re.finditer(rb"<x:xmpmeta.*?</x:xmpmeta>", data, re.DOTALL):
        for name, value in _XMP_GEO.findall(packet.group(0)):
            found.append(f"XMP {name.decode(errors='replace')}={value.decode().strip()}")
    return sorted(set(found))
