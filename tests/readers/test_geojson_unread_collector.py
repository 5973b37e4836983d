"""The GeoJSON member check parses each document into thousands of Python lists and
dicts. It keeps the cyclic garbage collector off while it does (a JSON tree holds no
cycle, and tracing it with the rest of the heap cost 2 ms a check), and must leave the
collector as it found it: on when it was on, off when the caller had turned it off,
whatever the document and however many threads check at once.

Truth: ``gc.callbacks`` (the interpreter's own record of each collection it starts) and
``gc.isenabled``; the documents are written here with the json module.
"""

from __future__ import annotations

import gc
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from compliance.readers.geojson_unread import unread_members


def _document(path: Path, n: int, **extra: object) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"n": i, "tags": ["a", "b"]},
            "geometry": {"type": "LineString", "coordinates": [[127 + i * 1e-5, 36.0], [127.0, 36.1]]},
            **extra,
        }
        for i in range(n)
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def collections() -> list[int]:
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(record)
    yield started
    gc.callbacks.remove(record)


def test_a_large_document_is_walked_without_a_collection(tmp_path, collections):
    path = _document(tmp_path / "big.geojson", 30_000)
    collections.clear()  # those writing it
    assert gc.isenabled()
    assert unread_members(path) == []
    assert collections == []  # 30,000 features: hundreds of collections with it on
    assert gc.isenabled()
    # The control: the same parse with the collector on collects, so the test can fail.
    json.loads(path.read_bytes())
    assert collections


@pytest.mark.parametrize(
    "text",
    [
        b"{not json",  # refused by both parsers
        b'{"type": "FeatureCollection", "features": [], "x": NaN}',  # the fallback parser
        b'{"type": "FeatureCollection", "features": [], "a": 1, "a": 2}',  # the second parse
    ],
)
def test_the_collector_is_left_as_found_on_every_path(tmp_path, text):
    path = tmp_path / "f.geojson"
    path.write_bytes(text)
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            unread_members(path)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_threads_checking_at_once_leave_the_collector_on(tmp_path):
    paths = [_document(tmp_path / f"{i}.geojson", 2_000 + i, bbox=[0, 0, 1, 1]) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        said = list(pool.map(unread_members, paths * 4))
    assert all(s == [f"{2_000 + i} bbox members that are not their geometry's box"] for i, s in zip(list(range(8)) * 4, said, strict=True))  # fmt: skip
    assert gc.isenabled()
