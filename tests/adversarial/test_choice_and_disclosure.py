"""A caller's pack choice and a submitter's view of a verdict, against the party they gate.

Three holes a review found: a byte-for-byte copy of the Korean pack beside another
territory file was taken for the built-in pack (its rules' hash matched), so Korean data
was judged against a square in the South Atlantic and allowed with no finding; the count
of invalid geometries counted the features decoded because they came near a zone, one bit
per feature for a submitter; and a submitter's verdict kept the check's duration to the
millisecond, which the service withholds as a header for the same reason.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect
from compliance.disclosure import undisclosed_verdict
from tests.builders import REPO, SAMPLES
from tests.measure.leak_files import zone_file, zone_pack


@pytest.mark.parametrize("square", [(-20.0, -40.0), (170.0, 60.0), (127.5, -30.0)])
def test_a_copy_of_a_built_in_pack_beside_another_territory_is_another_pack(tmp_path, square):
    folder = tmp_path / "mine"
    (folder / "territories").mkdir(parents=True)
    shutil.copyfile(REPO / "rules" / "kr.yaml", folder / "kr.yaml")
    lon, lat = square
    far = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
           "geometry": shapely.geometry.mapping(shapely.box(lon, lat, lon + 0.1, lat + 0.1))}]}  # fmt: skip
    (folder / "territories" / "kr.geojson").write_text(json.dumps(far))
    data = SAMPLES / "kr_5k_buildings.gpkg"
    verdict = Checker(packs=[folder / "kr.yaml"]).check(data)
    assert "MAPGATE-PACK-NOT-APPLIED" in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.allow
    # Control: a copy beside the built-in territory's own bytes is the built-in pack.
    twin = tmp_path / "twin"
    (twin / "territories").mkdir(parents=True)
    shutil.copyfile(REPO / "rules" / "kr.yaml", twin / "kr.yaml")
    shutil.copyfile(REPO / "rules" / "territories" / "kr.geojson",
                    twin / "territories" / "kr.geojson")  # fmt: skip
    same = Checker(packs=[twin / "kr.yaml"]).check(data)
    assert "MAPGATE-PACK-NOT-APPLIED" not in {f.rule_id for f in same.findings}
    assert same.verdict == Checker().check(data).verdict


def _bowties(centre: tuple[float, float], epsg: int) -> np.ndarray:
    """Self-intersecting 10 m squares (bowties) around ``centre`` (lon, lat)."""
    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(*centre)
    return np.array(
        [
            shapely.Polygon([(x, y0), (x + 10, y0 + 10), (x + 10, y0), (x, y0 + 10), (x, y0)])
            for x in x0 + np.arange(6) * 400.0
        ]  # fmt: skip
    )


@pytest.mark.parametrize("epsg", [5186, 32652, 4326])
def test_the_invalid_count_does_not_say_which_features_came_near_a_zone(tmp_path, epsg):
    lon, lat = 127.03, 37.50
    zone = shapely.box(lon + 0.002, lat - 0.001, lon + 0.006, lat + 0.001)
    checker = Checker(packs=[zone_pack(tmp_path)], zones=zone_file(tmp_path, zone))
    counts = []
    for name, centre in (("near", (lon, lat)), ("far", (lon + 0.5, lat + 0.5))):
        path = tmp_path / f"{name}.gpkg"
        pyogrio.write_dataframe(_frame(_bowties(centre, epsg), epsg), path)
        view = undisclosed_verdict(checker.check(path).model_dump(mode="json"))
        counts.append(view["profile"]["invalid_geometries"])
    assert counts[0] == counts[1]


def _frame(geoms: np.ndarray, epsg: int):
    import geopandas as gpd

    return gpd.GeoDataFrame({"id": range(len(geoms))}, geometry=list(geoms), crs=epsg)


@pytest.mark.parametrize("ms", [26.3, 499.9, 1_499.0, 31.6])
def test_a_submitters_verdict_gives_the_duration_in_whole_seconds(ms):
    view = undisclosed_verdict({"zones": {}, "findings": [], "duration_ms": ms})
    assert view["duration_ms"] == round(ms, -3) and view["duration_ms"] % 1000 == 0
