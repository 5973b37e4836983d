"""Pixel positions along an uneven axis: where its coordinate arrays put the centres.

A netCDF's coordinate variables give every column's and row's centre; the geotransform
GDAL derives from them spreads the centres evenly between the first and the last (see
``compliance.readers.coordinate_axes``). Here a pixel position (0 the outer edge of the
first pixel) is carried to the even grid position the coordinates put it at, linearly
between centres and by the end steps past them, so the geotransform then places it on
the ground where the file says it is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["axis_warp", "finest_step_places"]

# Uneven steps measured exactly, the finest first, per axis: each is sampled across the
# whole other axis, where the projection's scale may make it finer still.
_FINEST_STEPS = 64


def axis_warp(centres: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
    """The map from pixel positions to even grid positions along one axis (the identity
    for an even axis; NaN everywhere for one that could not be read)."""
    if centres is None:
        return lambda p: p
    if centres.size < 2 or not np.isfinite(centres).all():
        return lambda p: np.full(np.shape(p), np.nan)
    index = np.arange(centres.size, dtype=float)
    first, last = centres[1] - centres[0], centres[-1] - centres[-2]
    end = float(centres.size - 1)

    def warp(p: np.ndarray) -> np.ndarray:
        t = np.asarray(p, dtype=float) - 0.5
        inside = np.interp(t, index, centres)
        before = centres[0] + t * first
        after = centres[-1] + (t - end) * last
        return np.where(t < 0, before, np.where(t > end, after, inside)) + 0.5

    return warp


def finest_step_places(
    axes: tuple[np.ndarray | None, np.ndarray | None], width: int, height: int, grid: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions (columns, rows) where a lattice step joins the two centres of each
    of an uneven axis's finest steps, each across ``grid`` places of the other axis."""
    cols: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    across_rows = np.linspace(0.0, float(height), grid)
    across_cols = np.linspace(0.0, float(width), grid)
    for axis, centres in enumerate(axes):
        if centres is None or centres.size < 2 or not np.isfinite(centres).all():
            continue
        steps = np.diff(centres)
        finest = np.argsort(steps, kind="stable")[:_FINEST_STEPS]
        # A unit step centred on position i + 1 runs from centre i to centre i + 1.
        at = finest.astype(float) + 1.0
        other = across_rows if axis == 0 else across_cols
        along, across = np.repeat(at, other.size), np.tile(other, at.size)
        cols.append(along if axis == 0 else across)
        rows.append(across if axis == 0 else along)
    if not cols:
        return np.empty(0), np.empty(0)
    return np.concatenate(cols), np.concatenate(rows)
