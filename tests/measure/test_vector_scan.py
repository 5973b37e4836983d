"""The streaming pass: reading in a thread never loses an error or leaves a thread behind."""

from __future__ import annotations

import threading
import time

import numpy as np
import pyarrow as pa
import pytest
import shapely

from compliance import Checker, UnreadableDataset
from compliance.readers.read_ahead import prefetched
from compliance.readers.sources import BATCH_SIZE
from tests.builders import write_vector


def _batches(n: int, fail_at: int | None = None):
    for i in range(n):
        if i == fail_at:
            raise UnreadableDataset("layer 'x' cannot be read: truncated")
        yield pa.array([bytes([i])])


def _reader_threads() -> int:
    return sum(t.name == "mapgate-read" for t in threading.enumerate())


def test_batches_arrive_in_order():
    assert [b[0].as_py() for b in prefetched(_batches(10))] == [bytes([i]) for i in range(10)]
    assert _reader_threads() == 0


def test_a_read_error_reaches_the_consumer():
    seen = []
    with pytest.raises(UnreadableDataset, match="truncated"):
        for batch in prefetched(_batches(10, fail_at=3)):
            seen.append(batch)
    assert len(seen) == 3 and _reader_threads() == 0


def test_stopping_early_stops_the_reader():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield pa.array([b"x"])
        finally:
            closed.set()

    stream = prefetched(endless())
    next(stream)
    stream.close()
    assert closed.wait(5) and _reader_threads() == 0


def _threads_seen_during(fn) -> set[str]:
    """Names of the threads alive at any moment while ``fn`` runs (sampled every ms)."""
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(t.name for t in threading.enumerate())
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        fn()
    finally:
        done.set()
        watcher.join()
    return seen


def test_a_checker_without_helper_threads_reads_in_its_own_thread(tmp_path):
    # Pool workers on every core turn helper threads off; the verdict must not change.
    n = 4 * BATCH_SIZE
    rng = np.random.default_rng(2)
    x, y = 127.0 + rng.random(n) * 0.05, 37.5 + rng.random(n) * 0.05
    path = write_vector(tmp_path / "many.gpkg", list(shapely.points(x, y)), "EPSG:4326")
    verdicts = {}
    for helpers in (True, False):
        checker = Checker(packs=["kr"], helper_threads=helpers)
        seen = _threads_seen_during(
            lambda c=checker, h=helpers: verdicts.__setitem__(h, c.check(path))
        )
        assert ("mapgate-read" in seen) is helpers
    on, off = verdicts[True], verdicts[False]
    assert on.input == off.input and on.verdict == off.verdict
    assert on.zones == off.zones and on.findings == off.findings
    assert on.profile.feature_count == off.profile.feature_count == n
