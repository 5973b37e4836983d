"""The CRS a GeoJSON file declares in its ``crs`` member (GeoJSON 2008), read as GDAL
does not: strictly.

RFC 7946 dropped the member, but files still carry it. GDAL reads it, and where it cannot
(an unknown code, a ``link`` it fails to fetch) it says nothing and takes the RFC's
default, WGS84 longitude and latitude, so the coordinates land wherever those numbers
fall. A declared CRS that cannot be read leaves the data's place unknown instead.
A ``link`` is also an address GDAL fetches when the file is opened: an upload may not
carry one (see upload_guard).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

__all__ = [
    "crs_member",
    "declared_crs",
    "is_link",
    "unreadable_reason",
]

_SCAN_BYTES = 1 << 20
# The forms of a CRS name GeoJSON 2008 files use (OGC URNs and URLs, AUTHORITY:CODE).
# Anything else is not handed to PROJ, which reads files for some forms (+init=).
_CRS_NAME = re.compile(
    r"(urn:ogc:def:crs:[\w.:-]*|https?://www\.opengis\.net/def/crs/[\w./-]*|[A-Za-z]\w*:\w[\w.]*)",
)
_BOMS = (b"\xef\xbb\xbf",)
# Strings (escapes kept inside) and brackets: enough to know how deep a key sits.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')


def declared_crs(path: Path) -> dict[str, Any] | None:
    """The top-level ``crs`` member of a GeoJSON file, when it has one in its first MiB."""
    try:
        with path.open("rb") as f:
            return crs_member(f.read(_SCAN_BYTES))
    except OSError:
        return None


def crs_member(start: bytes) -> dict[str, Any] | None:
    """The top-level ``crs`` member in the first bytes of a GeoJSON document (a geometry's
    own ``crs``, which GDAL does not read, is passed over)."""
    for bom in _BOMS:
        start = start.removeprefix(bom)
    if not start.lstrip().startswith(b"{") or b'"crs"' not in start:
        return None
    text = start.decode("utf-8", errors="replace")
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in ("{", "["):
            depth += 1
        elif mark in ("}", "]"):
            depth -= 1
        elif mark == '"crs"' and depth == 1:
            rest = text[token.end() :].lstrip()
            if rest.startswith(":"):
                try:
                    value, _ = json.JSONDecoder().raw_decode(rest[1:].lstrip())
                except ValueError:
                    return {"unreadable": True}
                return value if isinstance(value, dict) else {"unreadable": True}
    return None


def is_link(member: dict[str, Any]) -> bool:
    """Whether the member points at an address for GDAL to fetch."""
    return str(member.get("type", "")).lower() == "link"


def unreadable_reason(member: dict[str, Any], read_as: CRS | None) -> str | None:
    """Why the declared CRS cannot be taken as ``read_as`` (GDAL's reading of it); None
    when it can. The data's place then rests on a CRS nobody can confirm."""
    kind = str(member.get("type", "")).lower()
    properties = member.get("properties")
    if not isinstance(properties, dict):
        return "its crs member has no properties"
    if kind == "link":
        return "its CRS is a link to another document, which is not fetched"
    if kind == "name":
        name = str(properties.get("name"))
    elif kind == "epsg":
        name = f"EPSG:{properties.get('code')}"
    else:
        return f"its crs member is of type {member.get('type')!r}, which GeoJSON does not define"
    if not _CRS_NAME.fullmatch(name):
        return f"its declared CRS {name[:80]!r} is not a CRS name mapgate reads"
    try:
        declared = CRS.from_user_input(name)
    except CRSError:
        return f"its declared CRS {name[:80]!r} is not one PROJ knows"
    if read_as is None or not declared.equals(read_as, ignore_axis_order=True):
        return f"its declared CRS {name[:80]!r} was read as another"
    return None
