"""GDAL's failures during a block of calls on the library pyogrio loaded, caught by a
handler of our own (GDAL's handlers are per thread) and worded as pyogrio words them, so
that callers treat both the same."""

from __future__ import annotations

import ctypes
import threading

__all__ = ["GdalErrors"]

_CE_FAILURE = 3

_failures = threading.local()


@ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_char_p)
def _record_error(err_class: int, err_no: int, message: bytes | None) -> None:
    """GDAL's failures in this thread, in order, as pyogrio's handler words them; warnings
    are dropped (pyogrio's become Python warnings, which the readers silence)."""
    if err_class == _CE_FAILURE:
        try:
            text = (message or b"").decode("utf-8").replace("`", "'").replace("\n", " ")
        except UnicodeDecodeError:
            text = f"Could not decode error message to UTF-8. Raw error: {message!r}"
        _failures.stack.append(text)


class GdalErrors:
    """GDAL's failures during a block, raised as pyogrio raises them: the last first, the
    earlier ones after it, joined by '; '."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib

    def __enter__(self) -> GdalErrors:
        _failures.stack = []
        self.lib.CPLErrorReset()
        self.lib.CPLPushErrorHandler(_record_error)
        return self

    def __exit__(self, *exc: object) -> None:
        self.lib.CPLPopErrorHandler()
        self.lib.CPLErrorReset()

    @staticmethod
    def message() -> str | None:
        stack: list[str] = _failures.stack
        return "; ".join(reversed(stack)) if stack else None
