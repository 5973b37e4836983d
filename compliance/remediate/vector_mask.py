"""``mask_zones`` and ``strip_sensitive_attributes`` for vectors: features at the zones are
cut, dropped or emptied of their attributes, by the coarse mask (``zone_mask``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.geometry.base import BaseGeometry

from compliance.geo.drawn_shapes import as_drawn
from compliance.geo.geodesy import ground_areas_km2
from compliance.remediate.actions import ActionChanges, ActionContext, ActionResult
from compliance.remediate.mask_cut import cut_at_drawn_detail
from compliance.remediate.vector_io import (
    LayerMeta,
    geometries,
    layer_metas,
    rewrite,
    with_geometries,
)
from compliance.remediate.zone_mask import coarse_mask
from compliance.rules.conditions import CONDITIONS

__all__ = ["mask_vector_zones", "strip_vector_attributes"]

_DEFAULT_GRID_M = float(CONDITIONS["mask_zones"].defaults()["grid_m"])


@dataclass
class _Masks:
    """The mask of each layer (None: no zone near it), computed once before the rewrite."""

    by_layer: dict[str, BaseGeometry | None] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)
    area_km2: float = 0.0


def _masks(ctx: ActionContext, grid_m: float) -> _Masks:
    masks = _Masks()
    for layer in layer_metas(ctx.source):
        if layer.geometry_column is None or layer.bounds is None:
            masks.by_layer[layer.name] = None  # no geometry, or no feature to place
            continue
        if layer.crs is None:
            masks.unplaced.append(layer.name)
            continue
        mask = coarse_mask(ctx.zones, layer.crs, layer.bounds, grid_m)
        masks.by_layer[layer.name] = mask
        if mask is not None:
            shapely.prepare(mask)
            # Layers of one dataset lie together: the largest mask stands for them all.
            area = float(ground_areas_km2(np.array([mask], dtype=object), layer.crs)[0])
            masks.area_km2 = round(max(masks.area_km2, area), 3)
    return masks


def mask_vector_zones(ctx: ActionContext) -> ActionResult:
    """Cut (or drop, ``mask_mode="drop"``) every feature where it meets the coarse mask."""
    masks = _masks(ctx, float(ctx.parameters.get("grid_m", _DEFAULT_GRID_M)))
    if masks.unplaced:
        return ActionResult(
            "cannot_apply", f"layer(s) without a CRS cannot be placed: {masks.unplaced}"
        )
    changes = ActionChanges(features_dropped=0, features_cut=0, area_masked_km2=masks.area_km2)
    if all(m is None for m in masks.by_layer.values()):
        return ActionResult("not_needed", "no zone is near the data", changes)

    def edit(layer: LayerMeta, table: pa.Table) -> pa.Table | None:
        mask = masks.by_layer.get(layer.name)
        if mask is None:
            return table
        # Invalid shapes as drawn: a hole drawn outside its shell is met, and cut, too.
        geoms = as_drawn(geometries(layer, table))
        present = ~shapely.is_missing(geoms)
        hit = np.zeros(len(geoms), dtype=bool)
        hit[present] = shapely.intersects(mask, geoms[present])
        if ctx.mask_mode == "drop" or not hit.any():
            changes.features_dropped = (changes.features_dropped or 0) + int(hit.sum())
            return table.filter(pa.array(~hit))
        cut = geoms.copy()
        cut[hit] = cut_at_drawn_detail(geoms[hit], mask)
        gone = hit & shapely.is_empty(cut)
        changes.features_dropped = (changes.features_dropped or 0) + int(gone.sum())
        changes.features_cut = (changes.features_cut or 0) + int((hit & ~gone).sum())
        return with_geometries(layer, table, cut, hit).filter(pa.array(~gone))

    changes.fields_dropped += rewrite(ctx.source, ctx.target, edit).geometry_fields_dropped
    if not (changes.features_dropped or changes.features_cut):
        return ActionResult("not_needed", "no feature meets a zone", changes, wrote=True)
    return ActionResult(
        "applied",
        f"features at the zones {'dropped' if ctx.mask_mode == 'drop' else 'cut out'}",
        changes,
        wrote=True,
    )


def strip_vector_attributes(ctx: ActionContext) -> ActionResult:
    """Empty every attribute of each feature that meets the coarse mask."""
    masks = _masks(ctx, _DEFAULT_GRID_M)
    if masks.unplaced:
        return ActionResult(
            "cannot_apply", f"layer(s) without a CRS cannot be placed: {masks.unplaced}"
        )
    changes = ActionChanges(features_changed=0)
    if all(m is None for m in masks.by_layer.values()):
        return ActionResult("not_needed", "no zone is near the data", changes)

    def edit(layer: LayerMeta, table: pa.Table) -> pa.Table:
        mask = masks.by_layer.get(layer.name)
        if mask is None:
            return table
        geoms = as_drawn(geometries(layer, table))
        present = ~shapely.is_missing(geoms)
        hit = np.zeros(len(geoms), dtype=bool)
        hit[present] = shapely.intersects(mask, geoms[present])
        if not hit.any():
            return table
        changes.features_changed = (changes.features_changed or 0) + int(hit.sum())
        keep = pa.array(~hit)
        for i, name in enumerate(table.column_names):
            if name == layer.geometry_column:
                continue
            column = table.column(i)
            nulls = pa.nulls(len(column), type=column.type)
            table = table.set_column(i, table.schema.field(i), pc.if_else(keep, column, nulls))
        return table

    changes.fields_dropped += rewrite(ctx.source, ctx.target, edit).geometry_fields_dropped
    if not changes.features_changed:
        return ActionResult("not_needed", "no feature meets a zone", changes, wrote=True)
    return ActionResult(
        "applied", "attributes of features at the zones emptied", changes, wrote=True
    )
