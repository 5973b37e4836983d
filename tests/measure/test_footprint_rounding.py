"""The footprint a verdict shows is rounded to 1e-7 degrees and stays a valid geometry."""

from __future__ import annotations

import numpy as np
import shapely

from compliance.measure.profile_finish import _rounded


def _on_grid(geom: shapely.Geometry) -> bool:
    scaled = shapely.get_coordinates(geom) * 1e7
    return bool(np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6))


def test_a_footprint_is_rounded_vertex_by_vertex_where_that_keeps_it_valid():
    footprint = shapely.segmentize(shapely.box(126.912345678, 37.512345678, 127.0, 37.6), 0.01)
    rounded = _rounded(footprint)
    assert _on_grid(rounded) and rounded.is_valid
    # The same shape GEOS's snap rounding gives, vertex for vertex in the footprint's order.
    assert rounded.equals(shapely.set_precision(footprint, 1e-7))
    assert shapely.get_num_coordinates(rounded) == shapely.get_num_coordinates(footprint)


def test_a_footprint_that_rounding_would_fold_is_repaired():
    # A slit 4e-8 degrees wide (4 mm) into a square: rounded vertex by vertex its two edges
    # fall on one line, and the polygon overlaps itself there.
    footprint = shapely.Polygon(
        [(0, 0), (1, 0), (1, 0.5), (0.6, 0.5), (0.6, 0.50000004), (1, 0.50000004), (1, 1), (0, 1)]
    )
    assert footprint.is_valid
    assert not shapely.set_precision(footprint, 1e-7, mode="pointwise").is_valid
    rounded = _rounded(footprint)
    assert rounded.is_valid and _on_grid(rounded)
    assert rounded.equals(shapely.set_precision(footprint, 1e-7))
