"""Rewrite a vector dataset layer by layer, batch by batch, into a GeoPackage.

Memory stays bounded by one Arrow batch. Every layer is carried (an action may drop a
whole layer or change each batch); the geometry stays WKB as read, so a feature no action
touches is written byte for byte as it came.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS

from compliance.readers.sources import BATCH_SIZE

__all__ = [
    "LayerMeta",
    "Rewritten",
    "TableEdit",
    "geometries",
    "layer_metas",
    "rewrite",
    "with_geometries",
]


@dataclass(frozen=True)
class LayerMeta:
    """One layer of the dataset being rewritten."""

    name: str
    crs: CRS | None
    geometry_column: str | None
    fields: tuple[str, ...]
    bounds: tuple[float, float, float, float] | None
    info: dict[str, Any] = field(default_factory=dict, repr=False)


# Given a layer and one of its batches, the batch to write (None: drop the whole batch).
TableEdit = Callable[[LayerMeta, pa.Table], pa.Table | None]


def layer_metas(path: Path) -> list[LayerMeta]:
    """The layers of an OGR vector source, with CRS, geometry column, fields and bounds."""
    metas = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, _ in pyogrio.list_layers(path):
            # Counted and bounded by reading, where the driver cannot say: a layer without
            # bounds would be taken for one with nothing to place.
            info = pyogrio.read_info(path, layer=name, force_total_bounds=True)
            crs = CRS.from_user_input(info["crs"]) if info.get("crs") else None
            bounds = info.get("total_bounds")
            usable = bounds is not None and np.isfinite(np.asarray(bounds, dtype=float)).all()
            metas.append(
                LayerMeta(
                    name=str(name),
                    crs=crs,
                    geometry_column=None if info.get("geometry_type") is None else "",
                    fields=tuple(str(f) for f in info["fields"]),
                    bounds=_box(bounds) if usable else _finite_bounds(path, str(name)),
                    info=info,
                )
            )
    return metas


def _box(bounds: Any) -> tuple[float, float, float, float]:
    west, south, east, north = (float(b) for b in bounds)
    return west, south, east, north


def _finite_bounds(path: Path, layer: str) -> tuple[float, float, float, float] | None:
    """The extent of a layer's finite coordinates, read batch by batch: a driver's extent is
    not finite when one coordinate is NaN, and the other features must still be placed."""
    box = np.array([np.inf, np.inf, -np.inf, -np.inf])
    with _batches(path, layer) as (meta, reader):
        column = meta.get("geometry_name") or "wkb_geometry"
        for batch in reader:
            if column not in batch.schema.names:
                return None
            wkb = np.asarray(batch.column(column).to_numpy(zero_copy_only=False), dtype=object)
            xy = shapely.get_coordinates(_from_wkb(wkb))
            xy = xy[np.isfinite(xy).all(axis=1)]
            if xy.size:
                box = np.concatenate(
                    [np.minimum(box[:2], xy.min(axis=0)), np.maximum(box[2:], xy.max(axis=0))]
                )
    return _box(box) if np.isfinite(box).all() else None


@contextmanager
def _batches(path: Path, layer: str) -> Iterator[tuple[dict[str, Any], Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pyogrio.open_arrow(path, layer=layer, use_pyarrow=True, batch_size=BATCH_SIZE) as (
            meta,
            reader,
        ):
            yield meta, reader


def geometries(layer: LayerMeta, table: pa.Table) -> np.ndarray:
    """The batch's geometries as shapely objects (None where missing)."""
    column = layer.geometry_column
    if column is None or column not in table.column_names:
        return np.full(table.num_rows, None, dtype=object)
    wkb = np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=object)
    return _from_wkb(wkb)


def _from_wkb(wkb: np.ndarray) -> np.ndarray:
    # A NaN coordinate is data to keep (the re-check holds it for review), not a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return shapely.from_wkb(wkb, on_invalid="ignore")


def with_geometries(
    layer: LayerMeta, table: pa.Table, geoms: np.ndarray, changed: np.ndarray
) -> pa.Table:
    """The batch with the geometries at ``changed`` replaced (others kept byte for byte)."""
    column = layer.geometry_column or "wkb_geometry"
    index = table.column_names.index(column)
    wkb = np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=object)
    if changed.any():
        dims = 3 if bool(shapely.has_z(geoms[changed]).any()) else 2
        wkb[changed] = shapely.to_wkb(geoms[changed], output_dimension=dims)
    field_ = table.schema.field(index)
    return table.set_column(index, field_, pa.array(list(wkb), type=field_.type))


@dataclass
class Rewritten:
    """What a rewrite left out: whole layers, and geometry columns besides each layer's
    first (``layer.column``), which a GeoPackage would keep only as opaque blobs that no
    check reads: they are dropped, never carried unexamined."""

    layers_dropped: list[str] = field(default_factory=list)
    geometry_fields_dropped: list[str] = field(default_factory=list)


_WKB_EXTENSIONS = {b"geoarrow.wkb", b"ogc.wkb"}


def _other_geometries(schema: pa.Schema, primary: str | None) -> list[str]:
    return [
        f.name
        for f in schema
        if f.name != primary and (f.metadata or {}).get(b"ARROW:extension:name") in _WKB_EXTENSIONS
    ]


def rewrite(
    source: Path,
    target: Path,
    edit: TableEdit,
    keep_layer: Callable[[LayerMeta], bool] = lambda _: True,
    crs_of: Callable[[LayerMeta], CRS | None] = lambda layer: layer.crs,
) -> Rewritten:
    """Write ``source`` into the GeoPackage ``target`` through ``edit``.

    Every layer ``keep_layer`` keeps is written, even when no batch is left of it, so that a
    multi-layer dataset keeps its shape. ``crs_of`` gives the CRS each layer is written with.
    """
    done = Rewritten()
    for layer in layer_metas(source):
        if not keep_layer(layer):
            done.layers_dropped.append(layer.name)
            continue
        with _batches(source, layer.name) as (meta, reader):
            if layer.geometry_column is not None:
                layer = replace(layer, geometry_column=meta.get("geometry_name") or "wkb_geometry")
            out = replace(layer, crs=crs_of(layer))
            others = _other_geometries(reader.schema, layer.geometry_column)
            done.geometry_fields_dropped += [f"{layer.name}.{name}" for name in others]
            written = False
            for batch in reader:
                table = edit(layer, pa.Table.from_batches([batch]).drop_columns(others))
                if table is None or table.num_rows == 0:
                    continue
                _write(table, target, out, written)
                written = True
            if not written:
                _write(reader.schema.empty_table().drop_columns(others), target, out, False)
    return done


def _write(table: pa.Table, target: Path, layer: LayerMeta, append: bool) -> None:
    column = layer.geometry_column
    has_geometry = column is not None and column in table.column_names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_arrow(
            table,
            target,
            layer=layer.name,
            driver="GPKG",
            geometry_name=column if has_geometry else None,
            geometry_type="Unknown" if has_geometry else None,
            crs=layer.crs.to_wkt() if layer.crs is not None and has_geometry else None,
            append=append,
        )
