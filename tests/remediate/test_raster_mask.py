"""mask_zones on rasters: every pixel centre in the buffered zone is hidden at the full image
and every overview of the derivative, pixels away from it are unchanged, the derivative is
a COG with nothing beside it, and its re-check no longer asks for the mask.

Checked with rasterio, pyproj and shapely alone: the zone is buffered on the ground in the
conftest's azimuthal equidistant frame, pixel centres are carried there with pyproj.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely

from compliance import Checker
from tests.remediate.conftest import buffered_zone_local
from tests.remediate.raster_builders import centres_in, levels, write_raster

# (validity, CRS, overviews of the input, ground metres a pixel)
CASES = [
    ("nodata", 5186, "internal", 5.0),
    ("alpha", 32652, "ovr", 5.0),
    ("mask", 4326, "internal", 5.0),
    ("none", 3857, "ovr", 5.0),
    ("nodata", 3857, None, 6.0),
    ("alpha", 5186, "internal", 4.0),
    ("mask", 32652, "internal", 5.5),
    ("none", 4326, "internal", 5.0),
]
FAR_M = 1_500.0  # beyond every 1 km grid cell that meets the buffered zone


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("kind", "epsg", "overviews", "side_m"), CASES)
def test_mask_zones_hides_the_zone_at_every_level(
    tmp_path: Path, mask_checker: Checker, kind: str, epsg: int, overviews: str, side_m: float
) -> None:
    source = write_raster(tmp_path / "in.tif", epsg, kind, side_m, 1200, overviews)
    before = digest(source)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "masked.tif"
    report = mask_checker.remediate(source, out)

    assert report.original.verdict == "deny" and "mask_zones" in report.original.conditions
    action = next(a for a in report.actions if a.condition == "mask_zones")
    assert action.status == "applied"
    assert digest(source) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["masked.tif"]  # no sidecar
    with rasterio.open(out) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.crs == rasterio.crs.CRS.from_epsg(epsg)
        assert len(ds.overviews(1)) >= 1

    zone = buffered_zone_local()
    shapely.prepare(zone)
    derived, original = levels(out), levels(source)
    for data, valid, a in derived:
        inside = centres_in(zone, valid.shape, a, epsg)
        assert inside.sum() > 0
        assert not valid[inside].any(), "a pixel centre in the zone holds data"
        hidden_value = 0  # the nodata value, or 0 under alpha and mask
        assert (data[:, inside] == hidden_value).all(), "hidden values were kept"

    data, valid, a = derived[0]
    data0, valid0, _ = original[0]
    far = ~centres_in(zone.buffer(FAR_M, quad_segs=64), valid.shape, a, epsg)
    assert far.any() and (~far).any()
    np.testing.assert_array_equal(data[:, far], data0[:, far])
    np.testing.assert_array_equal(valid[far], valid0[far])
    hidden = valid0 & ~valid
    if kind == "none":
        assert action.changes.pixels_masked == int((~valid).sum())
    assert action.changes.pixels_masked >= int(hidden.sum()) > 0
    assert action.changes.area_masked_km2 > 1.0  # at least the buffered zone, about 2 km2

    assert "mask_zones" not in report.verdict.conditions
    assert report.verdict.zones.count == 0
    assert report.verdict.verdict == "allow"


def test_a_raster_away_from_the_zone_is_not_masked(tmp_path: Path, mask_checker: Checker) -> None:
    # 20 km east of the zone: nothing to mask, nothing fires; the copy is the input.
    source = write_raster(tmp_path / "far.tif", 32652, "nodata", 5.0, 400, "internal")
    with rasterio.open(source, "r+") as ds:
        a = ds.transform
        ds.transform = rasterio.Affine(a.a, a.b, a.c + 20_000, a.d, a.e, a.f)
    report = mask_checker.remediate(source, tmp_path / "out.tif")
    assert report.original.verdict == "allow" and report.actions == []
    assert report.verdict.verdict == "allow"
