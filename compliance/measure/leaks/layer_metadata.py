"""Positions a vector file keeps in its metadata: numbers its readers show as words.

A driver hands a layer's and a dataset's metadata over as text (a FlatGeobuf header's
title, description and metadata; a GeoPackage's layer identifier and description; GML's
and KML's names), which no reader takes for data. A sender can write the precise
positions of coarsened features there. The numbers the size of coordinates each value
holds (``geojson_unread.text_numbers``: degrees with three decimals or more, metres of
six digits or more) are counted; more than a few in one value (as a GeoJSON document's
own members) is a trace, listed with the image traces (``metadata_coordinates``).
"""

from __future__ import annotations

from compliance.readers.geojson_unread import FEW_NUMBERS, text_numbers
from compliance.readers.sources import VectorSource

__all__ = ["metadata_numbers"]


def metadata_numbers(src: VectorSource) -> list[str]:
    """Each metadata value of ``src`` (the dataset's, each layer's) holding more than a
    few numbers the size of coordinates, said in words."""
    found = []
    owners = [("dataset", src.metadata)] + [
        (f"layer {la.name!r}", la.metadata) for la in src.layers
    ]
    for owner, metadata in owners:
        for key, value in (metadata or {}).items():
            count = len(text_numbers(str(value)))
            if count > FEW_NUMBERS:
                found.append(f"{owner} metadata {key}: {count} numbers the size of coordinates")
    return found
