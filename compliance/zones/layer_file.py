"""A small polygon layer (zones, a territory) read whole through Arrow."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import CRS

__all__ = ["Layer", "read_layer"]


@dataclass
class Layer:
    """A small polygon layer (zones, a territory), read whole: its attribute columns as
    Python values, its geometries (None where missing) and its CRS."""

    columns: dict[str, list[Any]]
    geometries: np.ndarray
    crs: CRS | None


def read_layer(path: Path, error: Callable[[str], Exception]) -> Layer:
    """Read a small polygon layer through Arrow: a fraction of a data frame's cost."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta, table = pyogrio.read_arrow(path)
        column = meta.get("geometry_name") or "wkb_geometry"
        wkb = np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=object)
        geometries = shapely.from_wkb(wkb)
        crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    except Exception as exc:  # pyogrio, shapely and pyproj raise several unrelated types
        raise error(f"cannot be read: {exc}") from exc
    columns = {
        name: table.column(name).to_pylist() for name in table.column_names if name != column
    }
    return Layer(columns, np.asarray(geometries, dtype=object), crs)
