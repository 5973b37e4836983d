"""What an Esri JSON document holds that GDAL's ESRIJSON driver does not read.

GDAL reads a feature set's declared ``fields`` (every attribute when none are declared),
each feature's ``geometry`` (``x``/``y``/``z``, ``points``, ``paths``, ``rings`` and
their flags; a point's ``m`` only with ``hasM``) and ``attributes``, and the set's own description (its geometry type, CRS,
quantizing ``transform``...). Anything else passes it by: a member of a feature or a
geometry it does not know, an attribute no field declares, a member of the set beside
its features. A sender can write precise positions there beside features snapped
coarse, so each such value is kept as text (``xml_unread``'s parts) to be met with where
the features lie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from compliance.readers.geojson_unread import GEOJSON_PARSE_LIMIT

__all__ = ["esrijson_unread_text"]

_SET = frozenset(
    {"geometryType", "spatialReference", "fields", "features", "hasZ", "hasM",
     "objectIdFieldName", "globalIdFieldName", "displayFieldName", "fieldAliases",
     "exceededTransferLimit", "transform", "uniqueIdField", "geometryProperties"}
)  # fmt: skip
_FEATURE = frozenset({"geometry", "attributes"})
_GEOMETRY = frozenset(
    {"x", "y", "z", "points", "paths", "rings", "curvePaths", "curveRings", "hasZ",
     "hasM", "spatialReference", "xmin", "ymin", "xmax", "ymax", "zmin", "zmax"}
)  # fmt: skip


def esrijson_unread_text(path: Path) -> list[str] | None:
    """The values of the Esri JSON document at ``path`` that GDAL does not read, as
    text; None when it is too large to look through."""
    if path.stat().st_size > GEOJSON_PARSE_LIMIT:
        return None
    try:
        doc = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return []  # GDAL read it otherwise; nothing here to meet
    if not isinstance(doc, dict):
        return []
    parts = _beside(doc, _SET)
    fields = doc.get("fields")
    declared = (
        {f.get("name") for f in fields if isinstance(f, dict)} if isinstance(fields, list) else None
    )
    features = doc.get("features")
    for feature in features if isinstance(features, list) else []:
        if not isinstance(feature, dict):
            continue
        parts += _beside(feature, _FEATURE)
        geometry, attributes = feature.get("geometry"), feature.get("attributes")
        if isinstance(geometry, dict):
            # A point's m is read as a measure only where the set or the geometry has M.
            measured = doc.get("hasM") is True or geometry.get("hasM") is True
            parts += _beside(geometry, _GEOMETRY | {"m"} if measured else _GEOMETRY)
        if isinstance(attributes, dict) and declared is not None:
            parts += [_text(v) for k, v in attributes.items() if k not in declared]
    return [p for p in parts if p]


def _beside(obj: dict[str, Any], read: frozenset[str]) -> list[str]:
    return [f"{key} {_text(value)}" for key, value in obj.items() if key not in read]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
