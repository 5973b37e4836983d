"""A remediation never touches its input, never replaces an output unasked, and leaves no
temporary file behind, whether it succeeds or is refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from compliance import Checker
from compliance.errors import UnreadableDataset
from compliance.remediate.errors import OutputExists, RemediationError
from tests.remediate.conftest import shapes_lonlat, write_gpkg, write_zipped_shapefile


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
