"""The raster actions, by condition (see ``compliance.remediate.actions`` for the interface).

Each reads the raster the previous step wrote (or the input), places it as the check
does (``readers.dataset``, ``measure.raster_profile``), and hands the work to its module:
``raster_mask``, ``raster_coarsen``, ``raster_strip``. A derivative holds the file's
first image only: other pages or subdatasets are left out, and the reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from compliance.measure.raster_profile import measure_pixels
from compliance.readers.dataset import RasterSource, open_dataset
from compliance.remediate.actions import ActionChanges, ActionContext, ActionFunction, ActionResult
from compliance.remediate.raster_coarsen import coarsen_raster
from compliance.remediate.raster_mask import mask_raster
from compliance.remediate.raster_strip import strip_raster
from compliance.remediate.zone_mask import coarse_mask

__all__ = ["RASTER_ACTIONS"]


class _CannotApply(Exception):
    """Why an action cannot be applied to this raster."""


def _placed(ctx: ActionContext) -> tuple[RasterSource, list[_Placement], float]:
    """The raster, each way it is placed (its header's, then its sidecars': the check
    measures them all) with its outline, and the finest ground pixel spacing over them."""
    raster = open_dataset(ctx.source)
    if not isinstance(raster, RasterSource):
        raise _CannotApply("the data is not a raster")
    placements = []
    for placed in [raster, *raster.placements]:
        if placed.crs is None or placed.transform is None:
            raise _CannotApply(
                "the raster is not placed by a CRS and a geotransform (GCPs or RPCs alone, "
                "or nothing) in its header or a sidecar: warp it to a geotransform first"
            )
        if placed.axis_centres is not None:
            raise _CannotApply(
                "the raster's coordinate arrays are not evenly spaced, so no geotransform "
                "places its pixels: resample it to an even grid first"
            )
        measured = measure_pixels(placed)
        if measured.outline is None or measured.sizes is None:
            raise _CannotApply("the raster's pixels cannot be placed on the Earth")
        placements.append(_Placement(placed, measured.outline, measured.sizes[0]))
    return raster, placements, min(p.finest for p in placements)


@dataclass(frozen=True)
class _Placement:
    """One way the raster's pixels are placed: by its header, or by a sidecar."""

    source: RasterSource
    outline: shapely.Geometry  # in the placement's CRS
    finest: float  # ground pixel spacing, metres

    def in_header(self, raster: RasterSource, shape: shapely.Geometry) -> shapely.Geometry:
        """``shape``, drawn in this placement's CRS, carried through the pixel grid into
        the header's CRS: the same pixels, wherever the header places them."""
        to_header = raster.transform * ~self.source.transform
        return shapely.transform(
            shape, lambda xy: np.column_stack(to_header * (xy[:, 0], xy[:, 1]))
        )


def _others(raster: RasterSource) -> str:
    n = len(raster.other_images)
    return f"; the file's {n} other image(s) are left out of the derivative" if n else ""


def _staging(ctx: ActionContext) -> Path:
    return ctx.scratch / f"{ctx.target.stem}.staging.tif"


def mask_zones(ctx: ActionContext) -> ActionResult:
    """Hide every pixel that meets the zones grown to the coarse grid, wherever a
    placement of the raster (its header's, or a sidecar's) puts it."""
    try:
        raster, placements, _ = _placed(ctx)
    except _CannotApply as why:
        return ActionResult("cannot_apply", str(why))
    grid_m = float(ctx.parameters["grid_m"])
    masks = []
    for placed in placements:
        assert placed.source.crs is not None  # _placed made sure
        mask = coarse_mask(ctx.zones, placed.source.crs, placed.outline.bounds, grid_m)
        if mask is not None and mask.intersects(placed.outline):
            masks.append(placed.in_header(raster, mask))
    if not masks:
        return ActionResult("not_needed", "no zone is near the raster")
    done = mask_raster(ctx.source, ctx.target, shapely.union_all(masks), _staging(ctx))
    return ActionResult(
        "applied",
        f"{done.pixels_masked:,} pixels within the zones, grown to a {grid_m:g} m grid, set "
        "to no data in the image; overviews rebuilt from it; no sidecar kept" + _others(raster),
        ActionChanges(pixels_masked=done.pixels_masked, area_masked_km2=done.area_masked_km2),
        wrote=True,
    )


def coarsen_resolution(ctx: ActionContext) -> ActionResult:
    """Resample (average) to the coarsest resolution the fired rules require."""
    try:
        raster, _, before = _placed(ctx)
    except _CannotApply as why:
        return ActionResult("cannot_apply", str(why))
    wanted = float(ctx.parameters["resolution_m"])
    done = coarsen_raster(ctx.source, ctx.target, before, wanted, _staging(ctx))
    if done is None:
        return ActionResult(
            "not_needed",
            f"pixels are {before:.4g} m apart, not finer than {wanted:g} m",
            ActionChanges(resolution_before_m=before, resolution_after_m=before),
        )
    return ActionResult(
        "applied",
        f"resampled (average) from {before:.4g} m to {before * done.factor:.4g} m "
        f"({done.width} x {done.height} pixels)" + _others(raster),
        ActionChanges(resolution_before_m=before, resolution_after_m=before * done.factor),
        wrote=True,
    )


def strip_coordinates(ctx: ActionContext) -> ActionResult:
    """Write the pixels without CRS, geotransform, GCPs, RPCs, metadata or sidecars."""
    raster = open_dataset(ctx.source)
    if not isinstance(raster, RasterSource):
        return ActionResult("cannot_apply", "the data is not a raster")
    # Uneven coordinate arrays: the geotransform would re-check the copy on the wrong
    # grid, so it is left unplaced (and its re-check cannot clear it).
    even = raster.axis_centres is None
    placement = strip_raster(ctx.source, ctx.target, _staging(ctx), even)
    return ActionResult(
        "applied",
        "written without CRS, geotransform, GCPs, RPCs, metadata or sidecars" + _others(raster),
        wrote=True,
        placement=placement,
    )


RASTER_ACTIONS: dict[str, ActionFunction] = {
    "mask_zones": mask_zones,
    "coarsen_resolution": coarsen_resolution,
    "strip_coordinates": strip_coordinates,
}
