"""Heights carried in the M ordinate count as heights.

The claim: "``has_z`` is true when the coordinates carry heights". An exporter who moves the
heights of 3-D linework from Z into M (a measure, which no reader forbids to hold metres
above sea level) had ``has_z`` false and passed the Korean 3-D coordinates rule. Truth here
is read back with pyogrio and shapely alone: the M values written are the heights.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from compliance import Checker, Effect

# CRS, place (lon, lat), the geometry's WKT form.
CASES = [
    ("EPSG:5186", (127.06, 37.52), "LINESTRING"),
    ("EPSG:32652", (129.05, 35.15), "POINT"),
    ("EPSG:4326", (127.38, 36.35), "POLYGON"),
]


def _shapes(crs: str, place: tuple[float, float], form: str, dims: str) -> list[str]:
    """WKT of 30 shapes 40 m apart on the ground, heights 30-175 m in ``dims`` (Z or M)."""
    to = Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0 = to.transform(*place)
    step = 40.0 if not CRS.from_user_input(crs).is_geographic else 40.0 / 111_000.0
    out = []
    for i in range(30):
        h = 30.0 + 5 * i
        pts = [(x0 + k * step, y0 + i * 1.5 * step, h) for k in range(4)]
        if form == "POINT":
            out.append(f"POINT {dims} ({pts[0][0]} {pts[0][1]} {h})")
        elif form == "LINESTRING":
            out.append(f"LINESTRING {dims} ({', '.join(f'{x} {y} {m}' for x, y, m in pts)})")
        else:
            ring = [*pts[:3], (pts[0][0], pts[0][1] + step, h), pts[0]]
            out.append(f"POLYGON {dims} (({', '.join(f'{x} {y} {m}' for x, y, m in ring)}))")
    return out


def _table(wkt: list[str]) -> pa.Table:
    wkb = shapely.to_wkb(shapely.from_wkt(wkt), flavor="iso")
    return pa.table({"name": [f"f{i}" for i in range(len(wkt))], "geometry": list(wkb)})


def _gpkg(path, table: pa.Table, crs: str):
    pyogrio.write_arrow(table, path, layer="data", driver="GPKG", geometry_name="geometry",
                        geometry_type="Unknown", crs=crs)  # fmt: skip
    return path


def _geoparquet(path, table: pa.Table, crs: str):
    column = {"encoding": "WKB", "geometry_types": [], "crs": CRS(crs).to_json_dict()}
    geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), path)
    return path


WRITERS = {".gpkg": _gpkg, ".parquet": _geoparquet}


@pytest.mark.parametrize("suffix", sorted(WRITERS))
@pytest.mark.parametrize(("crs", "place", "form"), CASES)
def test_heights_in_m_are_heights(tmp_path, crs, place, form, suffix):
    checker = Checker(packs=["kr"], zones=None)
    written = WRITERS[suffix](tmp_path / f"m{suffix}", _table(_shapes(crs, place, form, "M")), crs)
    if suffix == ".gpkg":  # the M values survive GDAL's writing: they are in the file
        meta, back = pyogrio.read_arrow(written)
        geoms = shapely.from_wkb(back.column(meta["geometry_name"] or "wkb_geometry").to_pylist())
        assert shapely.has_m(geoms).all() and not shapely.has_z(geoms).any()
        heights = shapely.get_coordinates(geoms, include_m=True)[:, 2]
        assert heights.min() == 30.0 and heights.max() == 175.0
    verdict = checker.check(written)
    assert verdict.profile.has_z is True
    # Control: the same heights in Z give the same facts and verdict.
    control = WRITERS[suffix](tmp_path / f"z{suffix}", _table(_shapes(crs, place, form, "Z")), crs)
    strict = checker.check(control)
    assert strict.profile.has_z is True
    assert verdict.verdict == strict.verdict
    assert {f.rule_id for f in verdict.findings} == {f.rule_id for f in strict.findings}


def test_flat_coordinates_are_not_heights(tmp_path):
    # The other control: no third ordinate at all.
    crs, place, _ = CASES[0]
    flat = [
        shapely.force_2d(g).wkt for g in shapely.from_wkt(_shapes(crs, place, "LINESTRING", "Z"))
    ]
    verdict = Checker(packs=["kr"], zones=None).check(
        _gpkg(tmp_path / "flat.gpkg", _table(flat), crs)
    )
    assert verdict.profile.has_z is False
    assert "KR-IMAGERY-COORDINATES-3D" not in {f.rule_id for f in verdict.findings}
    assert verdict.verdict != Effect.deny
