"""GDAL's failures while a layer streams are named, not dropped.

GDAL's Arrow stream tells its caller nothing when a driver fails on a feature: the
stream ends there as if the layer ended (a PMTiles leaf directory it cannot decode), or
the feature is skipped (a GeoJSON geometry without coordinates), and the message goes to
GDAL's error handler only. pyogrio's ``read_arrow`` returns what came before without an
error, so a check that trusted the stream measured part of a layer as the whole.

Claim under test: each failure is kept by the dataset with its layer and named in the
profile as geometry not read (the check holds for review); a file GDAL reads cleanly
names none. Truth: pyogrio's own reading of the same files, which raises nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest

from compliance import Checker, Effect
from compliance.readers.gdal_dataset import VectorDataset, open_vector

READ_ONLY: dict[str, str] = {}
SAID = "GDAL failed while reading it"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _sequence(path: Path, broken: bool) -> Path:
    """Six points near Seoul as GeoJSON text sequence, the fourth line cut short."""
    lines = [
        json.dumps({"type": "Feature", "properties": {"i": i},
                    "geometry": {"type": "Point", "coordinates": [127 + i * 1e-3, 37.5]}})
        for i in range(6)
    ]  # fmt: skip
    if broken:
        lines[3] = lines[3][: len(lines[3]) // 2]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_skipped_feature_is_kept_by_the_dataset(tmp_path):
    path = _sequence(tmp_path / "cut.geojsons", broken=True)
    assert pyogrio.read_arrow(path)[1].num_rows == 5  # and no error: the line is skipped
    dataset = open_vector(path, READ_ONLY)
    assert isinstance(dataset, VectorDataset)
    try:
        rows = sum(batch.num_rows for _, batch in dataset.layer_batches("cut", 100))
        assert rows == 5
        (failure,) = dataset.take_failures()
        assert failure.startswith("cut: GDAL failed while reading it (JSON parsing error")
        assert dataset.take_failures() == []  # said once
    finally:
        dataset.close()


def test_a_clean_file_keeps_no_failure(tmp_path, checker):
    path = _sequence(tmp_path / "whole.geojsons", broken=False)
    dataset = open_vector(path, READ_ONLY)
    try:
        assert sum(batch.num_rows for _, batch in dataset.layer_batches("whole", 100)) == 6
        assert dataset.take_failures() == []
    finally:
        dataset.close()
    verdict = checker.check(path)
    assert not any(SAID in said for said in verdict.profile.unread_geometries)


def test_malformed_geometries_of_a_real_file_are_named(real_data, checker):
    """GDAL's autotest file of geometry objects without coordinates: GDAL reads each as
    no geometry and reports a failure per object."""
    path = real_data / "vectors" / "gdal_autotest2" / "ogr_geojson_14.geojson"
    assert pyogrio.read_arrow(path)[1].num_rows > 0
    verdict = checker.check(path)
    named = [said for said in verdict.profile.unread_geometries if SAID in said]
    assert named and "Missing 'coordinates' member" in named[0]
    assert len(named[0]) < 400  # one message per feature: cut short, not the whole list
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
