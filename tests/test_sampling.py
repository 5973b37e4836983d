"""The detail sample covers the whole layer, whatever feature count the file declares."""

from __future__ import annotations

import sqlite3

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from compliance import Checker
from compliance.sampling import SpreadSample, even_stride


def _take(sample: SpreadSample, rows: int, batch: int = 1000, present_every: int = 1) -> None:
    for first in range(0, rows, batch):
        n = min(batch, rows - first)
        present = (first + np.arange(n)) % present_every == 0
        picks = sample.wanted(first, present)
        sample.add(first, picks, (first + picks).astype(object))


@pytest.mark.parametrize("declared", [None, 0, 10, 25_000, 100_000])
@pytest.mark.parametrize("rows", [500, 30_000, 100_000])
def test_the_sample_spreads_over_every_row_whatever_count_is_declared(declared, rows):
    sample = SpreadSample.for_count(declared, size=2_000)
    _take(sample, rows)
    if sample.too_sparse(rows):
        sample = SpreadSample(even_stride(rows, 2_000), 2_000)
        _take(sample, rows)
    taken = np.array(sample.geometries(), dtype=np.int64)
    # Evenly spaced from the first row to within one stride of the last, never more than
    # twice the size asked for, and every row when the layer is small.
    assert taken[0] == 0 and rows - taken[-1] <= sample.stride
    assert np.all(np.diff(taken) == sample.stride)
    assert min(rows, 2_000) <= taken.size <= 4_000 or taken.size == rows


def test_rows_without_geometry_are_skipped_not_counted():
    sample = SpreadSample.for_count(10_000, size=1_000)
    _take(sample, 10_000, present_every=3)
    taken = np.array(sample.geometries(), dtype=np.int64)
    assert np.all(taken % 3 == 0) and np.all(taken % sample.stride == 0)


def test_a_stride_far_too_long_for_the_rows_seen_is_too_sparse():
    assert SpreadSample.for_count(10**9).too_sparse(30_000)
    assert not SpreadSample.for_count(30_000).too_sparse(30_000)
    assert not SpreadSample.for_count(60_000).too_sparse(30_000)  # a count twice too large


def _fine_after_coarse(path, coarse: int, fine: int, declared: int | None) -> str:
    """``coarse`` 2 km squares, then ``fine`` 2 m squares, with a forged feature count."""
    n = coarse + fine
    rng = np.random.default_rng(0)
    x, y = 127.0 + rng.random(n) * 0.5, 36.0 + rng.random(n) * 0.5
    side = np.where(np.arange(n) < coarse, 0.02, 0.00002)
    table = pa.table(
        {"id": np.arange(n), "geometry": shapely.to_wkb(shapely.box(x, y, x + side, y + side))}
    )
    pyogrio.write_arrow(
        table, path, driver="GPKG", geometry_name="geometry", geometry_type="Polygon",
        crs="EPSG:4326", layer="buildings",
    )  # fmt: skip
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_ogr_contents SET feature_count = ?", (declared,))
    return str(path)


@pytest.mark.parametrize(("coarse", "declared"), [(20_000, 0), (20_000, None), (1, 10**9)])
def test_a_forged_feature_count_does_not_hide_the_fine_detail(tmp_path, coarse, declared):
    # Most of the layer is 2 m detail (about 1:4,000). Its count said 0 (or nothing), so
    # the sample was its first 20,000 rows, all coarse; or it said a billion, so the sample
    # was the first row of each batch. Either way the layer passed as a small-scale map.
    checker = Checker(packs=["kr"])
    path = _fine_after_coarse(tmp_path / "forged.gpkg", coarse, 25_000, declared)
    verdict = checker.check(path)
    assert verdict.profile.resolution_m is not None and verdict.profile.resolution_m < 5
    assert verdict.verdict != "allow"
