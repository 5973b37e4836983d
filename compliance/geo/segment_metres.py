"""Ground lengths of many short segments, in metres, whatever CRS they are drawn in.

Projecting every vertex and solving a geodesic per segment costs several times the read
of a large layer. Over a batch's extent the CRS's local linear map (metres east and north
per grid unit along x and along y) varies smoothly, so it is measured exactly at the nodes
of a grid over the batch; a segment's ground length is the map of its nearest node applied
to its grid vector. Cells are about 500 m across (fewer nodes over a few streets, at
most 33 a side): there the map changes by about a part in ten thousand at most (Web
Mercator at 60 degrees); over a continent, whose cells are larger, by a few per cent.
Where the map changes less than that over the whole extent (a town in its own projected
CRS), the one map at its middle serves every segment: finding each segment's node would
cost several times the length itself. This ranks segments and fills histograms; the few
values a rule reads are measured again exactly (``exact_lengths_m``).
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from compliance.geo.geodesy import to_lonlat
from compliance.geo.ground_distance import distances_m, metres_per_degree

__all__ = ["GroundMap", "GroundMaps", "exact_lengths_m"]

_NODES = 33  # grid nodes per side over a batch's extent, at most
_CELL_M = 500.0  # cells need be no smaller: even Web Mercator at 60N changes 1e-4 across one
# One map serves the extent when no node's map is further from it than this share of its
# smallest stretch: squared lengths then differ by at most this much, lengths by half.
_ONE_MAP_TOLERANCE = 5e-5
# One map for a whole extent is drawn over this share more than its batch's extent on each
# side, to serve the batches after it.
_MAP_MARGIN = 0.05


class GroundMap:
    """The local linear map from grid units to ground metres over one extent."""

    def __init__(self, crs: CRS, bounds: tuple[float, float, float, float]) -> None:
        x0, y0, x1, y1 = self.bounds = bounds
        self.nodes = n = _node_count(crs, bounds)
        self.origin = np.array([x0, y0])
        self.cell = np.array([max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)]) / (n - 1)
        gx = x0 + np.arange(n) * self.cell[0]
        gy = y0 + np.arange(n) * self.cell[1]
        nx, ny = (a.ravel() for a in np.meshgrid(gx, gy, indexing="ij"))
        # A step small beside the cell, large beside the coordinates' round-off.
        step = np.maximum(self.cell * 1e-3, np.abs([x0, y0]) * 1e-9 + 1e-9)
        xs = np.concatenate([nx, nx + step[0], nx])
        ys = np.concatenate([ny, ny, ny + step[1]])
        lon, lat = to_lonlat(crs, xs, ys)
        lon, lat = lon.reshape(3, -1), lat.reshape(3, -1)
        east, north = metres_per_degree(lat[0])
        dlon = (lon[1:] - lon[0] + 180.0) % 360.0 - 180.0  # across the antimeridian too
        dlat = lat[1:] - lat[0]
        ex, nx_, ey, ny_ = (
            dlon[0] * east / step[0],
            dlat[0] * north / step[0],
            dlon[1] * east / step[1],
            dlat[1] * north / step[1],
        )
        # The metric at each node: squared ground length = a dx² + 2b dx dy + c dy².
        self.a = ex * ex + nx_ * nx_
        self.b = ex * ey + nx_ * ny_
        self.c = ey * ey + ny_ * ny_
        self.one_map = _one_map(self.a, self.b, self.c)

    def lengths_m(self, starts: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Ground length of each grid vector ``steps[i]`` (dx, dy) starting at ``starts[i]``
        (both (n, 2)), with the metric of the nearest node; NaN where the CRS gives no
        position there."""
        dx, dy = steps[:, 0], steps[:, 1]
        if self.one_map is not None:
            a, b, c = self.one_map
            return np.sqrt(a * dx * dx + 2 * b * dx * dy + c * dy * dy)
        cells = (starts - self.origin) / self.cell
        np.rint(cells, out=cells)
        np.clip(cells, 0, self.nodes - 1, out=cells)
        at = cells.astype(np.intp)
        node = at[:, 0] * self.nodes + at[:, 1]
        squared = self.a[node] * dx * dx + 2 * self.b[node] * dx * dy + self.c[node] * dy * dy
        return np.sqrt(squared)

    def holds(self, bounds: tuple[float, float, float, float]) -> bool:
        """Whether ``bounds`` lie within the extent this map was drawn over."""
        x0, y0, x1, y1 = self.bounds
        return x0 <= bounds[0] and y0 <= bounds[1] and bounds[2] <= x1 and bounds[3] <= y1

    @property
    def everywhere(self) -> bool:
        """Whether the CRS gave a position at every node."""
        return bool(
            np.isfinite(self.a).all() and np.isfinite(self.b).all() and np.isfinite(self.c).all()
        )


