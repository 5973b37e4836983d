"""mask_zones on vectors: no feature meets the buffered zone afterwards, features away from
it are written byte for byte, the re-check no longer asks for the mask; the input is untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from compliance import Checker
from compliance.verdict import Effect
from tests.remediate.conftest import (
    Written,
    buffered_zone_local,
    read_layer,
    shapes_lonlat,
    to_local,
    write_gpkg,
    write_zipped_shapefile,
)

# Every geometry type, each CRS more than once, several strides (grid spacing in degrees).
CASES = [
    ("Point", 5186, 0.0021),
    ("LineString", 32652, 0.0027),
    ("Polygon", 4326, 0.0023),
    ("MultiPoint", 3857, 0.0025),
    ("MultiLineString", 5186, 0.0031),
    ("MultiPolygon", 32652, 0.0019),
    ("Polygon", 3857, 0.0033),
    ("LineString", 4326, 0.0017),
]
# A feature this far from the buffered zone lies outside every grid cell that meets it
# (1 km cells: at most 1.42 km across) and must come out unchanged.
FAR_M = 1_500.0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_masked(written: Written, out: Path, layer: str, dropped_only: bool = False) -> None:
    """Checked with pyogrio, pyproj and shapely alone."""
    zone = buffered_zone_local()
    _, epsg = written.layers[layer]
    source = written.path if written.path.suffix != ".zip" else f"/vsizip/{written.path}"
    original, original_wkb, _ = read_layer(source, layer)  # type: ignore[arg-type]
    derived, derived_wkb, _ = read_layer(out, layer)
    local = to_local(derived, epsg)
    assert not shapely.intersects(zone, local).any(), "a feature still meets the buffered zone"
    far = shapely.distance(zone, to_local(original, epsg)) > FAR_M
    assert far.any() and (~far).any()
    kept = set(derived_wkb)
    assert all(w in kept for w, f in zip(original_wkb, far, strict=True) if f)
    if dropped_only:
        assert kept <= set(original_wkb)
    met = shapely.intersects(zone, to_local(original, epsg))
    assert met.any()
    assert not any(w in kept for w, m in zip(original_wkb, met, strict=True) if m)


@pytest.mark.parametrize(("kind", "epsg", "stride"), CASES)
def test_cut_leaves_nothing_at_the_zone(
    tmp_path: Path, mask_checker: Checker, kind: str, epsg: int, stride: float
) -> None:
    written = write_gpkg(tmp_path / "in.gpkg", {"features": (shapes_lonlat(kind, stride), epsg)})
    before = digest(written.path)
    report = mask_checker.remediate(written.path, tmp_path / "out.gpkg")
    assert report.original.verdict == Effect.deny and "mask_zones" in report.original.conditions
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.status == "applied"
    assert (mask.changes.features_cut or 0) + (mask.changes.features_dropped or 0) > 0
    if kind == "Point":
        assert mask.changes.features_cut == 0  # a point is in or out: never cut
    assert_masked(written, tmp_path / "out.gpkg", "features")
    assert report.verdict.zones.count == 0
    assert "mask_zones" not in report.verdict.conditions
    assert report.verdict.verdict == Effect.allow
    assert digest(written.path) == before
    assert report.output.sha256 == digest(tmp_path / "out.gpkg")


@pytest.mark.parametrize(
    ("kind", "epsg"), [("Polygon", 5186), ("LineString", 4326), ("MultiPoint", 3857)]
)
def test_drop_removes_whole_features(
    tmp_path: Path, mask_checker: Checker, kind: str, epsg: int
) -> None:
    written = write_gpkg(tmp_path / "in.gpkg", {"features": (shapes_lonlat(kind, 0.0024), epsg)})
    report = mask_checker.remediate(written.path, tmp_path / "out.gpkg", mask_mode="drop")
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.changes.features_cut == 0 and (mask.changes.features_dropped or 0) > 0
    assert_masked(written, tmp_path / "out.gpkg", "features", dropped_only=True)
    assert "mask_zones" not in report.verdict.conditions


def test_every_layer_of_a_geopackage_is_carried(tmp_path: Path, mask_checker: Checker) -> None:
    path = tmp_path / "in.gpkg"
    written = write_gpkg(
        path,
        {
            "buildings": (shapes_lonlat("Polygon", 0.0022), 5186),
            "roads": (shapes_lonlat("LineString", 0.0029), 4326),
            "wells": (shapes_lonlat("Point", 0.0026), 32652),
        },
    )
    pyogrio.write_dataframe(pd.DataFrame({"code": ["a", "b"]}), path, layer="lookup", driver="GPKG")
    report = mask_checker.remediate(path, tmp_path / "out.gpkg")
    out = tmp_path / "out.gpkg"
    names = sorted(str(n) for n, _ in pyogrio.list_layers(out))
    assert names == ["buildings", "lookup", "roads", "wells"]
    for layer in ("buildings", "roads", "wells"):
        assert_masked(written, out, layer)
    assert pyogrio.read_dataframe(out, layer="lookup")["code"].tolist() == ["a", "b"]
    assert report.verdict.zones.count == 0


def test_a_zipped_shapefile_becomes_a_masked_geopackage(
    tmp_path: Path, mask_checker: Checker
) -> None:
    written = write_zipped_shapefile(tmp_path, shapes_lonlat("LineString", 0.0023), 5186)
    before = digest(written.path)
    report = mask_checker.remediate(written.path, tmp_path / "roads.gpkg")
    assert_masked(written, tmp_path / "roads.gpkg", "roads")
    assert report.verdict.zones.count == 0 and digest(written.path) == before


def test_control_data_away_from_the_zone_is_copied_unchanged(
    tmp_path: Path, mask_checker: Checker
) -> None:
    far = [shapely.affinity.translate(g, 0.2, 0.2) for g in shapes_lonlat("Polygon", 0.003)]
    written = write_gpkg(tmp_path / "in.gpkg", {"features": (far, 5186)})
    report = mask_checker.remediate(written.path, tmp_path / "out.gpkg")
    assert report.original.verdict == Effect.allow and report.actions == []
    _, original_wkb, attrs = read_layer(written.path, "features")
    _, derived_wkb, derived_attrs = read_layer(tmp_path / "out.gpkg", "features")
    assert derived_wkb == original_wkb and derived_attrs == attrs
    assert report.verdict.verdict == Effect.allow


def test_the_gap_does_not_trace_the_zone(tmp_path: Path, mask_checker: Checker) -> None:
    """Cut polygons end on the coarse grid, far outside the buffer, not along its outline."""
    written = write_gpkg(
        tmp_path / "in.gpkg", {"features": (shapes_lonlat("Polygon", 0.0011), 5186)}
    )
    mask_checker.remediate(written.path, tmp_path / "out.gpkg")
    derived, _, _ = read_layer(tmp_path / "out.gpkg", "features")
    gaps = shapely.distance(buffered_zone_local(), to_local(derived, 5186))
    # Every feature left keeps a clear margin from the buffered zone: the mask is wider.
    assert np.min(gaps) > 2.0


@pytest.mark.parametrize(("epsg", "mode"), [(5186, "cut"), (4326, "drop"), (32652, "cut")])
def test_holes_drawn_outside_their_shell_are_masked(
    tmp_path: Path, mask_checker: Checker, epsg: int, mode: str
) -> None:
    # Squares inside the zone carried as holes of a shell 3 km east of it: GEOS's own
    # intersects of the polygon with the zone is False, yet the squares are in the file.
    squares = [shapely.box(127.002 + i * 0.001, 37.503, 127.0025 + i * 0.001, 37.5035)
               for i in range(4)]  # fmt: skip
    shell = shapely.box(127.045, 37.503, 127.047, 37.505)
    trick = shapely.Polygon(shell.exterior, [s.exterior for s in squares])
    zone = buffered_zone_local()
    assert not shapely.intersects(zone, to_local(np.array([trick]), 4326)[0])
    assert shapely.intersects(zone, to_local(np.array(squares), 4326)).all()
    written = write_gpkg(tmp_path / "in.gpkg", {"features": ([trick], epsg)})
    report = mask_checker.remediate(written.path, tmp_path / "out.gpkg", mask_mode=mode)
    assert report.original.verdict == Effect.deny and report.original.zones.count == 1
    (mask,) = [a for a in report.actions if a.condition == "mask_zones"]
    assert mask.status == "applied"
    derived, _, _ = read_layer(tmp_path / "out.gpkg", "features")
    # Every coordinate left, as drawn, is away from the zone (shapely alone).
    left = shapely.points(shapely.get_coordinates(to_local(derived, epsg)))
    assert not shapely.intersects(zone, left).any()
    if mode == "drop":  # the one feature goes whole: nothing is left to place
        assert len(derived) == 0 and mask.changes.features_dropped == 1
    else:
        assert mask.changes.features_cut == 1 and report.verdict.zones.count == 0
