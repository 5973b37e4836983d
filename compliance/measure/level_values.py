"""Each row's number in a field that may hold contour levels.

A level may be written as a number or as text that is wholly one ("212.5", as a CSV or a
text field of a GeoJSON holds it). Each distinct text is read once, and a field of more
distinct texts than a contour set has levels is no field of levels.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from compliance.measure.attribute_positions import numbers

__all__ = ["FEW_TEXTS", "row_numbers"]

# Rows of text of a batch told apart in Python: Arrow's kernels (dictionary_encode,
# fill_null, a regex match) cost 50 ms to import, which a check of a few names never pays.
FEW_TEXTS = 512
# Text that is wholly a number (digits already folded to ASCII's by the scan).
_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def row_numbers(column: pa.Array, most: int) -> np.ndarray | None:
    """Each row's number (NaN where it has none): a number's, or a text's that is wholly
    a number; None for other kinds, and for text of more than ``most`` distinct values."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return numbers(column)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    if len(column) > FEW_TEXTS:
        return _read_in_arrow(column, most)
    codes: dict[str, int] = {}
    rows = [-1 if t is None else codes.setdefault(t, len(codes)) for t in column.to_pylist()]
    if len(codes) > most:
        return None
    read = np.full(len(codes) + 1, np.nan)  # the last for a null (code -1)
    texts = list(codes)
    shaped = [i for i, text in enumerate(texts) if _NUMBER_TEXT.match(text)]
    if shaped:
        read[shaped] = numbers(pa.array([texts[i] for i in shaped], pa.string()))
    return read[np.array(rows, dtype=np.intp)]


def _read_in_arrow(column: pa.Array, most: int) -> np.ndarray | None:
    """``row_numbers`` of many rows of text, in Arrow's kernels."""
    import pyarrow.compute as pc

    coded = column.dictionary_encode()
    texts = coded.dictionary
    if len(texts) > most:
        return None
    read = np.full(len(texts) + 1, np.nan)  # the last for a null
    matches = pc.match_substring_regex(texts, "^" + _NUMBER_TEXT.pattern)
    shaped = np.flatnonzero(matches.to_numpy(zero_copy_only=False))
    if shaped.size:
        read[shaped] = numbers(texts.take(pa.array(shaped)))
    return read[coded.indices.fill_null(len(texts)).to_numpy()]
