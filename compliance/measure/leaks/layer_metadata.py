"""Positions a vector file keeps in its metadata: numbers its readers show as words.

A driver hands a layer's and a dataset's metadata over as text (a FlatGeobuf header's
title, description and metadata; a GeoPackage's layer identifier and description; GML's
and KML's names), which no reader takes for data. A sender can write the precise
positions of coarsened features there. The numbers the size of coordinates each value
holds (``geojson_unread.text_numbers``: degrees with three decimals or more, metres of
six digits or more) are counted; more than a few in one owner's values together (as a
GeoJSON document's own members) is a trace, listed with the image traces (``metadata_coordinates``).

Names are words a sender chooses too: a layer per position named ``L 126.9054109
37.5521934``, or a GeoJSON property per feature named after its position (GDAL makes a
field of each). The layers' names are met as the dataset's values, and each layer's
field names as its own.
"""

from __future__ import annotations

from compliance.readers.geojson_unread import FEW_NUMBERS, text_numbers
from compliance.readers.sources import VectorSource

__all__ = ["metadata_numbers"]


def metadata_numbers(src: VectorSource) -> list[str]:
    """The dataset's and each layer's metadata (and names) holding more than a few
    numbers the size of coordinates, all its values together (a position per key is as
    many as one value of them all), said in words."""
    found = []
    owners = [("dataset", src.metadata, "layer names", [la.name for la in src.layers])] + [
        (f"layer {la.name!r}", la.metadata, "field names", la.fields) for la in src.layers
    ]
    for owner, metadata, what, names in owners:
        counts = [
            (str(key), len(text_numbers(str(value)))) for key, value in (metadata or {}).items()
        ]
        counts.append((what, len(text_numbers(" ".join(names)))))
        if (total := sum(n for _, n in counts)) > FEW_NUMBERS:
            keys = ", ".join(sorted({k for k, n in counts if n})[:5])
            found.append(f"{owner} metadata {keys}: {total} numbers the size of coordinates")
    return found
