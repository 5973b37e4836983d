"""What a MapInfo MIF/MID pair writes that GDAL's MapInfo driver does not read.

A MIF file draws; its MID file beside it holds each object's row. GDAL reads the columns
the MIF header declares (``Columns n``) and passes over any value past them in a MID
row; of a region it reads the rings, and passes over its label point (``Center x y``).
A value past the columns is kept as text, and so is a label point off its region's box
(one within it says no more than the region: MapInfo writes a centroid there), each to
be met with where the features lie (``xml_unread``'s parts).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["mif_unread_text"]

_MAX_CHARS = 16 << 20  # as xml_unread's MAX_UNREAD_CHARS
_COLUMNS = re.compile(r"^\s*columns\s+(\d+)", re.IGNORECASE)
_DELIMITER = re.compile(r'^\s*delimiter\s+"(.)"', re.IGNORECASE)


def mif_unread_text(path: Path) -> list[str] | None:
    """The text of the MIF file at ``path`` and its MID beside it that GDAL does not
    read; None when it cannot be looked through (unreadable, or too much of it)."""
    try:
        with path.open(encoding="latin-1", newline="") as mif:
            delimiter, columns = _header(mif)
            parts = list(_objects(mif))
        mid = _mid(path)
        if mid is not None:
            with mid.open(encoding="latin-1", newline="") as rows:
                parts += [
                    " ".join(row[columns:])
                    for row in csv.reader(rows, delimiter=delimiter)
                    if len(row) > columns
                ]
    except (OSError, csv.Error, ValueError, IndexError):  # damaged: not looked through
        return None
    return None if sum(map(len, parts)) > _MAX_CHARS else parts


def _header(mif: Iterator[str]) -> tuple[str, int]:
    """The MID delimiter and the number of declared columns, read up to ``Data``."""
    delimiter, columns = "\t", 0
    for line in mif:
        if found := _DELIMITER.match(line):
            delimiter = found.group(1)
        elif found := _COLUMNS.match(line):
            columns = int(found.group(1))
        elif line.strip().lower() == "data":
            break
    return delimiter, columns


def _objects(mif: Iterator[str]) -> Iterator[str]:
    """The label points of regions that lie off their region's box."""
    box: list[float] = []  # min x, min y, max x, max y of the last region's vertices
    rings, points = 0, 0  # rings of the region being read, points left in its ring
    for line in mif:
        words = line.split()
        if not words:
            continue
        keyword = words[0].lower()
        if points:
            points -= 1
            x, y = float(words[0]), float(words[1])
            box = [min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y)]
        elif rings:
            rings, points = rings - 1, int(words[0])
        elif keyword == "region":
            box, rings = [np.inf, np.inf, -np.inf, -np.inf], int(words[1])
        elif keyword == "center" and not _within(words[1:3], box):
            yield " ".join(words[1:3])


def _within(words: list[str], box: list[float]) -> bool:
    """Whether the point ``words`` lies in ``box`` (to a round-off of its size)."""
    if len(words) < 2 or len(box) < 4:
        return False
    x, y = float(words[0]), float(words[1])
    room = 1e-9 * max(1.0, *map(abs, box))
    return box[0] - room <= x <= box[2] + room and box[1] - room <= y <= box[3] + room


def _mid(path: Path) -> Path | None:
    for suffix in (".mid", ".MID", ".Mid"):
        candidate = path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None
