"""Inputs: paths, bytes, file objects, zips (safely), GeoDataFrames; no temp file survives."""

from __future__ import annotations

import io
import sqlite3
import stat
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from compliance import Checker, InputTooLarge, UnreadableDataset, UnsafeArchive, UnsupportedFormat
from compliance.readers.archive import ArchiveLimits, safe_extract
from compliance.readers.inputs import InputLimits
from tests.builders import append_raster_table, write_vector


@pytest.fixture
def no_leftovers(tmp_path, monkeypatch):
    """Run the test with a private temp folder and check it is empty afterwards."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    yield
    assert list(private.iterdir()) == [], "a temporary file or folder was left behind"


@pytest.fixture
def seoul_gpkg(tmp_path) -> Path:
    return write_vector(tmp_path / "seoul.gpkg", [box(126.97, 37.55, 126.98, 37.56)], 4326)


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_bytes_and_file_objects_give_the_same_verdict_as_the_path(
    checker, seoul_gpkg, no_leftovers
):
    by_path = checker.check(seoul_gpkg)
    by_bytes = checker.check(seoul_gpkg.read_bytes(), name="seoul.gpkg")
    with seoul_gpkg.open("rb") as f:
        by_file = checker.check(f, name="seoul.gpkg")
    assert by_path.input.sha256 == by_bytes.input.sha256 == by_file.input.sha256
    assert by_path.verdict == by_bytes.verdict == by_file.verdict
    assert by_bytes.input.name == "seoul.gpkg"


def test_a_local_file_is_read_in_place_and_an_upload_is_spooled(
    checker, seoul_gpkg, tmp_path, monkeypatch
):
    """Only inputs that need it (bytes, streams, archives) get a temporary folder."""
    from compliance.readers.inputs import materialize

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    with materialize(seoul_gpkg) as local:
        assert local.path == seoul_gpkg
        assert list(private.iterdir()) == []
    with materialize(seoul_gpkg.read_bytes(), name="seoul.gpkg") as local:
        assert local.path.parent.parent == private
        assert local.path.read_bytes() == seoul_gpkg.read_bytes()
    assert list(private.iterdir()) == []


def test_zipped_shapefile_with_sidecars_is_checked(checker, tmp_path, no_leftovers):
    shp = write_vector(tmp_path / "roads.shp", [box(127.0, 37.0, 127.1, 37.1)], 5186 and 4326)
    members = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "roads"}
    archive = _zip(tmp_path / "roads.zip", {f"data/{k}": v for k, v in members.items()})
    verdict = checker.check(archive)
    assert verdict.profile.format == "ESRI Shapefile"
    assert verdict.profile.crs == "EPSG:4326"
    assert shp.exists()


def test_path_traversal_in_a_zip_is_refused(checker, tmp_path, no_leftovers):
    archive = _zip(tmp_path / "evil.zip", {"../../escape.geojson": b"{}"})
    with pytest.raises(UnsafeArchive, match="outside"):
        checker.check(archive)
    assert not (tmp_path.parent / "escape.geojson").exists()


def test_absolute_member_names_are_refused(tmp_path):
    archive = _zip(tmp_path / "abs.zip", {"/tmp/abs.geojson": b"{}"})
    with pytest.raises(UnsafeArchive):
        safe_extract(archive, tmp_path / "out")


def test_symlinks_in_a_zip_are_refused(checker, tmp_path, no_leftovers):
    archive = _zip(tmp_path / "link.zip", {"a.geojson": b"{}"}, links=("b.geojson",))
    with pytest.raises(UnsafeArchive, match="link"):
        checker.check(archive)


def test_nested_archives_are_refused(checker, tmp_path, no_leftovers):
    inner = _zip(tmp_path / "inner.zip", {"a.geojson": b"{}"}).read_bytes()
    archive = _zip(tmp_path / "outer.zip", {"inner.zip": inner})
    with pytest.raises(UnsafeArchive, match="nesting"):
        checker.check(archive)


def test_member_count_is_bounded(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(20)})
    with pytest.raises(UnsafeArchive, match="20 members"):
        safe_extract(archive, tmp_path / "out", ArchiveLimits(max_members=10))


def test_zip_bomb_is_cut_off_by_bytes_written_not_by_declared_sizes(tmp_path, no_leftovers):
    # 64 MB of zeros compresses to ~64 KB; the limit is checked on the bytes written.
    archive = _zip(tmp_path / "bomb.zip", {"zeros.tif": bytes(64 * 1024 * 1024)})
    assert archive.stat().st_size < 200_000
    checker = Checker(
        packs=["kr"], limits=InputLimits(archive=ArchiveLimits(max_total_bytes=8 * 1024 * 1024))
    )
    with pytest.raises(UnsafeArchive, match="expands past"):
        checker.check(archive)


_PIN_KML = (
    b'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
    b"<Document><Placemark><name>p</name><Point><coordinates>127.025,37.465</coordinates>"
    b"</Point></Placemark></Document></kml>"
)


@pytest.mark.parametrize("as_upload", [False, True])
def test_a_kmz_answers_to_the_limits_of_a_zip(tmp_path, no_leftovers, as_upload):
    # GDAL reads a KMZ in place, so it is not extracted; before, no limit applied to it.
    archive = _zip(
        tmp_path / "bomb.kmz", {"doc.kml": _PIN_KML, "zeros.tif": bytes(64 * 1024 * 1024)}
    )
    checker = Checker(
        packs=["kr"], limits=InputLimits(archive=ArchiveLimits(max_total_bytes=8 * 1024 * 1024))
    )
    with pytest.raises(UnsafeArchive, match="expands past"):
        checker.check(archive.read_bytes() if as_upload else archive, name="bomb.kmz")
    nested = _zip(tmp_path / "nested.kmz", {"doc.kml": _PIN_KML, "more.zip": b"PK\x03\x04"})
    with pytest.raises(UnsafeArchive, match="nesting"):
        checker.check(nested)


def test_a_kmz_within_the_limits_is_checked(tmp_path, checker, no_leftovers):
    v = checker.check(_zip(tmp_path / "pin.kmz", {"doc.kml": _PIN_KML}))
    assert v.profile.format == "LIBKML" and v.zones.count == 1


def _spreadsheet(path: Path, driver: str) -> Path:
    """A spreadsheet of site positions, written by GDAL: a table without geometry."""
    frame = gpd.GeoDataFrame({"site": ["a", "b"], "lat": [37.465, 36.5], "lon": [127.025, 126.5]})
    frame.to_file(path, driver=driver)
    return path


@pytest.mark.parametrize(("suffix", "driver"), [(".ods", "ODS"), (".xlsx", "XLSX")])
@pytest.mark.parametrize("as_upload", [False, True])
def test_a_spreadsheet_is_read_as_the_format_it_is(
    tmp_path, checker, no_leftovers, suffix, driver, as_upload
):
    # Both are zips: an .ods was unpacked as an archive and found to hold no map dataset.
    path = _spreadsheet(tmp_path / f"sites{suffix}", driver)
    v = checker.check(path.read_bytes() if as_upload else path, name=path.name)
    assert v.profile.format == driver and v.verdict == "review"
    finding = next(f for f in v.findings if f.rule_id == "MAPGATE-COORDINATES-IN-TABLE")
    assert "lat" in finding.message and "lon" in finding.message


def test_a_spreadsheet_answers_to_the_limits_of_a_zip(tmp_path, no_leftovers):
    sheet = _spreadsheet(tmp_path / "sites.ods", "ODS")
    with zipfile.ZipFile(sheet) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members["Pictures/zeros.png"] = bytes(64 * 1024 * 1024)
    bomb = _zip(tmp_path / "bomb.ods", members)
    checker = Checker(
        packs=["kr"], limits=InputLimits(archive=ArchiveLimits(max_total_bytes=8 * 1024 * 1024))
    )
    with pytest.raises(UnsafeArchive, match="expands past"):
        checker.check(bomb)


def test_input_size_limit_cuts_a_stream_off(tmp_path, no_leftovers):
    checker = Checker(packs=["kr"], limits=InputLimits(max_bytes=1000))
    with pytest.raises(InputTooLarge):
        checker.check(io.BytesIO(b"x" * 5000), name="big.geojson")


def test_archive_with_several_datasets_says_so(checker, tmp_path, no_leftovers):
    a = write_vector(tmp_path / "a.geojson", [Point(127, 37)], 4326).read_bytes()
    archive = _zip(tmp_path / "two.zip", {"a.geojson": a, "b.gpkg": b"not really"})
    with pytest.raises(UnsupportedFormat, match="several datasets"):
        checker.check(archive)


def test_every_layer_of_a_multilayer_geopackage_is_checked(checker, tmp_path):
    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[box(50, 50, 51, 51)], crs=4326).to_file(
        path, layer="far"
    )
    # The second layer is the one crossing the demo military zone in Korea.
    gpd.GeoDataFrame({"n": [1]}, geometry=[box(127.02, 37.46, 127.03, 37.47)], crs=4326).to_file(
        path, layer="near"
    )
    verdict = checker.check(path)
    assert verdict.profile.layer_count == 2
    assert {layer.name for layer in verdict.profile.layers} == {"far", "near"}
    assert verdict.zones.classes == ["military"]


def test_geodataframe_input_for_pipelines(checker):
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[box(127.02, 37.46, 127.03, 37.47)], crs=4326)
    verdict = checker.check(frame, name="pipeline-frame")
    assert verdict.profile.format == "GeoDataFrame"
    assert verdict.input.name == "pipeline-frame"
    assert verdict.zones.count == 1


def test_geoparquet_is_read_with_its_crs(checker, real_data):
    verdict = checker.check(real_data / "vectors/geoparquet/example.parquet")
    assert verdict.profile.format == "Parquet"
    assert verdict.profile.crs == "OGC:CRS84"
    assert verdict.profile.feature_count == 5


def test_plain_parquet_without_geo_metadata_is_a_clear_error(checker, real_data, no_leftovers):
    with pytest.raises(UnsupportedFormat, match="GeoParquet"):
        checker.check(real_data / "broken/pyogrio/list_field_values_file.parquet")


def test_missing_file_and_non_geodata_are_unreadable(checker, tmp_path, no_leftovers):
    with pytest.raises(UnreadableDataset, match="no such file"):
        checker.check(tmp_path / "nope.gpkg")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"definitely not a tiff")
    with pytest.raises(UnsupportedFormat, match="junk.tif"):
        checker.check(junk)


def test_an_uploaded_vrt_cannot_make_the_checker_read_server_files(
    checker, real_data, tmp_path, no_leftovers
):
    vrt = (real_data / "rasters/rasterio/white-gemini-iv.vrt").read_bytes()
    with pytest.raises(UnsupportedFormat, match="refused"):
        checker.check(vrt, name="innocent.vrt")
    with pytest.raises(UnsupportedFormat, match="refused"):
        checker.check(b"<?xml version='1.0'?>\n" + vrt, name="renamed.xml")
    zipped = _zip(tmp_path / "v.zip", {"map.vrt": vrt}).read_bytes()
    with pytest.raises(UnsupportedFormat, match="refused"):
        checker.check(zipped, name="bundle.zip")
    # The same file named by a local path is the caller's own choice, and is checked.
    assert checker.check(real_data / "rasters/rasterio/white-gemini-iv.vrt").profile.format == "VRT"


def _rule_ids(verdict) -> set[str]:
    return {f.rule_id for f in verdict.findings}


def test_files_an_archive_holds_besides_its_dataset_are_named_for_review(
    checker, seoul_gpkg, tmp_path, no_leftovers
):
    # Only the GeoPackage is read; a GeoTIFF renamed .dat, a CSV of positions, a hidden
    # GeoJSON would leave the country with the archive unverified.
    raster = write_vector(tmp_path / "x.geojson", [Point(127.03, 37.4675)], 4326).read_bytes()
    extras = {
        "secret.dat": raster,
        "docs/positions.csv": b"name,lat,lon\nbase,37.4675,127.03\n",
        ".hidden/points.txt": raster,
    }
    archive = _zip(tmp_path / "bundle.zip", {"seoul.gpkg": seoul_gpkg.read_bytes(), **extras})
    verdict = checker.check(archive)
    assert verdict.verdict == "review"
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES")
    assert finding.facts["unchecked_files"] == sorted(extras)
    # The same GeoPackage alone in an archive is judged on its own.
    alone = checker.check(_zip(tmp_path / "alone.zip", {"seoul.gpkg": seoul_gpkg.read_bytes()}))
    assert "MAPGATE-UNCHECKED-FILES" not in _rule_ids(alone)
    assert alone.verdict == checker.check(seoul_gpkg).verdict


def test_a_datasets_own_files_and_macos_forks_are_not_unchecked(checker, tmp_path, no_leftovers):
    # A shapefile's parts GDAL reads, and the resource forks macOS adds, belong to it.
    write_vector(tmp_path / "roads.shp", [box(127.0, 37.0, 127.1, 37.1)], 4326)
    members = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "roads"}
    members["__MACOSX/._roads.shp"] = b"\x00\x05\x16\x07"
    members["._roads.dbf"] = b"\x00\x05\x16\x07"
    verdict = checker.check(_zip(tmp_path / "roads.zip", members))
    assert "MAPGATE-UNCHECKED-FILES" not in _rule_ids(verdict)
    # ArcGIS's metadata is read as a metadata document; a note nothing reads is named.
    members["roads.shp.xml"] = b"<metadata/>"
    members["notes.txt"] = b"drawn from the 1:5,000 base map"
    verdict = checker.check(_zip(tmp_path / "roads2.zip", members))
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES")
    assert finding.facts["unchecked_files"] == ["notes.txt"]
    # A dataset under the metadata's name is not metadata: GML that GDAL reads as data.
    write_vector(tmp_path / "secret.gml", [box(127.0, 37.0, 127.0001, 37.0001)], 4326)
    members["roads.shp.xml"] = (tmp_path / "secret.gml").read_bytes()
    verdict = checker.check(_zip(tmp_path / "roads3.zip", members))
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES")
    assert finding.facts["unchecked_files"] == ["notes.txt", "roads.shp.xml"]


def test_a_rasters_world_file_and_overviews_are_its_own(checker, tmp_path, no_leftovers):
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    tif = tmp_path / "ortho.tif"
    profile = {"driver": "GTiff", "width": 8, "height": 8, "count": 1, "dtype": "uint8",
               "crs": "EPSG:32652", "transform": from_origin(320_000, 4_150_000, 10, 10)}  # fmt: skip
    with rasterio.open(tif, "w", **profile) as dst:
        dst.write(np.zeros((1, 8, 8), dtype="uint8"))
    with rasterio.Env(TIFF_USE_OVR=True), rasterio.open(tif, "r+") as dst:
        dst.build_overviews([2])  # in ortho.tif.ovr, as ``gdaladdo -ro`` writes them
    members = {
        "ortho.tif": tif.read_bytes(),
        "ortho.tfw": b"10\n0\n0\n-10\n320005\n4149995\n",
        "ortho.tif.aux.xml": b"<PAMDataset/>",
        "ortho.tif.ovr": tif.with_name("ortho.tif.ovr").read_bytes(),
    }
    verdict = checker.check(_zip(tmp_path / "ortho.zip", members))
    assert "MAPGATE-UNCHECKED-FILES" not in _rule_ids(verdict)
    members["other.tfw"] = members["ortho.tfw"]
    verdict = checker.check(_zip(tmp_path / "ortho2.zip", members))
    assert next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES").facts[
        "unchecked_files"
    ] == ["other.tfw"]


def _geoparquet(path: Path, columns: dict[str, list], geo_columns: dict[str, dict]) -> Path:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    table = pa.table(
        {
            name: shapely.to_wkb(geoms) if name in geo_columns else geoms
            for name, geoms in columns.items()
        }
    )
    geo = {"version": "1.1.0", "primary_column": next(iter(geo_columns)), "columns": geo_columns}
    pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), path)
    return path


def test_every_geometry_column_of_a_geoparquet_is_checked(checker, tmp_path, no_leftovers):
    # Only the primary column was read: a second geometry column over a military zone left
    # the file allowed.
    wkb = {"encoding": "WKB"}
    path = _geoparquet(
        tmp_path / "two.parquet",
        {"geometry": [Point(0, 0)], "footprint": [box(127.02, 37.46, 127.03, 37.47)], "n": [1]},
        {"geometry": wkb, "footprint": wkb},
    )
    verdict = checker.check(path)
    assert verdict.zones.count == 1 and verdict.verdict != "allow"
    assert [la.name for la in verdict.profile.layers] == ["two", "two:footprint"]
    assert verdict.profile.fields == ["n"]


@pytest.mark.parametrize(
    ("encoding", "error"),
    [
        ("point", UnreadableDataset),  # a native encoding, but the column holds WKB
        ("WKT", UnsupportedFormat),  # not an encoding GeoParquet defines
    ],
)
def test_a_geoparquet_column_it_cannot_read_as_declared_is_a_clear_error(
    checker, tmp_path, no_leftovers, encoding, error
):
    path = _geoparquet(
        tmp_path / "odd.parquet",
        {"geometry": [Point(0, 0)], "other": [Point(1, 1)]},
        {"geometry": {"encoding": "WKB"}, "other": {"encoding": encoding}},
    )
    with pytest.raises(error, match="'other'"):
        checker.check(path)


def test_a_folder_is_read_as_its_shapefiles_and_names_the_rest(checker, tmp_path):
    # OGR opens a folder as the shapefiles in it: a GeoJSON beside them was never read.
    folder = tmp_path / "delivery"
    folder.mkdir()
    write_vector(folder / "roads.shp", [box(126.5, 36.5, 126.51, 36.51)], 4326)
    assert "MAPGATE-UNCHECKED-FILES" not in _rule_ids(checker.check(folder))
    write_vector(folder / "secret.geojson", [Point(127.03, 37.4675)], 4326)
    (folder / "old").mkdir()
    write_vector(folder / "old" / "roads.shp", [box(126.5, 36.5, 126.51, 36.51)], 4326)
    verdict = checker.check(folder)
    assert verdict.verdict == "review"
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES")
    assert finding.facts["unchecked_files"][-1] == "secret.geojson"
    assert {"old/roads.shp", "old/roads.dbf"} <= set(finding.facts["unchecked_files"])


def _outlines_with_ortho(path: Path) -> Path:
    """A GeoPackage of one outline far from Seoul, with a 0.1 m orthophoto table in Seoul."""
    write_vector(path, [box(126.5, 36.5, 126.51, 36.51)], 4326)
    return append_raster_table(path, "ortho", res_m=0.1, side=256, count=3, fill=100)


def test_raster_tiles_beside_vector_layers_in_a_geopackage_are_measured(checker, tmp_path):
    # GDAL opens a GeoPackage as vectors or as a raster, never both: a 0.1 m orthophoto
    # pyramid stored beside a layer of outlines was never read, and the file was allowed.
    path = write_vector(tmp_path / "plain.gpkg", [box(126.5, 36.5, 126.51, 36.51)], 4326)
    assert checker.check(path).verdict == "allow"
    verdict = checker.check(_outlines_with_ortho(tmp_path / "mixed.gpkg"))
    assert verdict.profile.kind == "vector" and verdict.profile.unread_tables == []
    ortho = verdict.profile.layers[-1]
    assert (ortho.name, ortho.geometry_type, ortho.crs) == ("ortho", "Raster", "EPSG:32652")
    assert ortho.resolution_m == pytest.approx(0.1, rel=0.01)
    assert verdict.profile.resolution_m == pytest.approx(0.1, rel=0.01)
    # The footprint takes in the orthophoto, about 126.99 E 37.47 N, besides the outline.
    assert verdict.profile.bounds_wgs84[2] > 126.98 and verdict.profile.bounds_wgs84[3] > 37.4
    assert verdict.verdict == "deny"


def test_an_empty_layer_beside_a_raster_table_is_not_an_empty_file(checker, tmp_path):
    path = write_vector(tmp_path / "empty.gpkg", [box(126.5, 36.5, 126.51, 36.51)], 4326)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM empty")
    append_raster_table(path, "dem", res_m=50.0)
    verdict = checker.check(path)
    assert verdict.profile.feature_count == 0 and verdict.profile.has_imagery
    assert "MAPGATE-EMPTY" not in _rule_ids(verdict)
    assert verdict.profile.resolution_m == pytest.approx(50.0, rel=0.01)


def test_a_raster_table_gdal_cannot_open_is_named_and_held(checker, tmp_path):
    path = _outlines_with_ortho(tmp_path / "mixed.gpkg")
    with sqlite3.connect(path) as db:  # the tile matrix GDAL needs to open the table
        db.execute("DELETE FROM gpkg_tile_matrix WHERE table_name = 'ortho'")
    verdict = checker.check(path)
    assert verdict.profile.unread_tables == ["ortho"]
    assert verdict.verdict == "review"
    assert "MAPGATE-UNREAD-TABLES" in _rule_ids(verdict)
