"""The streaming pass: reading in a thread never loses an error or leaves a thread behind."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from compliance import UnreadableDataset
from compliance.vector_scan import prefetched


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
