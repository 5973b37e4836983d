"""A projection's areal scale factor at many points, from PROJ.

PROJ computes factors one point at a time, at several microseconds each: for tens of
thousands of small pieces over a city that is most of what measuring their ground area
costs. The factor varies smoothly, so it is computed once at the nodes of a fine grid over
each whole degree of longitude and latitude the points fall in (kept for the process) and
interpolated bilinearly: a node every 1/32 degree keeps the error under a part in a
million even where Web Mercator's factor changes fastest at 60 degrees. Points whose cell
has a node PROJ gives no factor for are computed one by one, as are small sets of points.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Proj

__all__ = ["areal_scale", "projection"]

_GRID_FROM = 256  # fewer points are computed one by one
_NODES = 33  # per side of a one-degree tile
_TILE_FROM = 128  # a tile not computed yet is computed for at least this many points
_MAX_TILES = 512
# Tiles computed so far, per CRS: the same few over and over in a service or an audit.
# Filled by any thread; a tile computed twice is only work done twice.
_TILES: dict[tuple[str, int, int], np.ndarray] = {}


def areal_scale(crs_wkt: str, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Areal scale factor at each lon/lat point, as PROJ's ``get_factors`` gives it."""
    proj = projection(crs_wkt)
    finite = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) < 89.0)
    if lon.size < _GRID_FROM or not finite.any():
        return _exact(proj, lon, lat)
    out = _exact(proj, lon[~finite], lat[~finite]) if not finite.all() else None
    result = np.full(lon.size, np.nan)
    if out is not None:
        result[~finite] = out
    at = np.flatnonzero(finite)
    tx, ty = np.floor(lon[at]).astype(np.int64), np.floor(lat[at]).astype(np.int64)
    # Tiles as one integer each (a row-wise unique costs ten times as much): the column of
    # each longitude among those present, then the latitude (|lat| < 89: 178 rows at most).
    columns, column = np.unique(tx, return_inverse=True)
    keys, which = np.unique(column * 180 + (ty + 90), return_inverse=True)
    tiles = np.column_stack([columns[keys // 180], keys % 180 - 90])
    counts = np.bincount(which.ravel(), minlength=len(tiles))
    for k, (x0, y0) in enumerate(tiles.tolist()):
        mine = at[which.ravel() == k]
        nodes = _TILES.get((crs_wkt, x0, y0))
        if nodes is None and counts[k] < _TILE_FROM:  # a grid would cost more than it saves
            result[mine] = _exact(proj, lon[mine], lat[mine])
            continue
        if nodes is None:
            nodes = _tile(crs_wkt, x0, y0)
        result[mine] = _interpolated(nodes, lon[mine] - x0, lat[mine] - y0)
    unknown = at[~np.isfinite(result[at])]  # a node without a factor: no interpolation there
    if unknown.size:
        result[unknown] = _exact(proj, lon[unknown], lat[unknown])
    return result


def _interpolated(nodes: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    gx, gy = fx * (_NODES - 1), fy * (_NODES - 1)
    ix = np.clip(np.floor(gx).astype(np.intp), 0, _NODES - 2)
    iy = np.clip(np.floor(gy).astype(np.intp), 0, _NODES - 2)
    sx, sy = gx - ix, gy - iy
    return (
        nodes[ix, iy] * (1 - sx) * (1 - sy)
        + nodes[ix + 1, iy] * sx * (1 - sy)
        + nodes[ix, iy + 1] * (1 - sx) * sy
        + nodes[ix + 1, iy + 1] * sx * sy
    )


def _tile(crs_wkt: str, x0: int, y0: int) -> np.ndarray:
    """Factors at the nodes of the one-degree tile whose south-west corner is (x0, y0)."""
    steps = np.linspace(0.0, 1.0, _NODES)
    nx, ny = np.meshgrid(x0 + steps, y0 + steps, indexing="ij")
    nodes = _exact(projection(crs_wkt), nx.ravel(), ny.ravel()).reshape(_NODES, _NODES)
    if len(_TILES) >= _MAX_TILES:
        _TILES.pop(next(iter(_TILES)), None)
    _TILES[(crs_wkt, x0, y0)] = nodes
    return nodes


@lru_cache(maxsize=64)
def projection(crs_wkt: str) -> Proj:
    """The PROJ object of a CRS, built once per WKT (its scale factors are asked often)."""
    return Proj(CRS.from_wkt(crs_wkt))


def _exact(proj: Proj, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.asarray(proj.get_factors(lon, lat, errcheck=False).areal_scale, dtype=float)
