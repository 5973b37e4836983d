"""``coarsen_resolution`` and ``drop_contours`` for vectors: less detail, no elevation."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import shapely

from compliance.geo.segment_metres import GroundMap
from compliance.readers.driver_fields import HEIGHT_NAME, height_fields
from compliance.remediate.actions import ActionChanges, ActionContext, ActionResult
from compliance.remediate.vector_io import (
    LayerMeta,
    geometries,
    layer_metas,
    rewrite,
    with_geometries,
)

__all__ = ["coarsen_vectors", "drop_vector_contours"]

# The grid is drawn this much coarser than asked, so that the metric's variation across a
# layer and round-off cannot leave a step just under the required resolution.
_SAFETY = 1.01


def _grid_units(layer: LayerMeta, resolution_m: float) -> float | None:
    """A grid step in the layer's units no shorter than ``resolution_m`` on the ground in
    any direction anywhere over the layer; None when the layer cannot be placed."""
    if layer.crs is None or layer.bounds is None:
        return None
    ground = GroundMap(layer.crs, layer.bounds)
    # The shortest ground length of a unit grid vector: the metric's smaller eigenvalue.
    a, b, c = ground.a, ground.b, ground.c
    smallest = (a + c) / 2 - np.sqrt(((a - c) / 2) ** 2 + b**2)
    smallest = smallest[np.isfinite(smallest) & (smallest > 0)]
    if smallest.size == 0:
        return None
    return resolution_m * _SAFETY / float(np.sqrt(smallest.min()))


def coarsen_vectors(ctx: ActionContext) -> ActionResult:
    """Snap every coordinate to a grid ``resolution_m`` wide on the ground, then simplify:
    no two distinct vertices are closer than that, whatever the CRS."""
    resolution = float(ctx.parameters["resolution_m"])
    steps = {}
    for layer in layer_metas(ctx.source):
        if layer.geometry_column is None or layer.bounds is None:
            continue
        step = _grid_units(layer, resolution)
        if step is None:
            return ActionResult(
                "cannot_apply", f"layer {layer.name} cannot be placed on the ground"
            )
        steps[layer.name] = step
    changes = ActionChanges(
        features_changed=0,
        features_dropped=0,
        resolution_before_m=ctx.profile.resolution_m,
        resolution_after_m=resolution,
    )

    def edit(layer: LayerMeta, table: pa.Table) -> pa.Table:
        step = steps.get(layer.name)
        if step is None:
            return table
        geoms = geometries(layer, table)
        present = ~shapely.is_missing(geoms)
        snapped = geoms.copy()
        snapped[present] = shapely.set_precision(
            shapely.simplify(shapely.set_precision(geoms[present], step), step), step
        )
        changed = present & ~shapely.equals_exact(snapped, geoms, tolerance=0.0)
        changed &= ~shapely.is_missing(snapped)
        # What snapping collapses (a building smaller than a cell) is gone from the data.
        gone = changed & shapely.is_empty(snapped)
        changes.features_changed = (changes.features_changed or 0) + int((changed & ~gone).sum())
        changes.features_dropped = (changes.features_dropped or 0) + int(gone.sum())
        return with_geometries(layer, table, snapped, changed).filter(pa.array(~gone))

    changes.fields_dropped += rewrite(ctx.source, ctx.target, edit).geometry_fields_dropped
    return ActionResult(
        "applied",
        f"coordinates snapped to a {resolution:g} m ground grid and simplified",
        changes,
        wrote=True,
    )


def drop_vector_contours(ctx: ActionContext) -> ActionResult:
    """Drop contour and elevation layers and fields (by name: the pack's pattern and the
    check's ``HEIGHT_NAME``), the fields a format keeps its heights in (GPX's ``ele``) and
    every Z coordinate."""
    pattern = re.compile(str(ctx.parameters["field_pattern"]))
    changes = ActionChanges(features_changed=0)
    metas = layer_metas(ctx.source)
    # Layers named as heights as the check reads them (``HEIGHT_NAME``), as well as by the
    # pack's pattern: a layer the check takes for heights must not stay in the derivative.
    changes.layers_dropped = [
        m.name for m in metas if pattern.search(m.name) or HEIGHT_NAME.search(m.name)
    ]

    def dropped(layer: LayerMeta) -> list[str]:
        heights = height_fields(str(layer.info.get("driver", "")), layer.fields)
        return [f for f in layer.fields if pattern.search(f) or f in heights]

    changes.fields_dropped = [
        f"{m.name}.{f}" for m in metas if m.name not in changes.layers_dropped for f in dropped(m)
    ]

    def edit(layer: LayerMeta, table: pa.Table) -> pa.Table:
        table = table.drop_columns([f for f in dropped(layer) if f in table.column_names])
        geoms = geometries(layer, table)
        # An M ordinate can carry the heights as well: flattened with Z.
        with_z = ~shapely.is_missing(geoms) & (shapely.has_z(geoms) | shapely.has_m(geoms))
        if not with_z.any():
            return table
        changes.features_changed = (changes.features_changed or 0) + int(with_z.sum())
        flat = geoms.copy()
        flat[with_z] = shapely.force_2d(geoms[with_z])
        return with_geometries(layer, table, flat, with_z)

    done = rewrite(
        ctx.source, ctx.target, edit, keep_layer=lambda m: m.name not in changes.layers_dropped
    )
    changes.fields_dropped += done.geometry_fields_dropped
    if not (changes.layers_dropped or changes.fields_dropped or changes.features_changed):
        return ActionResult(
            "not_needed", "no contour layer or field, and no Z", changes, wrote=True
        )
    return ActionResult(
        "applied", "contour and elevation layers, fields and Z dropped", changes, wrote=True
    )
