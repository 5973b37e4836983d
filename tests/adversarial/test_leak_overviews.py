"""Masked at full resolution, still shown zoomed out: stale overviews leak what was masked.

The move: mask a zone in the full-resolution image (nodata, alpha or an internal mask) and
keep the overviews built before (internal, or an external ``.ovr``), or a second page of
the TIFF rendering the same ground. Every reader that zooms out shows the masked block.
Claim under test: an overview pixel valid where every full-resolution pixel under it (and
one around) is masked is counted, and holds the verdict for review.

Truth: rasterio's own masks of each level, compared cell by cell in the test.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from compliance import Checker, Effect
from tests.measure.leak_files import leaked_pixels, masked_raster, origin, zone_pack

# name: (place, mask kind, overview factors, external .ovr, block masked)
VARIANTS = {
    "oslo_nodata_internal": ("oslo_utm32", "nodata", [2, 4], False, (40, 170, 60, 200)),
    "sydney_mask_ovr": ("sydney_mga56", "mask", [2, 4, 8], True, (0, 128, 128, 256)),
    "buenos_aires_alpha_internal": (
        "buenos_aires_webmerc",
        "alpha",
        [4, 16],
        False,
        (64, 96, 8, 250),
    ),
    "nairobi_nodata_ovr_odd_factors": ("nairobi_wgs84", "nodata", [3, 9], True, (33, 201, 17, 90)),
}
SIZE = 256


@pytest.fixture(scope="module")
def checker(tmp_path_factory) -> Checker:
    return Checker(packs=[str(zone_pack(tmp_path_factory.mktemp("pack")))])


@pytest.mark.parametrize("name", VARIANTS)
def test_stale_overviews_hold_the_verdict(tmp_path, checker, name):
    place, kind, factors, external, block = VARIANTS[name]
    path = masked_raster(tmp_path / f"{name}.tif", place, SIZE, block, kind, factors, external)
    expected = leaked_pixels(path)
    assert expected > 0
    verdict = checker.check(path)
    leaks = verdict.profile.leaks
    assert leaks.overview_pixels == expected
    assert len(leaks.overview_levels) == 1 and "overview 1" in leaks.overview_levels[0]
    assert verdict.verdict != Effect.allow
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-LEAK-OVERVIEW")
    assert finding.effect == Effect.review
    assert finding.facts["dataset.overview_leak_pixels"] == expected


@pytest.mark.parametrize("name", VARIANTS)
def test_overviews_rebuilt_after_the_mask_are_clean(tmp_path, checker, name):
    place, kind, factors, external, block = VARIANTS[name]
    # An internal mask has no place in an external .ovr: its control keeps them inside.
    external = external and kind != "mask"
    path = masked_raster(
        tmp_path / f"{name}.tif", place, SIZE, block, kind, factors, external, honest=True
    )
    assert leaked_pixels(path) == 0
    verdict = checker.check(path)
    assert verdict.profile.leaks.overview_pixels == 0
    assert verdict.verdict == Effect.allow
    assert not [f for f in verdict.findings if f.rule_id.startswith("MAPGATE-LEAK")]


def test_an_internal_mask_with_an_external_ovr_leaks(tmp_path, checker):
    """GDAL writes no mask into an external .ovr: overviews rebuilt after an internal
    mask still show the pixel values under it."""
    path = masked_raster(
        tmp_path / "m.tif", "oslo_utm32", SIZE, (64, 192, 64, 192), "mask", [2], True, True
    )
    with rasterio.open(path, overview_level=0) as ov:
        assert ov.dataset_mask().all()
    verdict = checker.check(path)
    assert verdict.profile.leaks.overview_pixels == (64 - 2) ** 2
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize("pages", [(64, 32), (90, 45), (128, 32)])
def test_a_second_page_of_the_same_ground_leaks(tmp_path, checker, pages):
    """A TIFF page that is no overview (its own IFD, no georeferencing, the same shape)
    shows the block the first page masks."""
    full, small = pages
    x, y = origin("oslo_utm32")
    path = tmp_path / "two.tif"
    data = np.full((1, full, full), 200, dtype="uint8")
    q = full // 4
    data[:, q : 3 * q, q : 3 * q] = 0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=full,
        height=full,
        count=1,
        dtype="uint8",
        nodata=0,
        crs="EPSG:25832",
        transform=from_origin(x, y, 0.5, 0.5),
    ) as dst:
        dst.write(data)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=small,
        height=small,
        count=1,
        dtype="uint8",
        APPEND_SUBDATASET="YES",
    ) as dst:
        dst.write(np.full((1, small, small), 200, dtype="uint8"))
    # Truth: page-2 pixels whose span on page 1, one pixel around, is all nodata.
    r = full / small
    expected = sum(
        not (
            data[
                0,
                max(0, int(np.floor(i * r)) - 1) : int(np.ceil((i + 1) * r)) + 1,
                max(0, int(np.floor(j * r)) - 1) : int(np.ceil((j + 1) * r)) + 1,
            ]
            > 0
        ).any()
        for i in range(small)
        for j in range(small)
    )
    assert expected > 0
    verdict = checker.check(path)
    assert verdict.profile.leaks.overview_pixels == expected
    assert verdict.verdict != Effect.allow
    assert "MAPGATE-LEAK-OVERVIEW" in {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("name", ["oslo_nodata_internal", "nairobi_nodata_ovr_odd_factors"])
def test_a_stale_ovr_beside_honest_internal_overviews(tmp_path, checker, name):
    """GDAL reads internal overviews and ignores an .ovr beside them; the .ovr still
    leaves with the image, and shows what the mask hides."""
    place, kind, factors, _, block = VARIANTS[name]
    honest = masked_raster(tmp_path / "a.tif", place, SIZE, block, kind, factors, False, True)
    stale = masked_raster(tmp_path / "b.tif", place, SIZE, block, kind, factors, True, False)
    ovr = tmp_path / "a.tif.ovr"
    ovr.write_bytes((tmp_path / "b.tif.ovr").read_bytes())
    with rasterio.open(honest) as ds:
        assert len(ds.overviews(1)) == len(factors)
    # Truth: the stale overviews as GDAL reads them beside b.tif, against the same mask.
    expected = leaked_pixels(stale)
    assert expected > 0
    verdict = checker.check(honest)
    assert verdict.profile.leaks.overview_pixels == expected
    assert verdict.profile.leaks.overview_levels == [f"a.tif.ovr: {expected} pixels"]
    assert verdict.verdict != Effect.allow
