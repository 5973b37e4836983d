"""Each row's box for the attribute checks (``attribute_positions.row_boxes``): the boxes
read from the WKB bytes, with the rows left out there (collections, in a batch with
damaged bytes) decoded by GEOS, picked one by one for a few rows and by Arrow's take for
many: both give GEOS's own bounds. Truth: shapely's bounds of the same geometries."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely

from compliance.measure import attribute_positions
from compliance.measure.attribute_positions import row_boxes
from compliance.measure.wkb_bounds import wkb_boxes


def _column(n: int) -> tuple[pa.Array, list[shapely.Geometry | None]]:
    rng = np.random.default_rng(n)
    geoms: list[shapely.Geometry | None] = []
    for i in range(n):
        x, y = 126.9 + rng.random() * 0.1, 37.5 + rng.random() * 0.1
        if i % 3 == 0:  # a collection: the WKB reader leaves it to GEOS
            geoms.append(
                shapely.GeometryCollection(
                    [shapely.Point(x, y), shapely.box(x, y, x + 1e-3, y + 1e-3)]
                )
            )
        elif i % 7 == 0:
            geoms.append(None)
        else:
            geoms.append(shapely.box(x, y, x + 1e-4, y + 2e-4))
    wkb = [None if g is None else shapely.to_wkb(g) for g in geoms]
    # Damaged bytes: GeoArrow's kernel refuses the batch, which is then read row by row,
    # collections left to GEOS; GEOS cannot read this row either (no box).
    wkb[1], geoms[1] = b"\x01\x03\x00", None
    return pa.array(wkb, pa.binary()), geoms


@pytest.mark.parametrize("few", [True, False])
@pytest.mark.parametrize("n", [10, 40])
def test_row_boxes_are_geos_bounds_whether_rows_are_few_or_many(monkeypatch, few, n):
    monkeypatch.setattr(attribute_positions, "_FEW_ROWS", 10_000 if few else 0)
    column, geoms = _column(n)
    found = wkb_boxes(column)
    assert (~found.fast & ~found.null).any()  # some rows left to GEOS
    boxes = row_boxes(column, found)
    expected = np.array(
        [[np.nan] * 4 if g is None else shapely.bounds(g) for g in geoms], dtype=float
    )
    assert np.array_equal(boxes, expected, equal_nan=True)
