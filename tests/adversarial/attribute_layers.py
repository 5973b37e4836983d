"""Point layers with attribute columns, written through GDAL, for the tests of positions
kept in attributes; and whether a verdict holds a layer for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely

from compliance import Verdict

FINDING = "MAPGATE-COORDINATES-IN-TABLE"


def write_layer(path: Path, geoms: np.ndarray, epsg: int, columns: dict[str, object]) -> Path:
    """One layer ``sites`` of ``geoms`` (points or polygons) with an ``id`` and ``columns``."""
    table = pa.table({"id": list(range(len(geoms))), **columns, "geometry": shapely.to_wkb(geoms)})
    kind = shapely.get_type_id(geoms[0])
    pyogrio.write_arrow(
        table, path, layer="sites", driver=pyogrio.detect_write_driver(str(path)),
        geometry_name="geometry", geometry_type={0: "Point", 3: "Polygon"}[kind],
        crs=f"EPSG:{epsg}",
    )  # fmt: skip
    return path


def held(verdict: Verdict) -> bool:
    """Whether the verdict reports coordinates kept in a table."""
    return FINDING in [f.rule_id for f in verdict.findings]
