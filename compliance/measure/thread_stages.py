"""Stages of a streaming scan, each producing its batches in a thread of its own.

GDAL, GEOS and NumPy work without holding the GIL, so a scan split into stages (read and
decode; measure and place; test exactly) keeps the cores busy where one thread would leave
them waiting on each other. Each stage hands on a few batches at most: memory stays bounded
whatever the layer's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["close_now", "prefetched"]

_END = object()
_T = TypeVar("_T")


def _put(box: queue.Queue, item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            box.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def prefetched(batches: Iterator[_T], depth: int = 2) -> Generator[_T, None, None]:
    """Produce the next batches in a thread while this one is processed; the generator's
    whole life (for a reader: open, read, close) stays in that thread."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in batches:
                if not _put(box, item, stop):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            _put(box, exc, stop)
        finally:
            close_now(batches)
            _put(box, _END, stop)

    reader = threading.Thread(target=read, name="mapgate-read", daemon=True)
    reader.start()
    try:
        while (item := box.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def close_now(batches: Iterator[object]) -> None:
    """Close a batch generator now (its reader's dataset), not when it is collected."""
    close = getattr(batches, "close", None)
    if close is not None:
        close()
