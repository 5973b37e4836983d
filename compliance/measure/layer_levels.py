"""Contour levels laid one to a layer.

The exporter splits contours by level into layers (``ogr2ogr -where "v = 200" -nln
L200``, once a level): within a layer the level is one value, or is only in the layer's
name, no layer holds three levels, and each passes as 2-D lines. So the layers that draw
lines or polygons are met together: each one's level is the number its name holds, or
the middle of the values a numeric field holds in it, where each layer's values lie
close about it (a level written a little off, feature by feature); where three layers
or more hold three levels or more so, their geometries are read again and met with
those levels as one layer's are (``contour_levels.LevelLines``, which reads levels
written off too). A file of layers with no such values, the common case, reads nothing
twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from compliance.measure.contour_levels import LevelLines, LevelsFound
from compliance.readers.sources import LayerInfo

__all__ = ["LAYER_NAME", "LayerLevels", "WkbReader", "draws_contours"]

# Reads a layer's geometries again, as Arrow arrays of WKB (``VectorSource.wkb_batches``).
WkbReader = Callable[[LayerInfo], Iterable[pa.Array]]

LAYER_NAME = "(the number in each layer's name)"
_NOT_DRAWN = re.compile("Point|TIN", re.IGNORECASE)  # no contour is drawn so
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Each layer's values span at most this share of the gap between levels were they
# spread evenly over the layers' range: a level written off (by up to half a step
# either way), not a measure.
_CLOSE = 1.0


def draws_contours(layer: LayerInfo) -> bool:
    """Whether the layer may hold lines or polygons (mixed layers and curves too)."""
    return any(_NOT_DRAWN.search(t) is None for t in layer.geometry_type.split(","))


@dataclass
class LayerLevels:
    """Each layer's span of values per numeric field (and the number in its name), told
    layer by layer; met with the layers' geometries at the end, where they may be levels."""

    # layer -> key -> (lowest, highest) value
    spans: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    layers: list[LayerInfo] = field(default_factory=list)

    def add(self, layer: LayerInfo, spans: dict[str, tuple[float, float]]) -> None:
        """A layer that draws contours, and each numeric field's lowest and highest value."""
        values = dict(spans)
        numbers = _NUMBER.findall(layer.name)
        if len(numbers) == 1:
            values[LAYER_NAME] = (float(numbers[0]), float(numbers[0]))
        if values:
            self.spans[layer.name] = values
            self.layers.append(layer)

    def keys(self) -> list[str]:
        """The fields (and names) that hold three levels or more, a layer's values close
        about its level."""
        seen: dict[str, list[tuple[float, float]]] = {}
        for values in self.spans.values():
            for key, span in values.items():
                seen.setdefault(key, []).append(span)
        out = []
        for key, spans in seen.items():
            low, high = np.array(spans).T
            middles = np.sort((low + high) / 2)  # distinct: ``np.unique`` loads ``numpy.ma``
            levels = middles[np.r_[True, middles[1:] != middles[:-1]]]
            widest = float((high - low).max())
            if levels.size >= 3 and widest * levels.size <= _CLOSE * (levels[-1] - levels[0]):
                out.append(key)
        return out

    def found(self, batches: WkbReader) -> LevelsFound:
        """The keys whose values lie on the layers' geometries as contour levels do
        (``batches`` reads a layer's WKB again); nothing read where no key may."""
        keys = self.keys()
        if not keys:
            return LevelsFound()
        levels = LevelLines()
        for layer in self.layers:
            row = [np.mean(self.spans[layer.name].get(key, np.nan)) for key in keys]
            if np.isnan(row).all():
                continue  # no level of any key: nothing of it to meet
            for wkb in batches(layer):
                columns = [pa.array(np.full(len(wkb), value)) for value in row]
                levels.add(pa.RecordBatch.from_arrays(columns, names=keys), wkb)
        return levels.found()
