"""``strip_coordinates`` for vectors: a local frame whose origin only the remediation knows.

Every coordinate moves by one secret offset (in metres: lon/lat data is first projected to
its UTM zone) and the output carries no CRS; fields that name positions are dropped, as
they would put the data back on the map.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from compliance.geo.crs_identity import WGS84
from compliance.geo.geodesy import transformer
from compliance.measure.position_fields import is_position_name
from compliance.remediate.actions import ActionChanges, ActionContext, ActionResult, Placement
from compliance.remediate.vector_io import (
    LayerMeta,
    geometries,
    layer_metas,
    rewrite,
    with_geometries,
)

__all__ = ["place", "strip_vector_coordinates"]

_ORIGIN_SPREAD_M = 100_000.0  # the secret origin lies up to this far from the data


def _frame(metas: list[LayerMeta]) -> tuple[CRS, tuple[float, float, float, float]] | None:
    """The one CRS every layer with geometry shares (projected), and their joint bounds."""
    placed = [m for m in metas if m.geometry_column is not None and m.bounds is not None]
    crss = {m.crs.to_wkt() if m.crs is not None else None for m in placed}
    if not placed or None in crss or len(crss) != 1:
        return None
    crs = placed[0].crs
    assert crs is not None
    box = np.array([m.bounds for m in placed], dtype=float)
    bounds = (box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max())
    if crs.is_geographic:
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        crs = CRS.from_epsg((32600 if lat >= 0 else 32700) + int((lon + 180) // 6) % 60 + 1)
        bounds = transformer(WGS84, crs).transform_bounds(*bounds, densify_pts=21)
    return crs, bounds


def _moved(geoms: np.ndarray, source: CRS | None, frame: CRS, dx: float, dy: float) -> np.ndarray:
    out = geoms
    if source is not None and not source.equals(frame):
        t = transformer(source, frame)
        out = shapely.transform(out, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return shapely.transform(out, lambda xy: xy - np.array([dx, dy]))


def strip_vector_coordinates(ctx: ActionContext) -> ActionResult:
    """Move everything into a local frame with a secret origin; drop the CRS and position fields."""
    metas = layer_metas(ctx.source)
    frame = _frame(metas)
    if frame is None:
        return ActionResult("cannot_apply", "the layers do not share one CRS to move them by")
    crs, (x0, y0, _, _) = frame
    rng = secrets.SystemRandom()
    dx = x0 - rng.uniform(0.0, _ORIGIN_SPREAD_M)
    dy = y0 - rng.uniform(0.0, _ORIGIN_SPREAD_M)
    changes = ActionChanges(features_changed=0)
    changes.fields_dropped = [
        f"{m.name}.{f}" for m in metas for f in m.fields if is_position_name(f)
    ]

    def edit(layer: LayerMeta, table: pa.Table) -> pa.Table:
        table = table.drop_columns(
            [f for f in table.column_names if f in layer.fields and is_position_name(f)]
        )
        geoms = geometries(layer, table)
        present = ~shapely.is_missing(geoms)
        if not present.any():
            return table
        moved = geoms.copy()
        moved[present] = _moved(geoms[present], layer.crs, crs, dx, dy)
        changes.features_changed = (changes.features_changed or 0) + int(present.sum())
        return with_geometries(layer, table, moved, present)

    done = rewrite(ctx.source, ctx.target, edit, crs_of=lambda _: None)
    changes.fields_dropped += done.geometry_fields_dropped
    return ActionResult(
        "applied",
        "moved to a local frame with an undisclosed origin; CRS and position fields removed",
        changes,
        wrote=True,
        placement=Placement(
            restore=lambda derivative, target: place(derivative, target, crs, (dx, dy)),
            crs=crs,
            offset=(dx, dy),
        ),
    )


def place(derivative: Path, target: Path, crs: CRS, offset: tuple[float, float]) -> None:
    """Write a copy of a stripped derivative back where the original lies (for the re-check)."""

    def edit(layer: LayerMeta, table: pa.Table) -> pa.Table:
        geoms = geometries(layer, table)
        present = ~shapely.is_missing(geoms)
        back = geoms.copy()
        dx, dy = offset
        back[present] = shapely.transform(geoms[present], lambda xy: xy + np.array([dx, dy]))
        return with_geometries(layer, table, back, present)

    rewrite(derivative, target, edit, crs_of=lambda _: crs)
