"""GML: precise envelopes in each feature's ``gml:boundedBy`` beside coarse geometries.

The move: write features snapped to about 100 m through GDAL, then give each feature
the envelope a WFS server writes beside it (GML 3's ``gml:Envelope`` with its corners,
or GML 2's ``gml:Box`` with ``gml:coordinates``), set to the precise box of the feature
before it was snapped. GDAL reads the geometries and passes over the envelopes.

Claim under test: the file is held for review (``MAPGATE-UNREAD-GEOMETRIES``), the
features counted; so is an envelope in another CRS than its geometry, or on a feature
without one. Envelopes that are each feature's own box (points and polygons, GML 3 in
latitude, longitude order, GML 2 in x, y), and envelopes of no numbers (``gml:Null``),
are not.

Truth: the positions are drawn here at random; the boxes are shapely's, written in the
axis order of the file's own coordinates; what GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from tests.adversarial.test_gpkg_unlisted_tables import _positions

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
SRS = "urn:ogc:def:crs:EPSG::4326"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _features(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Coarse geometries (points or small squares, lon/lat) and the precise ones."""
    _, lonlat = _positions()
    precise = shapely.points(lonlat)
    coarse = shapely.points(np.round(lonlat, 3))
    if kind == "polygons":
        precise, coarse = (
            shapely.buffer(precise, 3e-4, quad_segs=1),
            shapely.buffer(coarse, 3e-4, quad_segs=1),
        )
    return coarse, precise


def _envelope(box: np.ndarray, gml2: bool, srs: str = SRS) -> str:
    x0, y0, x1, y1 = (repr(float(v)) for v in box)
    if gml2:  # x, y order, as GML 2's coordinates are written
        return (f'<gml:boundedBy><gml:Box srsName="EPSG:4326"><gml:coordinates>{x0},{y0} '
                f"{x1},{y1}</gml:coordinates></gml:Box></gml:boundedBy>")  # fmt: skip
    return (f'<gml:boundedBy><gml:Envelope srsName="{srs}"><gml:lowerCorner>{y0} {x0}'
            f"</gml:lowerCorner><gml:upperCorner>{y1} {x1}</gml:upperCorner></gml:Envelope>"
            "</gml:boundedBy>")  # fmt: skip


def _write(path: Path, coarse: np.ndarray, envelopes: list[str], gml2: bool) -> Path:
    """The coarse features through GDAL, each given ``envelopes[i]`` as its first child, in
    place of the one GDAL writes (GML 3) or where GML 2 has none."""
    frame = gpd.GeoDataFrame({"n": range(len(coarse))}, geometry=coarse, crs=4326)
    frame.to_file(path, driver="GML", FORMAT="GML2" if gml2 else "GML3.2")
    text = path.read_text()
    features = iter(envelopes)
    text = re.sub(r'(<ogr:\w+ (?:gml:)?(?:fid|id)="[^"]*">)(\s*<gml:boundedBy>.*?</gml:boundedBy>)?',
                  lambda m: m.group(1) + next(features), text)  # fmt: skip
    path.write_text(text)
    assert len(pyogrio.read_dataframe(path)) == len(coarse)  # GDAL reads every feature
    return path


@pytest.mark.parametrize("gml2", [False, True], ids=["gml3", "gml2"])
@pytest.mark.parametrize("kind", ["points", "polygons"])
def test_precise_envelopes_beside_coarse_features_hold_the_file(tmp_path, checker, kind, gml2):
    coarse, precise = _features(kind)
    envelopes = [_envelope(b, gml2) for b in shapely.bounds(precise)]
    path = _write(tmp_path / "f.gml", coarse, envelopes, gml2)
    read = pyogrio.read_dataframe(path).geometry
    assert np.allclose(shapely.bounds(read.values), shapely.bounds(coarse))  # GDAL: coarse
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert (
        f"{len(coarse)} features whose own envelope (gml:boundedBy) is not the box of their "
        "geometries"
    ) in verdict.profile.unread_geometries


@pytest.mark.parametrize("gml2", [False, True], ids=["gml3", "gml2"])
@pytest.mark.parametrize("kind", ["points", "polygons"])
def test_envelopes_that_are_each_feature_s_box_are_clean(tmp_path, checker, kind, gml2):
    coarse, _ = _features(kind)
    envelopes = [_envelope(b, gml2) for b in shapely.bounds(coarse)]
    verdict = checker.check(_write(tmp_path / "f.gml", coarse, envelopes, gml2))
    assert verdict.verdict == Effect.allow, verdict.profile.unread_geometries
    assert verdict.profile.unread_geometries == []


def test_an_envelope_in_another_crs_or_without_a_geometry_holds_the_file(tmp_path, checker):
    coarse, _ = _features("points")
    boxes = shapely.bounds(coarse)
    envelopes = [_envelope(b, False) for b in boxes]
    envelopes[0] = _envelope(boxes[0], False, srs="urn:ogc:def:crs:EPSG::5186")
    path = _write(tmp_path / "f.gml", coarse, envelopes, False)
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert (
        "1 features whose own envelope (gml:boundedBy) is not the box of their geometries"
    ) in verdict.profile.unread_geometries


def test_envelopes_of_no_numbers_are_clean(tmp_path, checker):
    coarse, _ = _features("points")
    envelopes = ["<gml:boundedBy><gml:Null>unknown</gml:Null></gml:boundedBy>"] * len(coarse)
    verdict = checker.check(_write(tmp_path / "f.gml", coarse, envelopes, False))
    assert verdict.verdict == Effect.allow, verdict.profile.unread_geometries
