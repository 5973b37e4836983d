"""Find a map scale declared in a dataset's metadata (tags, layer metadata, ISO 19115 XML)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["declared_scale", "parse_scale"]

_RATIO = re.compile(r"1\s*:\s*([0-9][0-9,.\s]*[0-9]|[0-9])")
_NUMBER = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*$")
_ISO_DENOMINATOR = re.compile(
    r"<(?:\w+:)?denominator>\s*(?:<(?:\w+:)?Integer>)?\s*([0-9]+)", re.IGNORECASE
)
_SCALE_KEY = re.compile(r"scale|denominator|representative_?fraction", re.IGNORECASE)
# netCDF-style scale_factor/add_offset tags describe pixel values, not map scale.
_NOT_MAP_SCALE = re.compile(r"scale_factor|add_offset|#scale", re.IGNORECASE)


def _to_number(text: str) -> float | None:
    cleaned = re.sub(r"[,\s]", "", text)
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value >= 1 else None


def parse_scale(value: str) -> float | None:
    """'1:5,000' -> 5000.0; '25000' -> 25000.0; anything else -> None."""
    if match := _RATIO.search(value):
        return _to_number(match.group(1))
    if match := _NUMBER.match(value):
        return _to_number(match.group(1))
    return None


def _from_mapping(meta: Mapping[str, str]) -> Iterable[float]:
    for key, value in meta.items():
        if _SCALE_KEY.search(key) and not _NOT_MAP_SCALE.search(key):
            parsed = parse_scale(str(value))
            if parsed is not None:
                yield parsed
        for match in _ISO_DENOMINATOR.finditer(str(value)):
            yield float(match.group(1))


def declared_scale(
    metadata: Iterable[Mapping[str, str]], documents: Iterable[str] = ()
) -> float | None:
    """The finest scale declared anywhere in the metadata (key/value tags, and whole
    metadata documents such as a GeoPackage's ISO 19115 XML), or None when none is."""
    found: list[float] = []
    for meta in metadata:
        found.extend(_from_mapping(meta))
    for doc in documents:
        found.extend(float(m.group(1)) for m in _ISO_DENOMINATOR.finditer(doc))
    return min(found) if found else None
