"""A sample of a layer's geometries spread evenly over all of its rows.

The detail measures judge a whole layer by its sample, so the sample must not depend on
the feature count a file declares: a stale or forged count (GeoPackage keeps it in a table
anyone can edit) would otherwise confine it to the first rows, or to a handful of them.
Every ``stride``-th row is taken, counted from the layer's first row. When more than twice
the wanted size has been taken (the declared count was too small, or unknown), every other
one is dropped and the stride doubles; a stride found far too long once the real count is
known (the declared count was too large) is the caller's cue to read the sample again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_SIZE = 20_000  # geometries per layer used for the detail measures


def even_stride(rows: int | None, size: int = SAMPLE_SIZE) -> int:
    """The stride that takes about ``size`` rows spread over ``rows`` (1 when unknown)."""
    return max(1, -(-rows // size)) if rows is not None and rows > 0 else 1


@dataclass
class SpreadSample:
    stride: int
    size: int = SAMPLE_SIZE
    _rows: list[np.ndarray] = field(default_factory=list)
    _geoms: list[np.ndarray] = field(default_factory=list)
    _count: int = 0

    @classmethod
    def for_count(cls, declared: int | None, size: int = SAMPLE_SIZE) -> SpreadSample:
        return cls(even_stride(declared, size), size)

    def wanted(self, first_row: int, present: np.ndarray) -> np.ndarray:
        """Positions, within a batch starting at layer row ``first_row``, to take."""
        rows = first_row + np.arange(present.size)
        return np.flatnonzero(present & (rows % self.stride == 0))

    def add(self, first_row: int, positions: np.ndarray, geoms: np.ndarray) -> None:
        self._rows.append(first_row + positions)
        self._geoms.append(geoms)
        self._count += positions.size
        while self._count > 2 * self.size:
            self._thin()

    def _thin(self) -> None:
        rows, geoms = np.concatenate(self._rows), np.concatenate(self._geoms)
        self.stride *= 2
        keep = rows % self.stride == 0
        self._rows, self._geoms = [rows[keep]], [geoms[keep]]
        self._count = int(keep.sum())

    def too_sparse(self, rows_seen: int) -> bool:
        """Whether the stride skipped far more of the layer than its real row count asks."""
        return self.stride > 2 * even_stride(rows_seen, self.size)

    def geometries(self) -> np.ndarray:
        if not self._geoms:
            return np.empty(0, dtype=object)
        return np.concatenate(self._geoms)
