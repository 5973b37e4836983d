"""Readers: turn any input (path, bytes, file object, zip, GeoDataFrame) into an open dataset.

The names below load on first use: a command can start hashing its input
(``inputs.digest_ahead``) before GDAL and its companions have loaded.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.readers.dataset import open_dataset
    from compliance.readers.inputs import InputLimits, LocalInput, materialize
    from compliance.readers.sources import RasterSource, VectorSource

__all__ = [
    "InputLimits",
    "LocalInput",
    "RasterSource",
    "VectorSource",
    "materialize",
    "open_dataset",
]

_HOMES = {
    "open_dataset": "dataset",
    "InputLimits": "inputs",
    "LocalInput": "inputs",
    "materialize": "inputs",
    "RasterSource": "sources",
    "VectorSource": "sources",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"compliance.readers.{_HOMES[name]}"), name)
