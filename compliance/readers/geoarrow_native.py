"""GeoParquet's native geometry encodings (GeoArrow point, linestring, polygon and their
multi forms) turned into WKB, so that they are read like every other layer.

GeoParquet 1.1 lets a column store coordinates as nested Arrow lists instead of WKB;
GeoArrow's C kernel writes each row's WKB from them, nulls and empties kept.
"""

from __future__ import annotations

from typing import Any

import geoarrow.c
import pyarrow as pa

__all__ = [
    "NATIVE_ENCODINGS",
    "native_to_wkb",
]

NATIVE_ENCODINGS = frozenset(
    {"point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon"}
)
_GEOARROW_WKB = 100001  # GEOARROW_TYPE_WKB: the output type asked of as_geoarrow
_TO_WKB = geoarrow.c.ScalarFunction("as_geoarrow", type=_GEOARROW_WKB)


class _Tagged:
    """A column handed to GeoArrow as ``geoarrow.<encoding>``, without registering
    GeoArrow's extension types in pyarrow (which would change what every reader returns)."""

    def __init__(self, column: pa.Array, encoding: str) -> None:
        self.column = column
        self.encoding = encoding

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[Any, Any]:
        _, array = self.column.__arrow_c_array__()
        field = pa.field(
            "geometry",
            self.column.type,
            metadata={
                "ARROW:extension:name": f"geoarrow.{self.encoding}",
                "ARROW:extension:metadata": "{}",
            },
        )
        return field.__arrow_c_schema__(), array


def native_to_wkb(column: pa.Array, encoding: str) -> pa.Array:
    """The WKB of each row of a natively encoded geometry column.

    Raises
    ------
    ValueError
        The column's layout is not that of its encoding.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    try:
        return pa.array(_TO_WKB(_Tagged(column, encoding)))
    except RuntimeError as exc:  # GeoArrowCException: a layout the encoding does not allow
        raise ValueError(f"not a valid {encoding} column: {exc}") from exc
