"""One GDAL open per vector file: what the open dataset answers is what pyogrio answers,
each question asked of pyogrio by itself (a new open each), on every file of the corpus;
and a check asks pyogrio nothing of a GeoJSON or GeoPackage, and leaves nothing open."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

import compliance.checker as checker_module
from compliance.readers.dataset import open_dataset
from compliance.readers.formats import UPLOAD_VECTOR_DRIVERS
from compliance.readers.gdal_dataset import VectorDataset, open_vector
from compliance.readers.gdal_library import gdal_library
from compliance.readers.pyogrio_dataset import PyogrioDataset
from compliance.readers.sources import BATCH_SIZE, READ_ONLY
from tests.builders import GMT_POINT

KEYS = ("layer_name", "crs", "fields", "geometry_type", "features", "total_bounds", "driver")
KEYS_TOO = ("layer_metadata", "dataset_metadata", "encoding")


def _pyogrio(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """pyogrio's answer, or its error as the readers keep it (type and first clause)."""
    try:
        return call(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return None, f"{type(exc).__name__}: {str(exc).split(';')[0]}"


def _same_info(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    for key in KEYS + KEYS_TOO:
        expected = theirs[key]
        if key == "fields":
            expected = list(expected)
        assert ours[key] == expected, key


def _compare(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, their_error = _pyogrio(pyogrio.read_info, path, **READ_ONLY)
        try:
            dataset = open_vector(path, READ_ONLY)
        except pyogrio.errors.DataSourceError as exc:
            assert their_error == f"DataSourceError: {str(exc).split(';')[0]}"
            return
        assert isinstance(dataset, VectorDataset)
        try:
            if theirs is None:
                # pyogrio could not read layer 0 (IndexError where there is none): nor can we.
                with pytest.raises((pyogrio.errors.DataLayerError, ValueError)):
                    dataset.info(0)
                return
            _same_info(dataset.info(0), theirs)
            listed, _ = _pyogrio(pyogrio.list_layers, path)
            if listed is not None and theirs["driver"] not in ("GML", "NAS"):
                assert dataset.layer_names() == [str(n) for n in listed[:, 0]]
            name = str(theirs["layer_name"])
            with pyogrio.open_arrow(
                path, layer=name, columns=[], batch_size=BATCH_SIZE, use_pyarrow=True, **READ_ONLY
            ) as (meta, reader):
                expected = list(reader)
            got = list(dataset.layer_batches(name, BATCH_SIZE))
            assert [b.num_rows for _, b in got] == [b.num_rows for b in expected]
            assert all(g.equals(e) for (_, g), e in zip(got, expected, strict=True))
            assert all(primary == (meta["geometry_name"] or "") for primary, _ in got)
        finally:
            dataset.close()


def _corpus(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "MANIFEST.md")


def test_pyogrio_gdal_library_is_found() -> None:
    # Without it every check opens a file several times again: a silent slowdown.
    lib = gdal_library()
    assert lib is not None
    assert lib.GDALVersionInfo(b"RELEASE_NAME").decode() == pyogrio.__gdal_version_string__


def test_only_the_drivers_named_may_open_a_file(tmp_path: Path) -> None:
    # An upload is opened by the upload drivers alone: a driver off the list never parses
    # it, whether or not this process has unregistered the others.
    gmt = tmp_path / "pins.gmt"
    gmt.write_bytes(GMT_POINT)
    dataset = open_vector(gmt, READ_ONLY)
    try:
        assert dataset.info(0)["driver"] == "OGR_GMT"
    finally:
        dataset.close()
    with pytest.raises(pyogrio.errors.DataSourceError, match="not recognized"):
        open_vector(gmt, READ_ONLY, UPLOAD_VECTOR_DRIVERS)
    geojson = tmp_path / "pins.geojson"
    geojson.write_text('{"type": "Point", "coordinates": [127, 37]}')
    dataset = open_vector(geojson, READ_ONLY, UPLOAD_VECTOR_DRIVERS)
    try:
        assert dataset.info(0)["driver"] == "GeoJSON"
    finally:
        dataset.close()
    with pytest.raises(pyogrio.errors.DataSourceError):
        open_vector(geojson, READ_ONLY, {"GPKG"})


def test_every_corpus_file_reads_as_pyogrio_reads_it(real_data: Path) -> None:
    files = _corpus(real_data)
    assert len(files) > 150
    for path in files:
        _compare(path)


@pytest.fixture
def two_layer_gpkg(tmp_path: Path) -> Path:
    import geopandas as gpd

    path = tmp_path / "two.gpkg"
    points = gpd.GeoDataFrame(
        {"naam": ["é", "ß"]}, geometry=shapely.points([[127.0, 37.5], [127.1, 37.6]]), crs=4326
    )
    lines = gpd.GeoDataFrame(
        {"n": [1]},
        geometry=[shapely.LineString([(200000, 450000), (200010, 450010)])],
        crs=5186,
    )
    points.to_file(path, layer="points", engine="pyogrio")
    lines.to_file(path, layer="lines", engine="pyogrio")
    return path


def test_every_layer_and_its_stream_match(two_layer_gpkg: Path) -> None:
    dataset = open_vector(two_layer_gpkg, READ_ONLY)
    fallback = PyogrioDataset(two_layer_gpkg, READ_ONLY)
    try:
        assert dataset.layer_names() == ["points", "lines"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyogrio: "more than one layer"
            fallback.info(0)
        assert fallback.layer_names() == ["points", "lines"]
        for name in ("points", "lines"):
            theirs = pyogrio.read_info(two_layer_gpkg, layer=name)
            _same_info(dataset.info(name), theirs)
            _same_info(fallback.info(name), theirs)
            ours = [b for _, b in dataset.layer_batches(name, 1)]  # a batch per feature
            again = [b for _, b in fallback.layer_batches(name, 1)]
            assert len(ours) == theirs["features"] == len(again)
            assert all(a.equals(b) for a, b in zip(ours, again, strict=True))
            schema, primary = dataset.geometry_schema(name)
            assert (schema, primary) == fallback.geometry_schema(name)
            assert schema.names == [primary]  # no attribute, no FID: geometries only
        assert dataset.info("points")["crs"] == "EPSG:4326"
        assert dataset.info("lines")["crs"] == "EPSG:5186"
    finally:
        dataset.close()
    with pytest.raises(pyogrio.errors.DataLayerError):
        open_vector(two_layer_gpkg, READ_ONLY).info("no such layer")


def test_gdal_failures_read_as_pyogrio_words_them(tmp_path: Path) -> None:
    for name, content in (("not.geojson", b"{ not json"), ("empty.gpkg", b""), ("x.shp", b"\0")):
        path = tmp_path / name
        path.write_bytes(content)
        _, their_error = _pyogrio(pyogrio.read_info, path, **READ_ONLY)
        with pytest.raises(pyogrio.errors.DataSourceError) as raised:
            open_vector(path, READ_ONLY)
        assert f"DataSourceError: {str(raised.value).split(';')[0]}" == their_error
    with pytest.raises(pyogrio.errors.DataSourceError, match="No such file"):
        open_vector(tmp_path / "missing.geojson", READ_ONLY)


def _open_files() -> set[str]:
    folder = Path("/proc/self/fd")
    if not folder.is_dir():
        pytest.skip("no /proc to list open files")
    found = set()
    for fd in os.listdir(folder):
        try:
            found.add(os.readlink(folder / fd))
        except OSError:
            continue
    return found


def test_a_check_asks_pyogrio_nothing_and_leaves_nothing_open(
    checker: Any, two_layer_gpkg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    geojson = tmp_path / "points.geojson"
    pyogrio.write_dataframe(pyogrio.read_dataframe(two_layer_gpkg, layer="points"), geojson)
    expected = {p: checker.check(p).model_dump(mode="json") for p in (geojson, two_layer_gpkg)}

    def reopened(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the file was opened again")

    for name in ("read_info", "list_layers", "open_arrow", "read_arrow"):
        monkeypatch.setattr(pyogrio, name, reopened)
    # Hold each source, so that only the check's own close (not its collection) can have
    # closed its dataset.
    sources: list[Any] = []

    def kept(*args: Any, **kwargs: Any) -> Any:
        sources.append(open_dataset(*args, **kwargs))
        return sources[-1]

    monkeypatch.setattr(checker_module, "open_dataset", kept)
    for path, before in expected.items():
        verdict = checker.check(path).model_dump(mode="json")
        for key in ("id", "checked_at", "duration_ms"):
            verdict.pop(key), before.pop(key)
        assert verdict == before
        assert str(path) not in _open_files()
        with pytest.raises(pyogrio.errors.DataSourceError, match="closed"):
            sources[-1].dataset.info(0)
        assert verdict["profile"]["layers"][0]["feature_count"] in (1, 2)


def test_a_closed_dataset_refuses_questions(two_layer_gpkg: Path) -> None:
    dataset = open_vector(two_layer_gpkg, READ_ONLY)
    dataset.close()
    dataset.close()  # twice is harmless
    with pytest.raises(pyogrio.errors.DataSourceError, match="closed"):
        dataset.info(0)
    assert np.isfinite(pyogrio.read_info(two_layer_gpkg, layer="lines")["total_bounds"]).all()


def test_closing_the_dataset_mid_stream_releases_the_stream_first(two_layer_gpkg: Path) -> None:
    # A check that stops mid-layer closes its source while the layer's generator still
    # holds a stream; GDAL's stream must not outlive its dataset (a use after free).
    dataset = open_vector(two_layer_gpkg, READ_ONLY)
    batches = dataset.layer_batches("points", 1)
    primary, first = next(batches)
    assert first.num_rows == 1 and primary == "geom"
    dataset.close()
    with pytest.raises(pa.ArrowInvalid, match="closed"):
        next(batches)  # released, not read from a dataset that is gone
    batches.close()  # the generator's own release comes after: harmless
    del batches
    again = open_vector(two_layer_gpkg, READ_ONLY)
    assert [b.num_rows for _, b in again.layer_batches("points", 1)] == [1, 1]
    again.close()
