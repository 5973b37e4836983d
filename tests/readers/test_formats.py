"""The one table of formats: what discovery finds in a folder, materialize picks out of an
archive, and the reverse; and the formats doc lists the whole table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compliance.readers.formats import (
    ARCHIVE_SUFFIXES,
    DATASET_SUFFIXES,
    FORMATS,
    PICTURE_SUFFIXES,
    READ_IN_PLACE,
    all_suffixes,
)
from tests.readers.format_helpers import GEOJSON, found, picked, zip_folder

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


# Archives inside an archive are refused as nesting (``archive``), whatever the table says.
_NESTED = ARCHIVE_SUFFIXES | {".kmz"}


@pytest.mark.parametrize("suffix", sorted(all_suffixes() - _NESTED))
def test_discovery_and_materialize_agree_on_each_suffix(tmp_path: Path, suffix: str) -> None:
    # A file of each suffix the table names, alone with a note: a dataset by name is found
    # by discovery and picked by materialize; anything else by neither.
    folder = tmp_path / "set"
    folder.mkdir()
    name = "x" + suffix
    (folder / name).write_bytes(b"\x00junk that no reader recognises\n" * 4)
    (folder / "notes.txt").write_text("a note\n")
    expected = suffix in DATASET_SUFFIXES - {".json"}
    assert (name in found(folder)) is expected
    assert (picked(zip_folder(tmp_path / "set.zip", folder)) == name) is expected


@pytest.mark.parametrize(
    ("content", "is_dataset"), [(GEOJSON, True), (json.dumps({"title": "notes"}), False)]
)
def test_json_is_a_dataset_by_its_content_for_both(
    tmp_path: Path, content: str, is_dataset: bool
) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "layer.json").write_text(content)
    (folder / "meta.json").write_text(json.dumps({"source": "survey"}))
    assert found(folder) == ({"layer.json"} if is_dataset else set())
    assert picked(zip_folder(tmp_path / "set.zip", folder)) == (
        "layer.json" if is_dataset else None
    )


@pytest.mark.parametrize("suffix", sorted(PICTURE_SUFFIXES))
def test_a_picture_is_a_dataset_with_its_world_file_for_both(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / f"x{suffix}").write_bytes(b"not really a picture")
    assert found(folder) == set()
    assert picked(zip_folder(tmp_path / "bare.zip", folder)) is None
    world = "." + suffix[1] + suffix[-1] + "w"
    (folder / f"x{world}").write_text("1\n0\n0\n-1\n127\n37\n")
    assert found(folder) == {f"x{suffix}"}
    assert picked(zip_folder(tmp_path / "placed.zip", folder)) == f"x{suffix}"


def test_the_table_is_consistent() -> None:
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names))
    datasets = [s for f in FORMATS if f.role == "dataset" for s in f.suffixes]
    assert len(datasets) == len(set(datasets)), "a suffix is in two dataset formats"
    assert all(s == s.lower() and s.startswith(".") for s in all_suffixes())
    assert {".kmz", ".ods", ".xlsx"} == READ_IN_PLACE
    assert {".bpw", ".tfw", ".jgw", ".pgw", ".gfw", ".j2w", ".wld"} <= all_suffixes()


def test_the_formats_doc_lists_every_suffix() -> None:
    text = DOC.read_text(encoding="utf-8")
    listed = set(re.findall(r"`(\.[a-z0-9.]+)`", text))
    assert sorted(all_suffixes() - listed) == []
    assert sorted(listed - all_suffixes()) == []
    for fmt in FORMATS:
        assert f"| {fmt.name} |" in text, fmt.name
