"""Readers: turn any input (path, bytes, file object, zip, GeoDataFrame) into an open dataset."""

from compliance.readers.dataset import RasterSource, VectorSource, open_dataset
from compliance.readers.inputs import InputLimits, LocalInput, materialize

__all__ = [
    "InputLimits",
    "LocalInput",
    "RasterSource",
    "VectorSource",
    "materialize",
    "open_dataset",
]
