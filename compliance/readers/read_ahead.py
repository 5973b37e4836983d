"""Reading the next batches of a stream in a thread while this one is processed.

GDAL reads without holding the GIL, so on two cores reading and measuring overlap.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["close_batches", "prefetched"]

_T = TypeVar("_T")
_END = object()


def _put(box: queue.Queue, item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            box.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def prefetched(batches: Iterator[_T], depth: int = 2) -> Generator[_T, None, None]:
    """Read the next batches in a thread while this one is processed.

    GDAL reads without holding the GIL, so on two cores reading and measuring overlap.
    The reader's whole life (open, read, close) stays in its own thread.
    """
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
            close_batches(batches)
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


def close_batches(batches: Iterator[object]) -> None:
    """Close a batch generator now (its reader's dataset), not when it is collected."""
    close = getattr(batches, "close", None)
    if close is not None:
        close()
