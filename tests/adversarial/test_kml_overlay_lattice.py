"""Shape the draped image: oblong pixels, a trapezoid, a sheared quad over Tel Aviv.

Claim: an image a KML drapes over the ground counts with its finest pixel spacing. It was
measured as the mean of opposite edges over the pixel counts, pairing edges with the
image's width and height the way that gave the squarer pixels: oblong pixels (0.2 x 10 m)
read as 1 m, a trapezoid whose top edge is 50 times shorter than its bottom read as the
mean, and a flat sheared quad read by its sides (0.94 m) while neighbouring pixel
centres are 0.30 m apart. Each got `allow` under the 0.4 m Kyl-Bingaman limit. Truth:
pixel centres spread bilinearly over the corners (a LatLonBox is the rectangular case),
their distances to neighbours computed with pyproj.Geod.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

from compliance import Checker, Effect

M_LON = 1 / 94_370.0  # degrees of longitude per metre at 32.08°N, near enough to draw
M_LAT = 1 / 110_900.0


def _quad(ll: tuple[float, float], east_m: tuple[float, float], up_m: tuple[float, float]):
    """Corners LL, LR, UR, UL of a parallelogram from its lower-left corner and edge vectors."""
    lon, lat = ll
    lr = (lon + east_m[0] * M_LON, lat + east_m[1] * M_LAT)
    ul = (lon + up_m[0] * M_LON, lat + up_m[1] * M_LAT)
    ur = (lr[0] + ul[0] - lon, lr[1] + ul[1] - lat)
    return [ll, lr, ur, ul]


CASES = {
    # (corners LL, LR, UR, UL; LatLonBox?; image width, height)
    "oblong_pixels": (_quad((34.770, 32.070), (400.0, 0.0), (0.0, 4000.0)), True, 2000, 400),
    "trapezoid": (
        [(34.770, 32.070), (34.790, 32.070), (34.7802, 32.090), (34.7798, 32.090)],
        False,
        2000,
        2000,
    ),
    "sheared": (_quad((34.770, 32.070), (944.0, 0.0), (-900.0, 300.0)), False, 1000, 1000),
}


def _kml(corners, box: bool) -> str:
    if box:
        (w, s), _, (e, n), _ = corners
        place = f"<LatLonBox><north>{n}</north><south>{s}</south><east>{e}</east><west>{w}</west></LatLonBox>"
    else:
        coords = " ".join(f"{x},{y}" for x, y in corners)
        place = f"<gx:LatLonQuad><coordinates>{coords}</coordinates></gx:LatLonQuad>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><GroundOverlay><name>ortho</name><Icon><href>ortho.png</href></Icon>
{place}</GroundOverlay></Document></kml>
"""


def _truth_m(corners, width: int, height: int) -> float:
    """Shortest distance between neighbouring pixel centres (the four lattice directions),
    at every pixel of a coarse grid of rows and columns, with pyproj.Geod."""
    from pyproj import Geod

    ll, lr, ur, ul = (np.array(c) for c in corners)
    top_left, top_right, bottom_right, bottom_left = ul, ur, lr, ll

    def at(c, r):
        s, t = (c + 0.5) / width, (r + 0.5) / height
        return (
            (1 - s) * (1 - t) * top_left
            + s * (1 - t) * top_right
            + s * t * bottom_right
            + (1 - s) * t * bottom_left
        )

    geod, best = Geod(ellps="WGS84"), np.inf
    for c in np.linspace(1, width - 2, 9).astype(int):
        for r in np.linspace(1, height - 2, 9).astype(int):
            p = at(c, r)
            for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
                q = at(c + dc, r + dr)
                best = min(best, geod.inv(p[0], p[1], q[0], q[1])[2])
    return best


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_draped_image_counts_with_its_finest_pixel_spacing(tmp_path: Path, case: str):
    corners, box, width, height = CASES[case]
    png = tmp_path / "ortho.png"
    with rasterio.open(
        png, "w", driver="PNG", width=width, height=height, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, height, width), dtype=np.uint8))
    kmz = tmp_path / "overlay.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", _kml(corners, box))
        z.write(png, "ortho.png")
    truth = _truth_m(corners, width, height)
    assert truth < 0.4  # finer than the Kyl-Bingaman limit
    verdict = Checker(packs=["us-kba"]).check(kmz)
    (overlay,) = verdict.profile.image_overlays
    # The measure is at least as fine as the truth sampled on a 9 x 9 grid of pixels (it
    # also reaches the edges), and not much finer.
    assert truth * 0.9 <= overlay.resolution_m <= truth * 1.01
    assert verdict.verdict != Effect.allow


def test_control_square_pixels_in_a_box_measure_as_their_side(tmp_path: Path):
    corners = _quad((34.770, 32.070), (1000.0, 0.0), (0.0, 1000.0))
    png = tmp_path / "ortho.png"
    with rasterio.open(
        png, "w", driver="PNG", width=1000, height=1000, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, 1000, 1000), dtype=np.uint8))
    kmz = tmp_path / "overlay.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", _kml(corners, True))
        z.write(png, "ortho.png")
    verdict = Checker(packs=["us-kba"]).check(kmz)
    (overlay,) = verdict.profile.image_overlays
    assert overlay.resolution_m == pytest.approx(_truth_m(corners, 1000, 1000), rel=0.01)
    assert verdict.verdict == Effect.allow  # about 1 m pixels: under no limit of this pack
