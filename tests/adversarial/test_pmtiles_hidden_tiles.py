"""Finer vector tiles kept in a PMTiles archive where GDAL does not look.

The move: tile 200 survey points in Tel Aviv to zoom 18 (positions to centimetres), and
the same points to zoom 14 (to about half a metre); put the zoom 15-18 tiles into the
zoom-14 archive and leave its header's ``max_zoom`` at 14. GDAL reads the layer at the
header's level: every reader sees the half-metre positions, while one byte of the header
edited shows the centimetre ones. Tiles may be hidden in leaf directories as well as the
root, in a run that crosses into the next level, or at ids past any zoom level; and a
directory may be made to expand a thousandfold or to point at itself.

Claim under test: tiles finer than the level GDAL reads, or at no zoom level, hold the
archive for review, named with their zoom levels; directories that cannot be read to the
end (too large once decompressed, past the file's end, nested without end) hold it too,
promptly; archives GDAL writes name nothing, and a tile outside the header's bounds at
the level GDAL reads is read by GDAL (measured, not hidden).

Truth: GDAL's reading of each archive (pyogrio), before and after the header's byte is
edited, against the points' own Web Mercator positions (pyproj); the directories are
written with the ``pmtiles`` package's own serialiser, and its reader decodes them for
comparison.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import (
    Compression,
    Entry,
    deserialize_directory,
    deserialize_header,
    read_varint,
    serialize_directory,
    serialize_header,
    tileid_to_zxy,
    write_varint,
    zxy_to_tileid,
)
from pyproj import Transformer

from compliance import Checker, Effect
from compliance.readers.pmtiles_tiles import _directory, _varints, pmtiles_unread_tiles

TEL_AVIV = (34.78, 32.08)
UNREAD = "MAPGATE-UNREAD-TABLES"
MAX_ZOOM_BYTE = 101  # of the version 3 header


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _truth() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return TEL_AVIV[0] + rng.random(200) * 0.01, TEL_AVIV[1] + rng.random(200) * 0.01


def _gdal_archive(path: Path, max_zoom: int) -> Path:
    """The 200 points as an archive GDAL writes, zoom 0 to ``max_zoom``."""
    lon, lat = _truth()
    pyogrio.write_arrow(
        _table(lon, lat), path, driver="PMTiles", layer="points", geometry_name="geometry",
        geometry_type="Point", crs="EPSG:4326",
        dataset_options={"MINZOOM": "0", "MAXZOOM": str(max_zoom)},
    )  # fmt: skip
    return path


def _table(lon: np.ndarray, lat: np.ndarray) -> pa.Table:
    return pa.table(
        {"n": np.arange(lon.size), "geometry": shapely.to_wkb(shapely.points(lon, lat))}
    )


def _tiles(path: Path) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    with path.open("rb") as file:
        reader = Reader(MmapSource(file))
        return dict(reader.header()), reader.metadata(), dict(all_tiles(reader.get_bytes))


def _write(path: Path, header: dict, metadata: dict, tiles: dict, leaf: int = 0) -> Path:  # type: ignore[type-arg]
    """An archive of ``tiles`` ({(z, x, y): bytes}) with ``header``'s zoom levels kept,
    its entries in leaf directories of ``leaf`` entries each when ``leaf`` is given."""
    data, entries = b"", []
    for (z, x, y), tile in sorted(tiles.items(), key=lambda kv: zxy_to_tileid(*kv[0])):
        entries.append(Entry(zxy_to_tileid(z, x, y), len(data), len(tile), 1))
        data += tile
    leaves = b""
    if leaf:
        root_entries = []
        for i in range(0, len(entries), leaf):
            part = serialize_directory(entries[i : i + leaf])
            root_entries.append(Entry(entries[i].tile_id, len(leaves), len(part), 0))
            leaves += part
        root = serialize_directory(root_entries)
    else:
        root = serialize_directory(entries)
    meta = gzip.compress(json.dumps(metadata).encode(), mtime=0)
    header = dict(header)
    header.update(
        root_offset=127, root_length=len(root), metadata_offset=127 + len(root),
        metadata_length=len(meta), leaf_directory_offset=127 + len(root) + len(meta),
        leaf_directory_length=len(leaves), tile_data_offset=127 + len(root) + len(meta) + len(leaves),
        tile_data_length=len(data), addressed_tiles_count=len(entries),
        tile_entries_count=len(entries), tile_contents_count=len(entries),
        internal_compression=Compression.GZIP,
    )  # fmt: skip
    path.write_bytes(serialize_header(header) + root + meta + leaves + data)
    return path


def _worst_error(path: Path) -> float:
    """The largest distance, in Web Mercator metres, from a point GDAL reads to the
    nearest true point."""
    lon, lat = _truth()
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    read = pyogrio.read_dataframe(path)
    assert len(read) >= 200
    xy = shapely.get_coordinates(read.geometry.values)
    return float(np.min(np.hypot(xy[:, :1] - x, xy[:, 1:] - y), axis=1).max())


def _finer_hidden(tmp_path: Path, leaf: int = 0) -> Path:
    """The zoom-14 archive with the zoom 15-18 tiles of the same points added, its
    header's ``max_zoom`` left at 14."""
    header, metadata, coarse = _tiles(_gdal_archive(tmp_path / "z14.pmtiles", 14))
    fine = _tiles(_gdal_archive(tmp_path / "z18.pmtiles", 18))[2]
    tiles = coarse | {key: tile for key, tile in fine.items() if key[0] > 14}
    return _write(tmp_path / "hidden.pmtiles", header, metadata, tiles, leaf)


