"""A remediation never touches its input, never replaces an output unasked, and leaves no
temporary file behind, whether it succeeds or is refused."""

from __future__ import annotations

import hashlib
import sqlite3
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS

from compliance import Checker
from compliance.errors import UnreadableDataset
from compliance.remediate.errors import OutputExists, RemediationError
from compliance.verdict import Effect
from tests.remediate.conftest import (
    buffered_zone_local,
    read_layer,
    shapes_lonlat,
    to_local,
    write_gpkg,
    write_zipped_shapefile,
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    return write_gpkg(
        source / "in.gpkg", {"roads": (shapes_lonlat("LineString", 0.003), 5186)}
    ).path


def test_an_existing_output_is_refused_unless_forced(
    tmp_path: Path, dataset: Path, mask_checker: Checker
) -> None:
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"someone else's file")
    with pytest.raises(OutputExists):
        mask_checker.remediate(dataset, out)
    assert out.read_bytes() == b"someone else's file"
    report = mask_checker.remediate(dataset, out, force=True)
    assert report.output.sha256 == digest(out)


@pytest.mark.parametrize("force", [False, True])
def test_the_input_is_never_the_output(
    tmp_path: Path, dataset: Path, mask_checker: Checker, force: bool
) -> None:
    before = digest(dataset)
    with pytest.raises(OutputExists, match="overwrite the input"):
        mask_checker.remediate(dataset, dataset, force=force)
    assert digest(dataset) == before
    assert sorted(p.name for p in dataset.parent.iterdir()) == ["in.gpkg"]


def test_a_shapefile_part_is_never_the_output(tmp_path: Path, mask_checker: Checker) -> None:
    written = write_zipped_shapefile(tmp_path, shapes_lonlat("LineString", 0.003), 5186)
    shp = tmp_path / "shp" / "roads.shp"
    before = {p.name: digest(p) for p in shp.parent.iterdir()}
    with pytest.raises(OutputExists):
        mask_checker.remediate(shp, shp.with_suffix(".dbf"), force=True)
    assert {p.name: digest(p) for p in shp.parent.iterdir()} == before
    assert written.path.exists()


@pytest.mark.parametrize(
    ("name", "mode", "why"),
    [("out.tif", "cut", "written as .gpkg"), ("out.gpkg", "erase", "mask mode")],
)
def test_bad_requests_are_refused_before_writing(
    tmp_path: Path, dataset: Path, mask_checker: Checker, name: str, mode: str, why: str
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RemediationError, match=why):
        mask_checker.remediate(dataset, out_dir / name, mask_mode=mode)  # type: ignore[arg-type]
    assert list(out_dir.iterdir()) == []


def test_an_output_folder_that_does_not_exist_is_refused(
    tmp_path: Path, dataset: Path, mask_checker: Checker
) -> None:
    with pytest.raises(RemediationError, match="folder does not exist"):
        mask_checker.remediate(dataset, tmp_path / "missing" / "out.gpkg")


def test_an_unreadable_input_leaves_nothing(tmp_path: Path, mask_checker: Checker) -> None:
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a geopackage at all" * 10)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(UnreadableDataset):
        mask_checker.remediate(junk, out_dir / "out.gpkg")
    assert list(out_dir.iterdir()) == []


