"""Precise positions packed as bytes in a binary attribute.

The move: points snapped to about 100 m, and each row's precise position packed into a
blob column with ``struct``: two doubles (either byte order, after a header of any
length), two floats, or two integers of 1e-7 degrees; or every position packed into one
row's blob; in a GeoPackage, a FlatGeobuf file and GeoParquet. A blob was read only as
text or as a geometry (WKB, a GeoPackage blob).

Claim under test: each holds the file for coordinates kept in a table, with the column
named; blobs of photos (JPEG and PNG made here) and of random bytes are clean.

Truth: the positions are drawn here at random and packed here with ``struct``; the
images are written by GDAL (rasterio); what GDAL reads back is pyogrio's answer.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from rasterio.io import MemoryFile

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import FINDING, write_layer
from tests.adversarial.test_gpkg_unlisted_tables import _positions

Pack = Callable[[int, float, float], bytes]


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _write(path: Path, blobs: list[bytes]) -> Path:
    """The points snapped to 1e-3 degrees, with ``blobs`` as the binary column ``pos``."""
    _, lonlat = _positions()
    points = shapely.points(np.round(lonlat, 3))
    column = pa.array(blobs, pa.binary())
    if path.suffix == ".parquet":
        geo = {"version": "1.1.0", "primary_column": "geometry",
               "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}}  # fmt: skip
        table = pa.table({"id": list(range(len(points))), "pos": column,
                          "geometry": shapely.to_wkb(points)})  # fmt: skip
        pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), path)
    else:
        write_layer(path, points, 4326, {"pos": column})
        # Kept as bytes (FlatGeobuf orders the features along its index).
        assert sorted(pyogrio.read_arrow(path)[1].column("pos").to_pylist()) == sorted(blobs)
    return path


PACKS: dict[str, Pack] = {
    "doubles": lambda i, x, y: struct.pack("<2d", x, y),
    "doubles_big_endian": lambda i, x, y: struct.pack(">2d", x, y),
    "doubles_after_a_header": lambda i, x, y: b"MG\x01"[: 1 + i % 3] + struct.pack("<2d", x, y),
    "floats": lambda i, x, y: struct.pack("<2f", x, y),
    "integers_of_1e-7_degrees": lambda i, x, y: struct.pack("<2i", round(x * 1e7), round(y * 1e7)),
}  # fmt: skip


def _held(verdict) -> None:  # type: ignore[no-untyped-def]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.profile.layers[0].coordinate_columns == ["pos"]


@pytest.mark.parametrize("suffix", [".gpkg", ".fgb", ".parquet"])
@pytest.mark.parametrize("pack", PACKS)
def test_a_position_packed_in_each_row_s_blob_holds_the_file(tmp_path, checker, pack, suffix):
    _, lonlat = _positions()
    blobs = [PACKS[pack](i, x, y) for i, (x, y) in enumerate(lonlat)]
    _held(checker.check(_write(tmp_path / f"f{suffix}", blobs)))


def test_every_position_packed_in_one_blob_holds_the_file(tmp_path, checker):
    _, lonlat = _positions()
    blobs = [np.asarray(lonlat, "<f8").tobytes()] + [b""] * (len(lonlat) - 1)
    _held(checker.check(_write(tmp_path / "f.gpkg", blobs)))


def _picture(i: int, driver: str) -> bytes:
    """A 400 x 300 picture, smooth with noise, as a camera's would be."""
    y, x = np.mgrid[0:300, 0:400]
    noise = np.random.default_rng(i).integers(0, 40, (3, 300, 400))
    img = np.clip(np.stack([x * (i + 1) % 256, y * 3 % 256, (x + y + i) % 256]) + noise, 0, 255)
    with MemoryFile() as memory:
        with memory.open(driver=driver, width=400, height=300, count=3, dtype="uint8") as dst:
            dst.write(img.astype(np.uint8))
        return bytes(memory.read())


@pytest.mark.parametrize(
    "blob",
    [lambda i: _picture(i, "JPEG"), lambda i: _picture(i, "PNG"), lambda i: os.urandom(3000),
     lambda i: os.urandom(40)],
    ids=["jpeg", "png", "random_3kb", "random_40b"],
)  # fmt: skip
def test_blobs_of_pictures_and_random_bytes_are_clean(tmp_path, checker, blob):
    blobs = [blob(i) for i in range(30)]
    verdict = checker.check(_write(tmp_path / "f.gpkg", blobs))
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.layers[0].coordinate_columns is None
