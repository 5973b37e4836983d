"""The part of a PROJJSON document PROJ does not read.

A GeoParquet column's CRS is a PROJJSON document, and PROJ reads the members its schema
defines and passes over the rest: fifty positions kept in a member of its own leave with
the file while every reader sees only the CRS. What PROJ read is told by PROJ itself:
the document is read and written again (``to_json_dict``), and whatever of the original
the rewrite does not hold (a member, an item, a number that differs) is the unread part.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["projjson_unread"]

_SAME = 1e-12  # relative: PROJ writes the numbers it read back to their last digits


def projjson_unread(document: Any) -> Any:
    """What of ``document`` (a parsed PROJJSON CRS) PROJ does not read back, with the
    original's shape; None when it reads all of it, and the whole document when PROJ
    cannot read it as a CRS."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if not isinstance(document, dict):
        return document
    try:
        read = CRS.from_json_dict(document).to_json_dict()
    except (CRSError, TypeError, ValueError):
        return document
    return _unread(document, read)


def _unread(original: Any, read: Any) -> Any:
    if isinstance(original, dict):
        if not isinstance(read, dict):
            return original
        rest = {}
        for key, value in original.items():
            left = value if key not in read else _unread(value, read[key])
            if left is not None:
                rest[key] = left
        return rest or None
    if isinstance(original, list):
        if not isinstance(read, list) or len(read) != len(original):
            return original
        items = [
            left for o, r in zip(original, read, strict=True) if (left := _unread(o, r)) is not None
        ]
        return items or None
    if _number(original) and _number(read):
        return None if math.isclose(original, read, rel_tol=_SAME, abs_tol=_SAME) else original
    return None if original == read else original


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
