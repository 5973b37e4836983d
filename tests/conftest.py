"""Shared fixtures: builders for real rasters and vectors in tmp_path, the real-data corpus."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from compliance import Checker

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO.parent / "shared" / "real_data"
SAMPLES = REPO / "sample_maps"


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip("the shared real-data corpus is not beside this checkout")
    return REAL_DATA


@pytest.fixture(scope="session")
def checker() -> Checker:
    """One checker with every built-in pack and the demo zones, loaded once."""
    return Checker()


def write_raster(
    path: Path,
    crs: str | None,
    transform: Affine,
    width: int = 32,
    height: int = 32,
    count: int = 1,
    dtype: str = "uint8",
    **extra: object,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": dtype,
        "transform": transform,
    }
    if crs is not None:
        profile["crs"] = crs
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.zeros((count, height, width), dtype=dtype))
    return path


def write_vector(
    path: Path, geoms: list, crs: object, driver: str | None = None, **fields: list
) -> Path:
    frame = gpd.GeoDataFrame(fields or {"n": list(range(len(geoms)))}, geometry=geoms, crs=crs)
    frame.to_file(path, driver=driver)
    return path