class GroundMaps:
    """Ground maps for one CRS, batch after batch. Where the last batch's map was one map
    for its whole extent, the next is drawn over a little more than its batch's extent and
    serves the batches after it that fall inside: data stored in no spatial order spans
    about the same extent in every batch. Maps of a node each are drawn over their batch's
    own extent, as a map is when it has no batch before it."""

    def __init__(self, crs: CRS) -> None:
        self.crs = crs
        self._last: GroundMap | None = None

    def over(self, bounds: tuple[float, float, float, float]) -> GroundMap:
        last = self._last
        if last is not None and last.holds(bounds):
            return last
        if last is not None and last.one_map is not None:
            wider = self._wider(bounds)
            if wider.one_map is not None and wider.everywhere:
                self._last = wider
                return wider
        self._last = ground = GroundMap(self.crs, bounds)
        return ground

    def _wider(self, bounds: tuple[float, float, float, float]) -> GroundMap:
        x0, y0, x1, y1 = bounds
        pad_x, pad_y = (x1 - x0) * _MAP_MARGIN, (y1 - y0) * _MAP_MARGIN
        wider = (x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y)
        if self.crs.is_geographic:
            wider = (wider[0], max(wider[1], -90.0), wider[2], min(wider[3], 90.0))
        return GroundMap(self.crs, wider)


def _one_map(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[float, float, float] | None:
    """The map at the middle of the nodes' range, when it is within ``_ONE_MAP_TOLERANCE``
    of every node's; None otherwise (or where a node has no map).

    For a metric M and a change E, |v'Ev| / v'Mv <= |E| / (M's smaller eigenvalue), and
    |E|'s spectral norm is at most its Frobenius norm."""
    if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(c).all()):
        return None
    a0, b0, c0 = ((float(v.max()) + float(v.min())) / 2 for v in (a, b, c))
    smallest = (a0 + c0) / 2 - np.hypot((a0 - c0) / 2, b0)
    change = np.sqrt((a - a0) ** 2 + 2 * (b - b0) ** 2 + (c - c0) ** 2).max()
    return (a0, b0, c0) if smallest > 0 and change <= _ONE_MAP_TOLERANCE * smallest else None


def _node_count(crs: CRS, bounds: tuple[float, float, float, float]) -> int:
    """Nodes per side for cells of about ``_CELL_M`` across the extent's diagonal, at
    most ``_NODES``: a batch over a few streets needs a few nodes, not a thousand."""
    x0, y0, x1, y1 = bounds
    lon, lat = to_lonlat(crs, np.array([x0, x1]), np.array([y0, y1]))
    diagonal = distances_m(lon[:1], lat[:1], lon[1:], lat[1:])[0]
    if not np.isfinite(diagonal):
        return _NODES
    return int(np.clip(np.ceil(diagonal / _CELL_M) + 1, 3, _NODES))


def exact_lengths_m(crs: CRS, ends: np.ndarray) -> np.ndarray:
    """Geodesic length of each segment given as rows (x1, y1, x2, y2) in ``crs``."""
    if ends.size == 0:
        return np.empty(0)
    lon1, lat1 = to_lonlat(crs, ends[:, 0], ends[:, 1])
    lon2, lat2 = to_lonlat(crs, ends[:, 2], ends[:, 3])
    return distances_m(lon1, lat1, lon2, lat2)
