"""Numbers a GeoJSON document holds where GDAL does not read them.

GDAL reads each Feature's ``geometry`` (the first three numbers of each position) and
``properties``, and passes over the rest, which any JSON reader hands on: ``bbox``
members (RFC 7946 section 5: a Feature's or a geometry's box, which a sender can set to
the precise box of a coarsened feature; a point's box is the point), foreign members of
Features and geometry objects, numbers past the third of a position, and the members of
the document itself beside its features. Each is looked for in the parsed document:

- a ``bbox`` must be the box of the geometry it sits beside, to the number (2 or 3
  dimensions);
- a foreign member of a Feature or a geometry object holds nothing that could carry a
  position (no number; no two numbers the size of coordinates written as text, in one
  member or split between two; a GeoJSON 2008 ``crs`` member is no foreign member);
- a position holds at most three numbers;
- no object gives a member twice (JSON readers keep one and drop the other unseen);
- the document's own bbox is the box of its features (to a centimetre: GDAL writes it
  before rounding the coordinates), and its foreign members (a generator, a count, links) hold at
  most a few numbers.

``GeoJSONSeq`` files are read a Feature per line. A document too large to parse whole is
not looked through, and says so: its verdict is held.
"""

from __future__ import annotations

import gc
import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from compliance.arrays import finite_rows, lonlat_sized_boxes
from compliance.readers.geojson_boxes import (
    box_is_right,
    extent_is_right,
    geometry_box,
    positions,
)
from compliance.readers.json_bytes import has_long_array, names_at_most
from compliance.text_digits import fold
from compliance.tracks import FrameTracks

__all__ = ["FEW_NUMBERS", "GEOJSON_PARSE_LIMIT", "json_numbers", "text_numbers", "unread_members"]

GEOJSON_PARSE_LIMIT = 64 << 20  # bytes: a larger document is not parsed whole
_FEATURE_KEYS = frozenset({"type", "id", "geometry", "properties", "bbox"})
_GEOMETRY_KEYS = frozenset({"type", "coordinates", "geometries", "bbox"})
# Most features hold nothing but these: they are walked without a call per object.
_PLAIN_FEATURE = frozenset({"type", "id", "geometry", "properties"})
_PLAIN_GEOMETRY = frozenset({"type", "coordinates"})
_SCALARS = frozenset({str, int, float, bool, type(None)})
# What GDAL and common servers write beside a collection's features.
_COLLECTION_KEYS = frozenset(
    {"type", "features", "bbox", "crs", "name", "description", "xy_coordinate_resolution",
     "z_coordinate_resolution"}
)  # fmt: skip
FEW_NUMBERS = 8  # a collection's counts and timestamps, not a list of positions
# Two numbers of the size of a coordinate in a string (degrees with 3 or more decimals,
# metres of 6 digits or more) could be a position written as text.
_COORDINATE_TEXT = re.compile(r"-?\d+\.\d{3,}|\d{6,}")
# A date and time (ISO 8601) is no coordinate, whatever its fractions of a second.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?")
# GeoJSON 2008 let a Feature or a geometry name its CRS: a name, an EPSG code or a link.
_CRS_PROPERTIES = frozenset({"name", "code", "href", "type"})


@dataclass
class _Found:
    # GDAL reads a STAC Item's foreign members as fields ("assets.<name>.href"...): the
    # layer's field names, to tell those it reads.
    fields: frozenset[str] = frozenset()
    boxes: int = 0  # bbox members that are not their geometry's box
    foreign: Counter[str] = field(default_factory=Counter)  # member -> objects holding data
    long_positions: int = 0
    repeated: int = 0  # objects that give a member twice: readers keep one, hide the other
    members: int = 0  # the members of the objects walked (to tell a member given twice)
    document: list[str] = field(default_factory=list)
    # member -> (its one coordinate-sized number, the box of its object's geometry)
    lone: dict[str, list[tuple[float, list[float]]]] = field(default_factory=dict)

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        """``json``'s object hook: the object, with a member given twice counted."""
        obj = dict(pairs)
        if len(obj) != len(pairs):
            self.repeated += 1
        return obj


