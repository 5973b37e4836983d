"""A hash started before the check (``digest_ahead``) is used only for the very bytes the
check reads: any change to the file between the two is caught and the file hashed again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from compliance.readers import inputs
from compliance.readers.inputs import digest_ahead
from tests.builders import write_vector


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def gpkg(tmp_path) -> Path:
    return write_vector(tmp_path / "a.gpkg", [box(126.97, 37.55, 126.98, 37.56)], 4326)


def _wait_ahead(path: Path) -> None:
    """Let the hash started ahead finish, so that a change comes after it."""
    _, running = inputs._AHEAD[os.path.abspath(path)]
    running.result(timeout=30)


def test_the_hash_started_ahead_is_used_and_is_the_files_sha256(checker, gpkg):
    digest_ahead(gpkg)
    assert os.path.abspath(gpkg) in inputs._AHEAD
    verdict = checker.check(gpkg)
    assert os.path.abspath(gpkg) not in inputs._AHEAD  # taken by the check, once
    assert verdict.input.sha256 == _sha256(gpkg)
    assert verdict.input.size == gpkg.stat().st_size


def test_a_file_rewritten_in_place_after_the_hash_is_hashed_again(checker, gpkg, tmp_path):
    """Same inode, same size, mtime set back: the writer cannot set ctime back."""
    before = gpkg.stat()
    digest_ahead(gpkg)
    _wait_ahead(gpkg)
    other = write_vector(tmp_path / "b.gpkg", [box(126.90, 37.50, 126.91, 37.51)], 4326)
    data = other.read_bytes()
    assert len(data) == before.st_size and data != gpkg.read_bytes()
    with gpkg.open("r+b") as f:
        f.write(data)
    os.utime(gpkg, ns=(before.st_atime_ns, before.st_mtime_ns))
    verdict = checker.check(gpkg)
    assert verdict.input.sha256 == _sha256(gpkg) == _sha256(other)


def test_a_file_replaced_by_another_after_the_hash_is_hashed_again(checker, gpkg, tmp_path):
    digest_ahead(gpkg)
    _wait_ahead(gpkg)
    other = write_vector(tmp_path / "b.gpkg", [box(126.90, 37.50, 126.91, 37.51)], 4326)
    expected = _sha256(other)
    os.replace(other, gpkg)
    verdict = checker.check(gpkg)
    assert verdict.input.sha256 == expected


def test_a_shapefile_ahead_is_hashed_with_its_parts(checker, tmp_path):
    shp = write_vector(tmp_path / "roads.shp", [box(126.97, 37.55, 126.98, 37.56)], 4326)
    parts = sorted(p for p in tmp_path.iterdir() if p.stem == "roads")
    expected = hashlib.sha256()
    for part in parts:  # the documented form: each part's name and hash, in name order
        expected.update(part.name.encode() + b"\0" + _sha256(part).encode())
    digest_ahead(shp)
    _wait_ahead(shp)
    (tmp_path / "roads.sbn").write_bytes(b"an index")  # a part added after the hash began
    # Not a part: it shares the name and no reader opens it, so no digest covers it.
    (tmp_path / "roads.xml").write_text("<metadata/>")
    parts.append(tmp_path / "roads.sbn")
    again = hashlib.sha256()
    for part in sorted(parts):
        again.update(part.name.encode() + b"\0" + _sha256(part).encode())
    verdict = checker.check(shp)
    assert verdict.input.sha256 == again.hexdigest() != expected.hexdigest()


def test_nothing_is_started_for_what_is_not_a_file(tmp_path):
    digest_ahead(tmp_path / "missing.gpkg")
    digest_ahead(tmp_path)
    assert os.path.abspath(tmp_path / "missing.gpkg") not in inputs._AHEAD
    assert os.path.abspath(tmp_path) not in inputs._AHEAD


@pytest.mark.parametrize(
    "size",
    [0, 1, 65_535, 65_537, 8 * 2**20, 8 * 2**20 + 1, 17 * 2**20 + 12_345],
)
def test_a_file_of_any_size_hashes_as_sha256sum_would(tmp_path, size):
    """Read in one reused buffer of up to 8 MB: the last, partial read counts only its bytes."""
    path = tmp_path / "blob.bin"
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(data)
    assert inputs.dataset_digest(path) == (hashlib.sha256(data).hexdigest(), size)


@pytest.mark.parametrize("background", [True, False])
def test_small_files_hash_inline_and_large_ones_in_the_background(tmp_path, background):
    # Below the threshold the digest is computed before the check reads (a done future);
    # above it, in a helper thread; either way it is the bytes' SHA-256.
    sizes = {
        "at.bin": inputs._INLINE_HASH_BYTES,
        "past.bin": inputs._INLINE_HASH_BYTES + 1,
    }
    rng = np.random.default_rng(7)
    for name, size in sizes.items():
        path = tmp_path / name
        path.write_bytes(rng.bytes(size))
        with inputs.materialize(path, background_hash=background) as local:
            inline = local._digest.done()
            assert local.sha256 == _sha256(path)
            assert local.size == size
        if not background or name == "at.bin":
            assert inline
