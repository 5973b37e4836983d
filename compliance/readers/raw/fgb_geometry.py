"""A FlatGeobuf feature's geometry rebuilt as a shapely geometry in its XY plane.

A FlatGeobuf ``Geometry`` table (feature.fbs) holds ``ends`` (field 0: where each ring or
line ends, in points), ``xy`` (1: the coordinates, interleaved), ``type`` (6: the OGC type
code; 0 in a feature when the header gives it) and ``parts`` (7: the geometries of a
multi-polygon or a collection). Heights and measures are not read. Rings are all filled
as polygons, holes too (a hole lies inside its shell: only more ground can be met).
Curves are not rebuilt: where an arc runs is not inside its points' box.
"""

from __future__ import annotations

import numpy as np
import shapely

from compliance.readers.raw.flatbuffer_tables import Table

__all__ = ["fgb_geometry"]

_POINT, _LINE, _POLYGON, _MULTIPOINT, _MULTILINE, _MULTIPOLYGON, _COLLECTION = range(1, 8)
_POLYHEDRAL_SURFACE, _TIN, _TRIANGLE = 15, 16, 17
_DEEPEST = 8  # collections of collections: deeper than any writer nests them


class _Decoder:
    """Rebuilds one feature's geometry. Tables and coordinates are paid for out of the
    feature's own size: a writer stores each once, so an honest geometry never runs out,
    while one whose parts point at the same bytes over and over stops at once."""

    def __init__(self, size: int) -> None:
        self._left = size

    def _pay(self, nbytes: int) -> None:
        self._left -= nbytes
        if self._left < 0:
            raise ValueError("a geometry reads the same bytes again and again")

    def _pieces(self, table: Table) -> list[np.ndarray]:
        """The geometry's points, split into its rings or lines by ``ends``."""
        xy = table.numbers(1, "<f8")
        if xy is None or len(xy) % 2:
            raise ValueError("coordinates are not in pairs")
        self._pay(8 * len(xy))
        points = xy.reshape(-1, 2)
        ends = table.numbers(0, "<u4")
        if ends is None or not len(ends):
            return [points] if len(points) else []
        self._pay(4 * len(ends))
        bounds = np.concatenate([[0], ends.astype(np.int64)])
        if np.any(np.diff(bounds) <= 0) or bounds[-1] != len(points):
            raise ValueError("ends do not split the coordinates")
        return [points[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _parts(self, table: Table, depth: int) -> list[Table]:
        if depth >= _DEEPEST:
            raise ValueError("parts nested deeper than any writer nests them")
        parts = table.tables(7)
        self._pay(4 * len(parts))
        return parts

    def _polygons(self, table: Table, kind: int, depth: int) -> list[shapely.Geometry]:
        """The filled rings of a polygon, or of each part of a multi-polygon or surface."""
        if kind in (_POLYGON, _TRIANGLE):
            return [shapely.Polygon(p) for p in self._pieces(table) if len(p) >= 3]
        out: list[shapely.Geometry] = []
        for part in self._parts(table, depth):
            out += self._polygons(part, _kind(part, _POLYGON), depth + 1)
        return out

    def geometry(self, table: Table, kind: int, depth: int) -> shapely.Geometry | None:
        self._pay(4)
        if kind == _POINT:
            pieces = self._pieces(table)
            return shapely.Point(pieces[0][0]) if pieces else shapely.Point()
        if kind in (_LINE, _MULTILINE):
            lines = [shapely.LineString(p) for p in self._pieces(table) if len(p) >= 2]
            return shapely.MultiLineString(lines)
        if kind == _MULTIPOINT:
            pieces = self._pieces(table)
            return shapely.multipoints(np.concatenate(pieces)) if pieces else shapely.MultiPoint()
        if kind in (_POLYGON, _TRIANGLE, _MULTIPOLYGON, _POLYHEDRAL_SURFACE, _TIN):
            return shapely.MultiPolygon(self._polygons(table, kind, depth))
        if kind == _COLLECTION:
            parts = [self.geometry(p, _kind(p, 0), depth + 1) for p in self._parts(table, depth)]
            return None if any(p is None for p in parts) else shapely.GeometryCollection(parts)
        return None  # a curve, or a type this reader does not know


def _kind(table: Table, default: int) -> int:
    """The geometry's own type, or ``default`` where it gives 0 (the header's, a part's)."""
    return table.scalar(6, "<B", 0) or default


def fgb_geometry(feature: bytes, header_kind: int) -> shapely.Geometry | None:
    """The geometry of one feature's flatbuffer (without its size prefix): an empty
    geometry when it has none, None when it cannot be rebuilt. ``header_kind`` is the
    layer's geometry type, which a feature's own type (when not 0) overrides."""
    try:
        geometry = Table.root(feature).table(0)
        if geometry is None:
            return shapely.GeometryCollection()
        return _Decoder(len(feature)).geometry(geometry, _kind(geometry, header_kind), 0)
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return None
