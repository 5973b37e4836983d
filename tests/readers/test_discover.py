"""Discovery: map datasets are found by content, shapefile sets are one dataset, junk is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.readers.discover import discover, read_manifest, sniff
from tests.batch.fixtures import (
    DELHI,
    SEOUL,
    make_archive,
    write_raster,
    write_shapefile,
    write_vector,
)
from tests.builders import GMT_POINT, ers_header


def _rel(root: Path, paths: list[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def test_archive_datasets_sidecars_and_ignored_files(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a")
    found = discover([archive.root])
    paths = [d.path for d in found.datasets]
    assert _rel(archive.root, paths) == _rel(archive.root, archive.datasets)
    assert _rel(archive.root, found.ignored) == _rel(archive.root, archive.ignored)
    listed = {m for d in found.datasets for m in d.members}
    assert set(archive.sidecars) <= listed  # absorbed into the shapefile's dataset
    shp = next(d for d in found.datasets if d.path.suffix == ".shp")
    assert [m.suffix for m in shp.members] == [".cpg", ".dbf", ".prj", ".shp", ".shx"]


def test_orphan_shapefile_parts_are_one_problem_dataset(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a")
    found = discover([archive.root / "broken"])
    problems = {d.path.name: d.problem for d in found.datasets if d.problem}
    assert problems == {"lost.dbf": "shapefile parts without their .shp: lost.dbf, lost.shx"}


def test_not_recursive_sees_only_the_top_folder(tmp_path: Path) -> None:
    write_vector(tmp_path / "top.geojson", *SEOUL)
    write_vector(tmp_path / "sub" / "deep.geojson", *SEOUL)
    assert [d.path.name for d in discover([tmp_path], recursive=False).datasets] == ["top.geojson"]
    assert len(discover([tmp_path], recursive=True).datasets) == 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [("raster_no_ext", True), ("vector.dat", True), ("notes.txt", False), ("photo.png", False),
     ("empty.bin", False)],
)  # fmt: skip
def test_sniff_by_content(tmp_path: Path, name: str, expected: bool) -> None:
    path = tmp_path / name
    if name == "raster_no_ext":
        write_raster(tmp_path / "r.tif", *DELHI).rename(path)
    elif name == "vector.dat":
        write_vector(tmp_path / "v.gpkg", *SEOUL).rename(path)
    elif name == "photo.png":  # a picture GDAL can open, but not placed on the Earth
        import numpy as np
        import rasterio

        with rasterio.open(path, "w", driver="PNG", width=8, height=8, count=1, dtype="uint8") as d:
            d.write(np.zeros((1, 8, 8), dtype="uint8"))
    elif name == "empty.bin":
        path.write_bytes(b"")
    else:
        path.write_text("just some notes\n")
    assert sniff(path) is expected


def test_sniffing_a_gml_leaves_its_folder_as_it_was(tmp_path: Path) -> None:
    # An audit reads an archive it must not change. A GML that names GML as its default
    # namespace has no text marker, so GDAL is asked; its GML reader, asked to list the
    # layers, used to leave a .gfs schema beside the file.
    path = tmp_path / "sites_export"
    path.write_text(
        "<?xml version='1.0' encoding='utf-8'?><FeatureCollection "
        "xmlns='http://www.opengis.net/gml' xmlns:ogr='http://ogr.maptools.org/'>"
        "<featureMember><ogr:site><ogr:geometryProperty><Point srsName='EPSG:4326'>"
        "<coordinates>127.025,37.465</coordinates></Point></ogr:geometryProperty>"
        "</ogr:site></featureMember></FeatureCollection>"
    )
    assert sniff(path) is True
    assert [p.name for p in tmp_path.iterdir()] == ["sites_export"]


def test_sniffing_a_third_party_s_file_follows_no_pointer(tmp_path: Path, listener) -> None:
    # Trusted, GDAL opens what a header names (here another file's pixels) and calls the
    # address a WFS description names; a third party's files are sniffed without either.
    data = tmp_path / "elsewhere.raw"
    data.write_bytes(bytes(40_000))
    header = tmp_path / "delivery_scene"
    header.write_bytes(ers_header("../" * 40 + str(data).lstrip("/")))
    assert sniff(header) is True
    assert sniff(header, untrusted=True) is False  # no upload format reads it
    service = tmp_path / "service_description"
    service.write_text(f"<OGRWFSDataSource><URL>{listener.url('/wfs?')}</URL></OGRWFSDataSource>")
    # Listed, so that its check refuses it and the report names it; not opened.
    assert sniff(service, untrusted=True) is True
    assert listener.calls == []


def test_a_third_party_s_file_only_another_vector_driver_reads_is_not_parsed(tmp_path: Path):
    # GMT text, named so that nothing but its content tells: off the upload list, so a
    # third party's copy is opened by none of the drivers that would read it, and ignored.
    pins = tmp_path / "delivery" / "pins_export"
    pins.parent.mkdir()
    pins.write_bytes(GMT_POINT)
    assert sniff(pins) is True
    assert sniff(pins, untrusted=True) is False
    assert [d.path.name for d in discover([pins.parent]).datasets] == ["pins_export"]
    found = discover([pins.parent], untrusted=True)
    assert found.datasets == [] and [p.name for p in found.ignored] == ["pins_export"]


def test_json_is_geodata_only_when_it_looks_like_geojson(tmp_path: Path) -> None:
    write_vector(tmp_path / "layer.json", *SEOUL, driver="GeoJSON")
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1"}')
    found = discover([tmp_path])
    assert [d.path.name for d in found.datasets] == ["layer.json"]
    assert [p.name for p in found.ignored] == ["package.json"]


def test_explicit_sidecar_maps_to_its_shapefile_and_missing_file_is_a_problem(
    tmp_path: Path,
) -> None:
    write_shapefile(tmp_path, "roads", *SEOUL)
    found = discover([tmp_path / "roads.dbf", tmp_path / "gone.tif"])
    assert [d.path.name for d in found.datasets] == ["roads.shp", "gone.tif"]
    assert found.datasets[0].problem is None
    assert found.datasets[1].problem is not None and "no such file" in found.datasets[1].problem


def test_duplicates_and_excluded_output_folder(tmp_path: Path) -> None:
    write_vector(tmp_path / "a.geojson", *SEOUL)
    write_vector(tmp_path / "out" / "b.geojson", *SEOUL)
    found = discover([tmp_path, tmp_path / "a.geojson"], exclude=[tmp_path / "out"])
    assert [d.path.name for d in found.datasets] == ["a.geojson"]


def test_manifest_paths_are_relative_to_the_manifest(tmp_path: Path) -> None:
    write_vector(tmp_path / "data" / "a.geojson", *SEOUL)
    write_raster(tmp_path / "data" / "sub" / "b.tif", *DELHI)
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,owner\ndata/a.geojson,x\ndata/sub,y\n#comment,z\n")
    assert read_manifest(manifest) == [tmp_path / "data/a.geojson", tmp_path / "data/sub"]
    names = [d.path.name for d in discover([], manifest=manifest).datasets]
    assert names == ["a.geojson", "b.tif"]


def test_gdb_folder_is_one_dataset(tmp_path: Path) -> None:
    gdb = tmp_path / "city.gdb"
    gdb.mkdir()
    (gdb / "a00000001.gdbtable").write_bytes(b"\x00" * 40)
    (gdb / "a00000001.gdbtablx").write_bytes(b"\x00" * 40)
    found = discover([tmp_path])
    assert [(d.path.name, len(d.members)) for d in found.datasets] == [("city.gdb", 2)]
