"""Images opened again for their pixels and masks (the leak checks, the valid-pixel
overlap), always by the driver the readers already chose for them, so nothing GDAL would
otherwise probe is tried on the file."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["open_image", "open_level"]


def open_image(name: str, driver: str, **options: Any) -> Any:
    """``rasterio.open`` of ``name`` by ``driver`` alone, GDAL's warnings silenced (a
    damaged file says so by raising, which the callers turn into a finding)."""
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rasterio.open(name, driver=driver, **options)


def open_level(name: str, driver: str, level: int | None) -> Any:
    """The image at full resolution (``level`` None) or one overview level of it."""
    from rasterio.io import DatasetReader

    options = {} if level is None else {"overview_level": level}
    return DatasetReader(name, driver=[driver], **options)
