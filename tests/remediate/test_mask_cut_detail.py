"""mask_zones must not leave the derivative finer than the data it cut.

Found: where a line crosses the coarse mask's edge, the cut made a vertex of its own, as
near the line's next vertex as it happened to fall. Lines drawn a vertex every 20 m came
out with segments of a metre or less, and the re-check read the derivative as that fine:
a scale rule the original passed now held it (and in India, finer than 1 m, it would be
denied). Closing the loop means the derivative passes the rules its source passed.

Claim under test: every vertex of a cut line is a vertex its source line drew (exactly, in
the file's CRS), so no segment is shorter than the source's shortest; a cut polygon has no
edge shorter than its source's, and covers nothing its source did not; nothing meets the
buffered zone; the derivative is allowed where the original was denied only for the zone,
in three CRSs.

Truth: lines and strips drawn here with pyproj's geodesic, a vertex every 20 m on the
ground; the derivative read back with pyogrio, segments measured with pyproj's Geod, areas
with shapely.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Geod

from compliance import Checker, Effect
from tests.remediate.conftest import (
    MASK_PACK,
    buffered_zone_local,
    from_lonlat,
    read_layer,
    to_local,
    write_pack,
)

FINE_RULE = """\
  - id: T-FINE
    title: Data finer than 12.5 m is held
    when: dataset.resolution_m < 12.5
    effect: review
    reference: test fixture
"""
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory, zones_file: Path) -> Checker:
    pack = write_pack(tmp_path_factory.mktemp("pack"), MASK_PACK + FINE_RULE)
    return Checker(packs=[pack], zones=zones_file)


def _lines_lonlat() -> list[shapely.Geometry]:
    """30 lines west to east across the zone and far past it, a vertex every 20 m, each
    wavering north and south so that no two segments are alike."""
    rng = np.random.default_rng(8)
    lines = []
    for i in range(30):
        lat = 37.490 + 0.001 * i
        n = 150
        lon, lat2, _ = GEOD.fwd(np.full(n, 126.985), np.full(n, lat), np.full(n, 90.0),
                                20.0 * np.arange(n))  # fmt: skip
        lines.append(shapely.LineString(np.column_stack([lon, lat2 + rng.uniform(-2e-5, 2e-5, n)])))
    return lines


def _strips_lonlat() -> list[shapely.Geometry]:
    """The lines as the south edges of 40 m strips (their north edges as drawn back)."""
    strips = []
    for line in _lines_lonlat():
        xy = np.asarray(line.coords)
        north = xy[::-1] + [0.0, 40.0 / 111_000]
        strips.append(shapely.Polygon(np.vstack([xy, north])))
    return strips


def _shortest_m(geoms: np.ndarray, epsg: int) -> float:
    """The shortest segment of any line or ring, on the ellipsoid."""
    lonlat = to_lonlat(geoms, epsg)
    rings = shapely.get_rings(shapely.get_parts(lonlat))
    xy, line = shapely.get_coordinates(rings if rings.size else lonlat, return_index=True)
    same = line[1:] == line[:-1]
    _, _, d = GEOD.inv(xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same])
    return float(np.min(d))


def to_lonlat(geoms: np.ndarray, epsg: int) -> np.ndarray:
    from pyproj import Transformer

    t = Transformer.from_crs(epsg, 4326, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _remediated(tmp_path: Path, checker: Checker, geoms: np.ndarray, kind: str, epsg: int):
    source = tmp_path / "in.gpkg"
    pyogrio.write_arrow(
        pa.table({"geometry": shapely.to_wkb(geoms)}), source, layer="roads", driver="GPKG",
        geometry_name="geometry", geometry_type=kind, crs=f"EPSG:{epsg}",
    )  # fmt: skip
    return checker.remediate(source, tmp_path / "out.gpkg")


@pytest.mark.parametrize("epsg", [5186, 4326, 32652])
def test_cut_lines_end_at_their_own_vertices(tmp_path: Path, checker: Checker, epsg: int) -> None:
    geoms = from_lonlat(_lines_lonlat(), epsg)
    report = _remediated(tmp_path, checker, geoms, "LineString", epsg)
    assert sorted(f.rule_id for f in report.original.findings) == ["T-ATTRIBUTES", "T-ZONES"]
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.status == "applied" and (mask.changes.features_cut or 0) > 0
    derived, _, _ = read_layer(tmp_path / "out.gpkg", "roads")
    assert not shapely.intersects(buffered_zone_local(), to_local(derived, epsg)).any()
    own = {tuple(p) for p in shapely.get_coordinates(geoms).tolist()}
    made = [p for p in shapely.get_coordinates(derived).tolist() if tuple(p) not in own]
    assert made == []
    assert _shortest_m(derived, epsg) >= _shortest_m(geoms, epsg) * (1 - 1e-9)
    assert report.verdict.verdict == Effect.allow, [f.rule_id for f in report.verdict.findings]


@pytest.mark.parametrize("epsg", [5186, 4326, 32652])
def test_cut_polygons_keep_no_edge_finer_than_their_source(
    tmp_path: Path, checker: Checker, epsg: int
) -> None:
    geoms = from_lonlat(_strips_lonlat(), epsg)
    assert shapely.is_valid(geoms).all()
    report = _remediated(tmp_path, checker, geoms, "Polygon", epsg)
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.status == "applied" and (mask.changes.features_cut or 0) > 0
    derived, _, _ = read_layer(tmp_path / "out.gpkg", "roads")
    assert not shapely.intersects(buffered_zone_local(), to_local(derived, epsg)).any()
    # Nothing the source did not cover (round-off aside).
    outside = shapely.area(shapely.difference(shapely.union_all(derived), shapely.union_all(geoms)))
    assert outside <= 1e-9 * shapely.area(shapely.union_all(geoms))
    # The CRS's scale varies by less than a part in a thousand across these few kilometres.
    assert _shortest_m(derived, epsg) >= _shortest_m(geoms, epsg) * (1 - 1e-3)
    assert report.verdict.verdict == Effect.allow, [f.rule_id for f in report.verdict.findings]
