"""What the format tests share: a one-point GeoJSON, and what discovery finds in a folder
and materialize picks out of a zip of it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from compliance.errors import UnsupportedFormat
from compliance.readers.discover import discover
from compliance.readers.inputs import materialize

__all__ = ["GEOJSON", "SEOUL", "found", "picked", "zip_folder"]

SEOUL = (126.98, 37.56)
GEOJSON = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": SEOUL},
            }
        ],
    }
)


def found(folder: Path) -> set[str]:
    """Names of the datasets discovery finds in ``folder`` (with no problem)."""
    return {d.path.name for d in discover([folder]).datasets if d.problem is None}


def picked(archive: Path) -> str | None:
    """The name of the dataset materialize picks out of ``archive``; None when none."""
    try:
        with materialize(archive) as local:
            return local.path.name
    except UnsupportedFormat:
        return None


def zip_folder(path: Path, folder: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return path