def _held(verdict, said: str) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(said in table for table in verdict.profile.unread_tables), (
        verdict.profile.unread_tables
    )


@pytest.mark.parametrize("leaf", [0, 7], ids=["root", "leaves"])
def test_finer_tiles_under_a_coarser_max_zoom_hold_the_archive(tmp_path, checker, leaf):
    coarse = _gdal_archive(tmp_path / "plain.pmtiles", 14)
    before = checker.check(coarse)
    assert before.verdict == Effect.allow and before.profile.unread_tables == []
    hidden = _finer_hidden(tmp_path, leaf)
    assert pyogrio.read_info(hidden)["dataset_metadata"]["ZOOM_LEVEL"] == "14"
    shown = tmp_path / "shown.pmtiles"
    edited = bytearray(hidden.read_bytes())
    edited[MAX_ZOOM_BYTE] = 18
    shown.write_bytes(bytes(edited))
    # What GDAL reads: half-metre positions under the header's 14, centimetres under 18.
    assert _worst_error(hidden) > 0.2 and _worst_error(shown) < 0.05
    _held(checker.check(hidden), "tiles at zoom levels 15, 16, 17, 18 finer than GDAL opens")


@pytest.mark.parametrize("max_zoom", [10, 14, 18])
def test_archives_gdal_writes_name_nothing(tmp_path, checker, max_zoom):
    path = _gdal_archive(tmp_path / "plain.pmtiles", max_zoom)
    assert deserialize_header(path.read_bytes()[:127])["max_zoom"] == max_zoom
    assert checker.check(path).profile.unread_tables == []


def test_a_tile_outside_the_bounds_is_read_not_hidden(tmp_path, checker):
    """GDAL reads every tile of its level, whatever the header's bounds say: such a tile
    is measured, so it is not named."""
    header, metadata, tiles = _tiles(_gdal_archive(tmp_path / "z14.pmtiles", 14))
    (z, x, y), tile = next((key, t) for key, t in tiles.items() if key[0] == 14)
    path = _write(
        tmp_path / "outside.pmtiles", header, metadata, tiles | {(z, x + 20, y + 20): tile}
    )
    assert len(pyogrio.read_dataframe(path)) > 200
    assert checker.check(path).profile.unread_tables == []


def test_a_run_into_the_next_level_holds_the_archive(tmp_path):
    """The last tile of zoom 14 stored with a run of two: the second is zoom 15's first."""
    path = _gdal_archive(tmp_path / "z14.pmtiles", 14)
    last = zxy_to_tileid(15, 0, 0) - 1
    assert tileid_to_zxy(last)[0] == 14 and tileid_to_zxy(last + 1)[0] == 15
    _root(path, [Entry(0, 0, 1, 1), Entry(last, 0, 1, 2)])
    assert pmtiles_unread_tiles(path, {"ZOOM_LEVEL": "14"}) == [
        "tiles: tiles at zoom level 15 finer than GDAL opens"
    ]


def test_ids_past_any_zoom_level_hold_the_archive(tmp_path):
    path = _gdal_archive(tmp_path / "z14.pmtiles", 14)
    _root(path, [Entry(0, 0, 1, 1), Entry((1 << 64) - 5, 0, 1, 1)])
    assert pmtiles_unread_tiles(path, {"ZOOM_LEVEL": "14"}) == [
        "tiles: tiles at zoom level 31, which is no zoom level GDAL opens"
    ]


def _root(path: Path, entries: list[Entry], leaves: bytes = b"", raw: bytes | None = None) -> None:
    """``path``'s root directory replaced by ``entries`` (or by ``raw`` bytes), with
    ``leaves`` as its leaf directories, appended after the file's own bytes."""
    body = bytearray(path.read_bytes())
    header = deserialize_header(bytes(body[:127]))
    root = serialize_directory(entries) if raw is None else raw
    header.update(root_offset=len(body), root_length=len(root))
    header.update(leaf_directory_offset=len(body) + len(root), leaf_directory_length=len(leaves))
    path.write_bytes(serialize_header(header) + bytes(body[127:]) + root + leaves)