def test_a_successful_run_leaves_only_the_derivative(
    tmp_path: Path, dataset: Path, mask_checker: Checker
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    mask_checker.remediate(dataset, out_dir / "out.gpkg", mask_mode="drop")
    assert [p.name for p in out_dir.iterdir()] == ["out.gpkg"]


def test_bytes_are_remediated_like_a_file(
    tmp_path: Path, dataset: Path, mask_checker: Checker
) -> None:
    report = mask_checker.remediate(dataset.read_bytes(), tmp_path / "out.gpkg", name="in.gpkg")
    assert report.original.input.sha256 == digest(dataset)
    assert report.verdict.zones.count == 0


def test_a_folder_output_names_the_derivative_after_the_input(
    tmp_path: Path, dataset: Path, mask_checker: Checker
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    report = mask_checker.remediate(dataset, out_dir)
    assert report.output.path == str(out_dir / "in.remediated.gpkg")
    assert [p.name for p in out_dir.iterdir()] == ["in.remediated.gpkg"]


def _two_geometry_columns(
    path: Path, outline: shapely.Geometry, position: shapely.Geometry
) -> Path:
    """An OGR SQLite table (FDO layout) whose features have an outline and a position."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE geometry_columns (f_table_name VARCHAR, f_geometry_column VARCHAR,
            geometry_type INTEGER, coord_dimension INTEGER, srid INTEGER,
            geometry_format VARCHAR);
        CREATE TABLE spatial_ref_sys (srid INTEGER UNIQUE, auth_name TEXT, auth_srid TEXT,
            srtext TEXT);
        CREATE TABLE site (ogc_fid INTEGER PRIMARY KEY, name TEXT, footprint BLOB,
            location BLOB);
        INSERT INTO geometry_columns VALUES ('site', 'footprint', 3, 2, 4326, 'WKB');
        INSERT INTO geometry_columns VALUES ('site', 'location', 1, 2, 4326, 'WKB');
        """
    )
    wkt = CRS.from_epsg(4326).to_wkt("WKT1_GDAL")
    db.execute("INSERT INTO spatial_ref_sys VALUES (4326, 'EPSG', '4326', ?)", (wkt,))
    db.execute(
        "INSERT INTO site VALUES (1, 'a', ?, ?)",
        (shapely.to_wkb(outline), shapely.to_wkb(position)),
    )
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("outline_at_zone", [False, True])
def test_a_second_geometry_column_never_rides_along_unexamined(
    tmp_path: Path, mask_checker: Checker, outline_at_zone: bool
) -> None:
    """The position is at the zone: a derivative that kept it as a blob would pass a
    re-check that cannot read it. It is left out, and the report says so."""
    outline = (
        shapely.box(127.004, 37.503, 127.006, 37.505)
        if outline_at_zone
        else shapely.box(1, 1, 2, 2)
    )
    source = _two_geometry_columns(
        tmp_path / "sites.sqlite", outline, shapely.Point(127.005, 37.504)
    )
    report = mask_checker.remediate(source, tmp_path / "out.gpkg")
    assert report.original.verdict == Effect.deny
    info = pyogrio.read_info(tmp_path / "out.gpkg")
    assert "location" not in list(info["fields"])
    dropped = report.left_out + [f for a in report.actions for f in a.changes.fields_dropped]
    assert dropped == ["site.location"]


def test_a_feature_that_cannot_be_placed_does_not_stop_the_mask(
    tmp_path: Path, mask_checker: Checker
) -> None:
    """One NaN coordinate makes the layer's extent unknown to the driver; the features at the
    zone are masked all the same, and the unplaceable one keeps the derivative in review."""
    path = tmp_path / "in.gpkg"
    written = write_gpkg(path, {"roads": (shapes_lonlat("LineString", 0.003), 5186)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely warns of the NaN this test wants
        broken = shapely.LineString([(200000.0, 550000.0), (float("nan"), 550100.0)])
    geoms = list(written.layers["roads"][0]) + [broken]
    frame = gpd.GeoDataFrame(
        {"name": [str(i) for i in range(len(geoms))]}, geometry=geoms, crs=5186
    )
    pyogrio.write_dataframe(frame, path, layer="roads", driver="GPKG")
    report = mask_checker.remediate(path, tmp_path / "out.gpkg")
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.status == "applied"
    derived, _, _ = read_layer(tmp_path / "out.gpkg", "roads")
    placed = derived[
        np.isfinite(shapely.get_coordinates(derived)).all() & ~shapely.is_missing(derived)
    ]
    assert not shapely.intersects(buffered_zone_local(), to_local(placed, 5186)).any()
    assert report.verdict.verdict != Effect.allow
