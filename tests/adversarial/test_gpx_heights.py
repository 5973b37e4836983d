"""Heights a GPX file carries in ``ele``, which GDAL reads as a field, not as Z.

The move: 3-D data has rules of its own (Korea: coordinates removed below 90 m; India:
denied finer than 3 m). Written as GeoJSON with a third coordinate, the points were 3-D;
written as GPX waypoints or track points with their heights in ``<ele>`` (GDAL makes a
field of it unless told ``ELE_AS_25D``), the same points were not, and those rules did
not fire: the exporter's choice of format decided it.

Claim under test: a GPX whose points carry ``ele`` is 3-D (``dataset.has_z``), with the
rules that follow, as the same points in GeoJSON with Z are, in three places; without
``ele`` it is not; and ``drop_contours`` drops the ``ele`` field, its derivative then
2-D.

Truth: positions drawn here and written as text; what GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from compliance import Checker, Effect

GPX_NS = 'xmlns="http://www.topografix.com/GPX/1/1"'
# place -> (lon, lat, pack, the rule 3-D data fires there, decimals: detail it fires at)
PLACES = {
    "seoul": (126.978, 37.566, "kr", "KR-IMAGERY-COORDINATES-3D", 4),  # about 10 m: < 90 m
    "busan": (129.075, 35.180, "kr", "KR-IMAGERY-COORDINATES-3D", 4),
    "delhi": (77.209, 28.614, "in", "IN-VERTICAL-3M", 5),  # about 1 m: < 3 m
}
N = 30


def _points(place: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(51)
    lon, lat = PLACES[place][:2]
    xy = np.column_stack([lon + rng.uniform(0, 0.02, N), lat + rng.uniform(0, 0.02, N)])
    return np.round(xy, PLACES[place][4]), np.round(120 + rng.uniform(0, 30, N), 2)


def _gpx(path: Path, place: str, heights: bool, track: bool = False) -> Path:
    xy, z = _points(place)
    tag = "trkpt" if track else "wpt"
    points = "".join(
        f'<{tag} lat="{y}" lon="{x}">' + (f"<ele>{h:.2f}</ele>" if heights else "")
        + f"</{tag}>\n"
        for (x, y), h in zip(xy.tolist(), z, strict=True)
    )  # fmt: skip
    if track:
        points = f"<trk><name>t</name><trkseg>\n{points}</trkseg></trk>\n"
    path.write_text(f'<?xml version="1.0"?>\n<gpx version="1.1" creator="t" {GPX_NS}>\n'
                    f"{points}</gpx>\n")  # fmt: skip
    layer = "track_points" if track else "waypoints"
    frame = pyogrio.read_dataframe(path, layer=layer)
    assert not frame.geometry.has_z.any()  # GDAL: 2-D points, heights in a field
    assert frame["ele"].notna().all() == heights
    return path


def _geojson(path: Path, place: str) -> Path:
    xy, z = _points(place)
    features = [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Point", "coordinates": [x, y, h]}}
        for (x, y), h in zip(xy.tolist(), z.tolist(), strict=True)
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize("track", [False, True], ids=["waypoints", "track points"])
@pytest.mark.parametrize("place", PLACES)
def test_heights_in_ele_make_a_gpx_three_dimensional(tmp_path, place, track):
    checker = Checker(packs=[PLACES[place][2]])
    gpx = checker.check(_gpx(tmp_path / "p.gpx", place, heights=True, track=track))
    same = checker.check(_geojson(tmp_path / "p.geojson", place))
    assert gpx.profile.has_z and same.profile.has_z
    assert PLACES[place][3] in {f.rule_id for f in gpx.findings}
    assert {f.rule_id for f in gpx.findings} == {f.rule_id for f in same.findings}
    assert gpx.verdict == same.verdict


@pytest.mark.parametrize("place", PLACES)
def test_a_gpx_without_heights_stays_two_dimensional(tmp_path, place):
    verdict = Checker(packs=[PLACES[place][2]]).check(_gpx(tmp_path / "p.gpx", place, False))
    assert not verdict.profile.has_z
    assert PLACES[place][3] not in {f.rule_id for f in verdict.findings}


HEIGHTS_PACK = """\
pack: heights-test
version: "1"
title: Heights are left out
jurisdiction: XX
rules:
  - id: T-HEIGHTS
    title: Heights
    when: dataset.has_z
    effect: allow_with_conditions
    conditions: [drop_contours]
    reference: test fixture
"""


def test_drop_contours_drops_a_gpx_s_heights(tmp_path):
    pack = tmp_path / "heights.yaml"
    pack.write_text(HEIGHTS_PACK)
    checker = Checker(packs=[str(pack)])
    source = _gpx(tmp_path / "p.gpx", "busan", heights=True)
    report = checker.remediate(source, tmp_path / "out.gpkg")
    (action,) = report.actions
    assert action.condition == "drop_contours" and action.status == "applied"
    assert "waypoints.ele" in action.changes.fields_dropped
    assert "ele" not in pyogrio.read_info(tmp_path / "out.gpkg", layer="waypoints")["fields"]
    assert report.verdict.verdict == Effect.allow and not report.verdict.profile.has_z