def _holds_number(value: Any) -> bool:
    """Whether a JSON value holds a number, however deep."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return False
    if isinstance(value, int | float):
        return True
    items = value.values() if isinstance(value, dict) else value
    return any(_holds_number(v) for v in items)


def text_numbers(value: Any) -> list[str]:
    """The numbers the size of coordinates the strings in a JSON value hold, in order."""
    if isinstance(value, str):
        return list(_COORDINATE_TEXT.findall(_TIMESTAMP.sub(" ", fold(value))))
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return [n for v in items for n in text_numbers(v)]
    return []


def _is_crs(value: Any) -> bool:
    """Whether a ``crs`` member is one of GeoJSON 2008's: a type and properties naming the
    CRS, with one number at most (an EPSG code)."""
    if not isinstance(value, dict) or not value.keys() <= {"type", "properties"}:
        return False
    properties = value.get("properties", {})
    return (
        isinstance(properties, dict)
        and properties.keys() <= _CRS_PROPERTIES
        and json_numbers(properties) <= 1
        and not isinstance(value.get("type"), dict | list)
    )


def _read_as_field(key: str, fields: frozenset[str]) -> bool:
    return key in fields or any(f.startswith(key + ".") for f in fields)


def _foreign(
    obj: dict[str, Any], standard: frozenset[str], found: _Found, geometry: Any = None
) -> None:
    found.members += len(obj)
    if obj.keys() <= standard:  # the usual object: one set operation in C
        return
    stac = "stac_version" in obj  # a STAC Item: GDAL reads its members as fields
    in_text: dict[str, list[str]] = {}
    for key in sorted(obj.keys() - standard):
        found.members += _members(obj[key])
        if key == "crs" and _is_crs(obj[key]):
            continue
        if stac and _read_as_field(key, found.fields):
            continue
        if _holds_number(obj[key]):
            found.foreign[key] += 1
        elif numbers := text_numbers(obj[key]):
            in_text[key] = numbers
    # A position written as text: two numbers the size of coordinates, in one member or
    # split between members (one a timestamp's seconds or an id is no position).
    if sum(len(n) for n in in_text.values()) >= 2:
        found.foreign.update(in_text.keys())
    elif in_text and (box := geometry_box(geometry)) is not None:
        # One number alone: an id, or one axis of the object's position (``_lone``).
        ((key, (number,)),) = in_text.items()
        found.lone.setdefault(key, []).append((float(number), box))


def _lone(found: _Found) -> None:
    """Members whose one coordinate-sized number follows its object's x or y (within a
    kilometre, off it somewhere, in any unit: ``compliance.tracks``) hold one axis of
    each position: they count as members holding numbers."""
    for key, rows in found.lone.items():
        values = np.array([v for v, _ in rows])
        boxes = np.array([b for _, b in rows])
        placed = finite_rows(boxes)
        if not placed.any():
            continue
        tracks: FrameTracks[str] = FrameTracks(bool(lonlat_sized_boxes(boxes[placed]).all()))
        tracks.add({key: values}, boxes, placed)
        if tracks.following():
            found.foreign[key] += len(rows)


def json_numbers(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int | float):
        return 1
    if isinstance(value, dict):
        return sum(json_numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(json_numbers(v) for v in value)
    return 0


def _members(value: Any) -> int:
    """How many members the objects in ``value`` hold, nested ones too."""
    if isinstance(value, dict):
        return len(value) + sum(_members(v) for v in value.values())
    if isinstance(value, list):
        return sum(_members(v) for v in value if isinstance(v, dict | list))
    return 0


def _geometry(geometry: Any, found: _Found, long_arrays: bool) -> None:
    if not isinstance(geometry, dict):
        return
    _foreign(geometry, _GEOMETRY_KEYS, found, geometry)
    if "bbox" in geometry and not box_is_right(geometry["bbox"], geometry):
        found.boxes += 1
    if long_arrays:
        found.long_positions += sum(len(p) > 3 for p in positions(geometry.get("coordinates")))
    for member in geometry.get("geometries") or []:
        _geometry(member, found, long_arrays)


def _feature(feature: Any, found: _Found, long_arrays: bool) -> None:
    if not isinstance(feature, dict):
        return
    _foreign(feature, _FEATURE_KEYS, found, feature.get("geometry"))
    properties = feature.get("properties")
    if isinstance(properties, dict):
        found.members += len(properties)
        found.members += sum(_members(v) for v in properties.values() if isinstance(v, dict | list))
    geometry = feature.get("geometry")
    if "bbox" in feature and not box_is_right(feature["bbox"], geometry):
        found.boxes += 1
    _geometry(geometry, found, long_arrays)


def _document(doc: Any, found: _Found, long_arrays: bool) -> None:
    if not isinstance(doc, dict):
        return
    kind = doc.get("type")
    if kind == "Feature":
        _feature(doc, found, long_arrays)
    elif kind != "FeatureCollection":
        _geometry(doc, found, long_arrays)
        return
    features = doc.get("features") if kind == "FeatureCollection" else []
    if isinstance(features, list):
        _features(features, found, long_arrays)
    if kind == "FeatureCollection":
        _collection(doc, found)


def _features(features: list[Any], found: _Found, long_arrays: bool) -> None:
    """``_feature`` for each of ``features``; a collection of plain ones only is counted in
    a few passes in C (``_all_plain``), the same sums without a call per feature."""
    if _all_plain(features, found, long_arrays):
        return
    members = 0
    for feature in features:
        geometry = feature.get("geometry") if type(feature) is dict else None
        if not (
            type(feature) is dict
            and feature.keys() <= _PLAIN_FEATURE
            and (
                geometry is None or (type(geometry) is dict and geometry.keys() <= _PLAIN_GEOMETRY)
            )
        ):
            _feature(feature, found, long_arrays)
            continue
        properties = feature.get("properties")
        members += len(feature)
        if type(properties) is dict:
            members += len(properties)
            for value in properties.values():
                if type(value) is dict or type(value) is list:
                    members += _members(value)
        if geometry is not None:
            members += len(geometry)
            if long_arrays:
                held = positions(geometry.get("coordinates"))
                found.long_positions += sum(len(p) > 3 for p in held)
    found.members += members


def _all_plain(features: list[Any], found: _Found, long_arrays: bool) -> bool:
    """Whether every feature is plain: an object of the plain members, its geometry one
    too (or null), its properties an object (or null) of scalars. Then their members are
    counted into ``found`` and True; else ``found`` is left as it was."""
    if set(map(type, features)) != {dict}:
        return False
    if not set(chain.from_iterable(features)) <= _PLAIN_FEATURE:  # their keys
        return False
    geometries = [g for g in map(dict.get, features, repeat("geometry")) if g is not None]
    if not set(map(type, geometries)) <= {dict}:
        return False
    if not set(chain.from_iterable(geometries)) <= _PLAIN_GEOMETRY:
        return False
    held = list(map(dict.get, features, repeat("properties")))
    if not set(map(type, held)) <= {dict, type(None)}:
        return False
    properties = [p for p in held if p is not None]
    if not set(map(type, chain.from_iterable(map(dict.values, properties)))) <= _SCALARS:
        return False
    found.members += sum(map(len, features)) + sum(map(len, properties))
    found.members += sum(map(len, geometries))
    if long_arrays:
        coordinates = map(dict.get, geometries, repeat("coordinates"))
        found.long_positions += sum(len(p) > 3 for c in coordinates for p in positions(c))
    return True


def _collection(doc: dict[str, Any], found: _Found) -> None:
    found.members += len(doc) + sum(_members(doc[k]) for k in doc.keys() - {"features"})
    if "bbox" in doc and not extent_is_right(doc["bbox"], doc.get("features")):
        found.document.append("a document bbox that is not the box of its features")
    extra = {k: json_numbers(doc[k]) for k in doc.keys() - _COLLECTION_KEYS}
    if sum(extra.values()) > FEW_NUMBERS:
        names = ", ".join(sorted(k for k, n in extra.items() if n)[:5])
        found.document.append(
            f"{sum(extra.values())} numbers in the document's own members ({names})"
        )


def _said(found: _Found) -> list[str]:
    _lone(found)
    out = list(found.document)
    if found.boxes:
        out.append(f"{found.boxes} bbox members that are not their geometry's box")
    if found.foreign:
        names = ", ".join(f"{k} ({n})" for k, n in found.foreign.most_common(5))
        out.append(f"foreign members holding numbers beside the features: {names}")
    if found.repeated:
        out.append(f"{found.repeated} objects that give a member twice (a reader keeps one)")
    if found.long_positions:
        out.append(
            f"{found.long_positions} positions with numbers past the third (GDAL reads three)"
        )
    return out


def unread_members(path: Path, fields: Iterable[str] = (), sequence: bool = False) -> list[str]:
    """What the GeoJSON document at ``path`` holds beside what GDAL reads (a GeoJSON
    text sequence, a Feature per line, when ``sequence``), said in words; empty when
    it holds nothing more. ``fields``: the names of the fields GDAL made of it."""
    size = path.stat().st_size
    found = _Found(frozenset(fields))
    if sequence:
        with path.open("rb") as f:
            for line in f:
                text = line.strip(b"\x1e \t\r\n")
                if text:
                    _look_through(text, found)
        return _said(found)
    if size > GEOJSON_PARSE_LIMIT:
        return [f"a document of {size} bytes, too large to look for members GDAL does not read"]
    _look_through(path.read_bytes(), found)
    return _said(found)


def _look_through(data: bytes, found: _Found) -> None:
    """Parse one JSON text and walk it. A member given twice leaves fewer members in the
    parsed objects than names in the bytes: only then is it parsed again, counting each
    object's members as they come (a colon inside a string can cost that second parse,
    never a member given twice unseen)."""
    with _collector_paused():
        try:
            doc = _parsed(data)
        except (ValueError, RecursionError):
            if "text that is not strict JSON, not looked through" not in found.document:
                found.document.append("text that is not strict JSON, not looked through")
            return
        before = found.members
        _document(doc, found, has_long_array(data))
        del doc  # freed here, while the collector is off: it never traces the tree
        if not names_at_most(data, found.members - before):
            json.loads(data, object_pairs_hook=found.pairs)


_paused = threading.Lock()
_pausing = [0, False]  # threads inside, and whether the collector ran before the first


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a document is parsed and walked. A JSON
    tree holds no cycle, yet its thousands of lists and dicts, alive across collections,
    were promoted and made the collector trace the whole heap every few checks (2 ms a
    check, measured). Counted across threads: the last one out turns it back on."""
    with _paused:
        if _pausing[0] == 0:
            _pausing[1] = gc.isenabled()
            gc.disable()
        _pausing[0] += 1
    try:
        yield
    finally:
        with _paused:
            _pausing[0] -= 1
            if _pausing[0] == 0 and _pausing[1]:
                gc.enable()


def _parsed(data: bytes) -> Any:
    """The JSON text parsed by orjson (compiled, about half the time), or by the laxer
    ``json`` when orjson refuses it (NaN, infinities, UTF-16 text): either will do."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
