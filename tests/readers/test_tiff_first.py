"""A TIFF is opened as a raster without first asking every vector driver; one that is not
a raster is refused exactly as before, with both readers' reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasterio.transform import from_origin

import compliance.readers.dataset as dataset_module
from compliance.checker import Checker
from compliance.errors import UnsupportedFormat
from compliance.readers.dataset import open_dataset
from compliance.readers.sources import RasterSource
from tests.builders import write_raster


def test_a_geotiff_is_never_offered_to_the_vector_drivers(tmp_path: Path, monkeypatch) -> None:
    tif = write_raster(tmp_path / "seoul.tif", "EPSG:5186", from_origin(200_000, 560_000, 0.5, 0.5))
    expected = Checker().check(tif).model_dump(exclude={"id", "checked_at", "duration_ms"})

    def trap(*args, **kwargs):
        raise AssertionError("a TIFF was opened as vector data")

    monkeypatch.setattr(dataset_module, "ogr_layers", trap)
    assert isinstance(open_dataset(tif), RasterSource)
    found = Checker().check(tif).model_dump(exclude={"id", "checked_at", "duration_ms"})
    assert found == expected


@pytest.mark.parametrize("magic", [b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"])
def test_a_file_that_only_starts_like_a_tiff_is_refused_with_every_reason(
    tmp_path: Path, magic: bytes
) -> None:
    fake = tmp_path / "sheet.tif"
    fake.write_bytes(magic + b"\x08\x00\x00\x00" + b"\xff" * 200)
    with pytest.raises(UnsupportedFormat) as raised:
        open_dataset(fake)
    message = str(raised.value)
    assert message.startswith("sheet.tif: not a raster or vector dataset GDAL can read (")
    # The vector drivers' answer first, then the raster reader's, as for any other file.
    assert "not recognized as being in a supported file format" in message
    assert message.index("not recognized") < message.index("TIFF")