def _bad_leaf(made: str) -> tuple[bytes, int]:
    """A leaf directory made to be unreadable, and the offset its root entry names."""
    if made == "bomb":  # 64 MiB of zero entries once inflated, under 128 KiB gzipped
        count = io.BytesIO()
        write_varint(count, 1 << 24)
        bomb = gzip.compress(count.getvalue() + bytes(64 << 20), compresslevel=9, mtime=0)
        assert len(bomb) < 128 << 10
        return bomb, 0
    if made == "past the end":
        return serialize_directory([Entry(1, 0, 1, 1)]), 1 << 30
    if made == "itself":
        leaf = b""
        while len(leaf) != len(leaf := serialize_directory([Entry(0, 0, len(leaf), 0)])):
            pass  # until the leaf's own length is the one it names
        return leaf, 0
    if made == "not gzip":
        return b"not a directory at all", 0
    whole = gzip.decompress(serialize_directory([Entry(i, i, 1, 1) for i in range(50)]))
    return gzip.compress(whole[: len(whole) // 2], mtime=0), 0


@pytest.mark.parametrize(
    ("made", "said"),
    [
        ("bomb", "larger than mapgate reads"),
        ("past the end", "past the end of the file"),
        ("itself", "nest deeper than readers follow"),
        ("not gzip", "is not gzip"),
        ("cut short", "ends before its entries do"),
    ],
)
def test_leaves_that_cannot_be_read_hold_the_archive(tmp_path, checker, made, said):
    """A leaf directory for the ids from zoom 15 on, beside the root's own tiles. GDAL's
    stream stops at it as if the layer ended there (pyogrio's ``read_arrow`` returns the
    200 points and no error). Both are named: GDAL's failure, which it says only to its
    error handler, as geometry not read; the leaf, read here promptly, as tiles not read."""
    path = _gdal_archive(tmp_path / "z14.pmtiles", 14)
    assert checker.check(path).verdict == Effect.allow
    header = deserialize_header(path.read_bytes()[:127])
    own = deserialize_directory(
        path.read_bytes()[header["root_offset"] : header["root_offset"] + header["root_length"]]
    )
    leaf, offset = _bad_leaf(made)
    _root(path, [*own, Entry(zxy_to_tileid(15, 0, 0), offset, len(leaf), 0)], leaf)
    assert pyogrio.read_arrow(path)[1].num_rows == 200
    started = time.monotonic()
    assert any(said in why for why in pmtiles_unread_tiles(path, {"ZOOM_LEVEL": "14"}))
    assert time.monotonic() - started < 30  # a budget, not a benchmark: no hang
    verdict = checker.check(path)
    _held(verdict, said)
    assert any("GDAL failed while reading it" in said for said in verdict.profile.unread_geometries)


def test_a_header_that_is_not_an_archives_is_named(tmp_path):
    path = tmp_path / "not.pmtiles"
    path.write_bytes(b"PMTiles\x02" + bytes(200))
    assert pmtiles_unread_tiles(path, {"ZOOM_LEVEL": "14"}) == [
        "tiles: the archive's header could not be read"
    ]
    assert pmtiles_unread_tiles(path, {}) == [
        "tiles: the zoom level GDAL reads the layers at is not known"
    ]


@pytest.mark.parametrize("seed", range(6))
def test_directories_decode_as_the_pmtiles_reader_does(seed):
    """Random directories (runs, leaves, contiguous and explicit offsets, ids up to zoom
    30): the levels and leaves read here equal the ``pmtiles`` reader's entries."""
    rng = random.Random(seed)
    entries, tile_id, offset = [], 0, 0
    for _ in range(rng.randint(1, 400)):
        tile_id += rng.choice([1, 1, 2, rng.randint(1, 1 << rng.randint(1, 52))])
        length = rng.randint(1, 5000)
        offset = offset if rng.random() < 0.6 else offset + rng.randint(1, 10**9)
        entries.append(Entry(tile_id, offset, length, rng.choice([0, 1, 1, 3])))
        offset += length
    expected = deserialize_directory(serialize_directory(entries))
    levels: set[int] = set()
    leaves = list(_directory(gzip.decompress(serialize_directory(entries)), levels))
    assert leaves == [(e.offset, e.length) for e in expected if e.run_length == 0]
    want = set()
    for e in expected:
        if e.run_length:
            first, last = e.tile_id, e.tile_id + e.run_length - 1
            want.update(range(_zoom(first), _zoom(last) + 1))
    assert levels == want


def _zoom(tile_id: int) -> int:
    return 31 if tile_id >= (4**31 - 1) // 3 else tileid_to_zxy(tile_id)[0]


def test_varints_decode_as_the_pmtiles_reader_does():
    numbers = [0, 1, 127, 128, 300, 1 << 35, (1 << 63) + 12345, (1 << 64) - 1]
    numbers += [random.Random(7).getrandbits(random.Random(i).randint(1, 64)) for i in range(500)]
    buffer = io.BytesIO()
    for n in numbers:
        write_varint(buffer, n)
    data = buffer.getvalue()
    stream = io.BytesIO(data)
    assert [read_varint(stream) for _ in numbers] == numbers
    assert [int(v) for v in _varints(data)] == numbers
