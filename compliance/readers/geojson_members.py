"""How many geometry objects a GeoJSON document holds, counted in its bytes.

GDAL reads the features' geometries (and a collection's members) and their properties;
it passes over foreign members (a Feature's ``"detail": {"type": "Polygon", ...}``, a
second FeatureCollection under any key of the first, a member inside a geometry object),
which any JSON reader hands to whoever reads the file. Every geometry object with
coordinates has one ``"coordinates"`` member, so more of them in the bytes than the
geometries read means geometry the check did not see. GDAL matches the key in any case
(``"Coordinates"``), and a key may be written with JSON's ``\\u`` escapes
(``"coordin\\u0061tes"`` is the same key): every such spelling counts.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["coordinates_members"]

_KEY = b'"coordinates"'
_CHUNK = 1 << 22
_LONGEST = 2 + 6 * len("coordinates")  # the key with every letter escaped
# Each letter in either case (GDAL's reader matches the key so), as itself or as a \u
# escape of either case's code (hex digits in either case).
_ESCAPED = re.compile(
    b'"'
    + b"".join(
        b"(?:"
        + ch.encode()
        + b"|\\\\u00(?:"
        + f"{ord(ch):02x}|{ord(ch.upper()):02x}".encode()
        + b"))"
        for ch in "coordinates"
    )
    + b'"',
    re.IGNORECASE,
)


def coordinates_members(path: Path) -> int | None:
    """The ``"coordinates"`` members in the file's bytes (None when it cannot be read)."""
    count = 0
    tail = b""
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                data = tail + chunk
                # A key that starts in the last _LONGEST - 1 bytes may run past them: it is
                # counted in the next round, with those bytes kept as its start.
                boundary = max(len(data) - _LONGEST + 1, 0)
                tail = data[boundary:]
                count += _count(data) - _count(tail)
    except OSError:
        return None
    return count + _count(tail)


def _count(data: bytes) -> int:
    # JSON's escapes are rare: the key counted in C. A backslash is looked for first, at
    # memchr's speed; a two-byte needle is searched for ten times as slowly.
    if b"\\" not in data or (b"\\u" not in data and b"\\U" not in data):
        return data.lower().count(_KEY)
    return len(_ESCAPED.findall(data))
