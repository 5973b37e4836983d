"""GeoParquet's native (GeoArrow) encodings are read like WKB.

GeoParquet 1.1 lets geometry columns hold coordinates as nested lists ("point",
"polygon", ...); geopandas writes them with ``geometry_encoding="geoarrow"``. Such a file
used to be refused as unsupported. Each geometry kind is written both ways, in a projected
CRS and in lon/lat, and must give the same facts and the same zone hits, which are also
checked against the numbers known from how the data was made.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pytest
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, box

from compliance import Checker

# In the demo military zone north of Seoul, and far from every zone (lon/lat).
INSIDE = (127.025, 37.465)
FAR = (126.5, 36.5)


def _kinds() -> dict[str, list]:
    (ix, iy), (fx, fy) = INSIDE, FAR
    return {
        "point": [Point(ix, iy), Point(fx, fy), None],
        "linestring": [LineString([(ix, iy), (ix + 0.001, iy)]), LineString([(fx, fy), (fx, fy + 0.01)])],
        "polygon": [box(ix, iy, ix + 0.001, iy + 0.001), box(fx, fy, fx + 0.01, fy + 0.01)],
        "multipoint": [MultiPoint([(ix, iy), (fx, fy)]), MultiPoint([(fx, fy)])],
        "multilinestring": [
            MultiLineString([[(fx, fy), (fx + 0.01, fy)], [(ix, iy), (ix, iy + 0.001)]]),
            MultiLineString([[(fx, fy), (fx, fy + 0.01)]]),
        ],
        "multipolygon": [
            MultiPolygon([box(fx, fy, fx + 0.01, fy + 0.01), box(ix, iy, ix + 0.001, iy + 0.001)]),
            MultiPolygon([box(fx, fy, fx + 0.02, fy + 0.02)]),
        ],
    }  # fmt: skip


def _write(folder: Path, kind: str, crs: int, encoding: str) -> Path:
    frame = gpd.GeoDataFrame({"n": range(len(_kinds()[kind]))}, geometry=_kinds()[kind], crs=4326)
    (folder / encoding).mkdir(exist_ok=True)
    path = folder / encoding / f"{kind}_{crs}.parquet"  # one name: layers are named by it
    frame.to_crs(crs).to_parquet(path, geometry_encoding=encoding)
    return path


@pytest.mark.parametrize("crs", [4326, 5186])
@pytest.mark.parametrize("kind", sorted(_kinds()))
def test_a_native_column_gives_what_the_same_data_in_wkb_gives(
    checker: Checker, tmp_path: Path, kind: str, crs: int
) -> None:
    native = _write(tmp_path, kind, crs, "geoarrow")
    declared = json.loads(pq.read_schema(native).metadata[b"geo"])["columns"]["geometry"]
    assert declared["encoding"] == kind  # the file really is natively encoded
    read = checker.check(native)
    wkb = checker.check(_write(tmp_path, kind, crs, "WKB"))
    facts = read.profile.model_dump(exclude={"resolution_method", "methods"})
    assert facts == wkb.profile.model_dump(exclude={"resolution_method", "methods"})
    assert read.zones.model_dump() == wkb.zones.model_dump()
    # What is known from how the data was made: one feature of each file lies in the one
    # demo military zone there, the others far from every zone; the box of all of them
    # reaches from the far corner to inside the zone. In lon/lat that box is exact; from
    # the Korean grid it is the grid box carried back, which holds it (its west edge bends
    # out by the grid's convergence, under 0.01 degrees over this span).
    assert read.profile.feature_count == len(_kinds()[kind])
    assert read.zones.count == 1 and read.zones.by_class["military"].features == 1
    west, south, east, north = read.profile.bounds_wgs84
    slack = 1e-9 if crs == 4326 else 0.01
    assert FAR[0] - slack <= west <= FAR[0] + 1e-9 and FAR[1] - slack <= south <= FAR[1] + 1e-9
    assert east >= INSIDE[0] and north >= INSIDE[1]
    assert read.verdict == wkb.verdict != "allow"
