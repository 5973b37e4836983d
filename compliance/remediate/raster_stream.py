"""What the raster actions share: how a raster marks invalid pixels, a tiled staging
GeoTIFF written block by block, and the Cloud Optimized GeoTIFF made from it.

Every raster action writes its whole result to a staging GeoTIFF in the run's scratch
folder, one block at a time, then GDAL's COG driver copies it to the target with
overviews built afresh from that image. Overviews are never copied from the input (a
stale overview shows what the image hides) and no sidecar (``.ovr``, ``.aux.xml``,
``.msk``, world files) is written or kept beside the target.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "BLOCK",
    "Validity",
    "blocks",
    "coarsest_overview",
    "is_paletted",
    "open_source",
    "staging_profile",
    "validity_of",
    "write_cog",
]

BLOCK = 512  # pixels per side of a staging block and of a COG tile
_SIDECAR_SUFFIXES = (".ovr", ".aux.xml", ".msk")
_WORLD_SUFFIXES = (".tfw", ".tifw", ".wld")


@dataclass(frozen=True)
class Validity:
    """How a raster marks pixels without data, and so how an action hides pixels.

    ``nodata``: every band takes the nodata value. ``alpha``: the alpha band (1-based
    ``alpha_band``) takes 0. ``mask``: an internal per-dataset mask takes 0; this is the
    choice for a raster with neither, since finding a value no band uses would need a
    whole pass over the image. In all three the hidden pixels' values are overwritten
    too: a mask over untouched values would still carry the image.
    """

    kind: Literal["nodata", "alpha", "mask"]
    nodata: float | None = None
    alpha_band: int | None = None


def validity_of(ds: Any) -> Validity:
    """The way ``ds`` (an open rasterio dataset) marks invalid pixels, or will."""
    from rasterio.enums import ColorInterp

    if ds.nodata is not None:
        return Validity("nodata", nodata=float(ds.nodata))
    alpha = [i + 1 for i, c in enumerate(ds.colorinterp) if c == ColorInterp.alpha]
    if alpha:
        return Validity("alpha", alpha_band=alpha[0])
    return Validity("mask")


@contextmanager
def open_source(path: Path) -> Iterator[Any]:
    """The full-resolution image of ``path``: its overviews are not opened, so no resampled
    read can take pixels from an overview that disagrees with the image."""
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning for a stripped input
        with rasterio.open(path, overview_level="NONE") as ds:
            yield ds


def is_paletted(ds: Any) -> bool:
    """A colour table on the first band: values are classes, resampled by picking one
    (nearest), never averaged."""
    try:
        ds.colormap(1)
    except ValueError:
        return False
    return True


def staging_profile(ds: Any, validity: Validity, **changes: Any) -> dict[str, Any]:
    """A tiled, uncompressed GeoTIFF profile for ``ds``'s pixels, with ``changes`` applied
    (another size, transform, CRS...)."""
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": ds.width,
        "height": ds.height,
        "count": ds.count,
        "dtype": ds.dtypes[0],
        "crs": ds.crs,
        "transform": ds.transform,
        "tiled": True,
        "blockxsize": BLOCK,
        "blockysize": BLOCK,
        "BIGTIFF": "IF_SAFER",
    }
    if validity.kind == "nodata":
        profile["nodata"] = validity.nodata
    if validity.kind == "alpha":
        profile["photometric"] = "RGB" if ds.count == 4 else "MINISBLACK"
    profile.update(changes)
    return profile


def blocks(width: int, height: int) -> Iterator[Any]:
    """Windows of ``BLOCK`` pixels per side covering a ``width`` x ``height`` image."""
    from rasterio.windows import Window

    for row in range(0, height, BLOCK):
        for col in range(0, width, BLOCK):
            yield Window(col, row, min(BLOCK, width - col), min(BLOCK, height - row))


def _remove_sidecars(path: Path) -> None:
    for suffix in _SIDECAR_SUFFIXES:
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    for suffix in _WORLD_SUFFIXES:
        path.with_suffix(suffix).unlink(missing_ok=True)


def _overview_count(width: int, height: int) -> int:
    """Overviews halving the image until it fits in one COG tile (GDAL's own default)."""
    count, side = 0, max(width, height)
    while side > BLOCK:
        side = -(-side // 2)
        count += 1
    return count


def coarsest_overview(width: int, height: int) -> int:
    """The side, in full-resolution pixels, of the coarsest overview pixel ``write_cog``
    builds for an image of this size (1 when it builds none)."""
    return int(2 ** _overview_count(width, height))


def write_cog(staging: Path, target: Path, nearest: bool = False) -> None:
    """Copy the staging GeoTIFF to ``target`` as a COG whose overviews are built from
    the staging image (average, or nearest for paletted and classified data)."""
    import rasterio
    import rasterio.shutil

    with rasterio.open(staging) as ds:
        overviews = _overview_count(ds.width, ds.height)

    _remove_sidecars(target)
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rasterio.shutil.copy(
            str(staging),
            str(target),
            driver="COG",
            COMPRESS="DEFLATE",
            BLOCKSIZE=BLOCK,
            OVERVIEWS="IGNORE_EXISTING" if overviews else "NONE",
            OVERVIEW_COUNT=max(overviews, 1),
            OVERVIEW_RESAMPLING="NEAREST" if nearest else "AVERAGE",
            BIGTIFF="IF_SAFER",
        )
    _remove_sidecars(target)  # GDAL writes none with PAM off; make sure
