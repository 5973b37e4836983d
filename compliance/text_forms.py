"""Whether stored values may hold a geometry written out, asked of their bytes at once.

A value reads as a geometry only if its bytes hold a keyword of the WKT forms, a bracket,
a brace or a tag (GeoJSON, GML), a run of hex digits (hex WKB), or a letter Python's
case-insensitive matching takes for a Latin one (İ ı ſ K); or, as a blob, if it starts as
WKB (a byte-order byte) or as a GeoPackage blob does ("GP"). Values without any of these
need no closer look: ``table_values.GeometryText`` asks this of a column's bytes before
it matches the values one by one, and the readers of a GeoPackage's catalogue ask it of
a small table's values before they hand the table on (``readers/gpkg_hidden.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["may_be_blob", "may_hold_a_form", "may_hold_geometry"]

# Looked for with bytes' own search: a regex with these alternatives costs more than
# matching the values one by one.
_FORM_BYTES = (
    b"[", b"{", b"<", b"point", b"linestring", b"linearring", b"polygon", b"curve",
    b"surface", b"triangle", b"tin", b"geometrycollection", b"circularstring",
    b"\xc4\xb0", b"\xc4\xb1", b"\xc5\xbf", b"\xe2\x84\xaa",
)  # fmt: skip
_HEX_RUN = re.compile(rb"0[01][0-9a-f]{10}")


def may_hold_a_form(data: bytes) -> bool:
    """Whether text bytes (values end to end) hold anything a written geometry needs."""
    low = data.lower()
    return any(part in low for part in _FORM_BYTES) or _HEX_RUN.search(low) is not None


def may_be_blob(value: bytes) -> bool:
    """Whether stored bytes start as a geometry blob does: WKB, or a GeoPackage blob."""
    return value[:1] in (b"\x00", b"\x01") or value[:2] == b"GP"


def may_hold_geometry(values: Iterable[bytes]) -> bool:
    """Whether any of these stored values (text or blob bytes) may read as a geometry:
    one that starts as a blob of one, text not in ASCII (it may fold into a form:
    ``text_digits``), or a form in their bytes."""
    given = [v for v in values if v]
    if any(may_be_blob(v) for v in given):
        return True
    joined = b"\n".join(given)
    return not joined.isascii() or may_hold_a_form(joined)
