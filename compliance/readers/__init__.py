"""Readers: turn any input (path, bytes, file object, zip, GeoDataFrame) into an open dataset."""

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
