"""Contours the KR pack's rule missed: named by their layer, or in Korean.

The move: Korea's 2026 approval leaves contours out (``KR-CONTOURS``, condition
``drop_contours``). The rule went by field names in English alone, while the condition
drops layers and fields by name: a layer ``contours`` whose elevation field is called
``v``, a layer ``등고선`` (contour lines), or a field ``등고수치`` (contour value) or
``표고`` (elevation), as Korean data names them, came out ``allow``.

Claim under test: each such file is ``allow_with_conditions`` with ``KR-CONTOURS`` (and
``KR-IMAGERY-COORDINATES-3D``: a layer or field named as heights makes them 3-D), and
its remediation drops exactly that layer or field, the derivative then allowed; lines
whose names say nothing of heights stay ``allow`` (no value test: a road's speed limits
are multiples of ten as well).

Truth: the lines are drawn here on a 20 m grid (1:40,000 by the pack's factor), written
and read back with pyogrio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect

CASES = {
    "layer contours, field v": ("contours", "v", "layers"),
    "layer 등고선, field v": ("등고선", "v", "layers"),
    "layer lines, field 등고수치": ("lines", "등고수치", "fields"),
    "layer lines, field 표고": ("lines", "표고", "fields"),
    "layer elevation_lines, field v": ("elevation_lines", "v", "layers"),
}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _lines(path: Path, layer: str, field: str) -> Path:
    """40 lines near Seoul in EPSG:5186 on a 20 m grid, each with a height in ``field``,
    beside a layer ``roads`` with a ``name``."""
    rng = np.random.default_rng(3)
    lines = []
    for _ in range(40):
        start = np.array([195000.0, 550000.0]) + rng.uniform(0, 20000, 2)
        steps = np.cumsum(rng.uniform(-200, 200, (20, 2)), axis=0)
        lines.append(shapely.linestrings(np.round((start + steps) / 20) * 20))
    wkb = shapely.to_wkb(np.array(lines))
    heights = [float(100 + 10 * (i % 8)) for i in range(40)]
    common = {"driver": "GPKG", "geometry_name": "geometry", "geometry_type": "LineString",
              "crs": "EPSG:5186"}  # fmt: skip
    pyogrio.write_arrow(pa.table({"name": [f"r{i}" for i in range(40)], "geometry": wkb}),
                        path, layer="roads", **common)  # fmt: skip
    pyogrio.write_arrow(pa.table({field: heights, "geometry": wkb}), path, layer=layer,
                        append=True, **common)  # fmt: skip
    assert sorted(str(n) for n, _ in pyogrio.list_layers(path)) == sorted(["roads", layer])
    return path


@pytest.mark.parametrize("case", CASES)
def test_contours_named_by_layer_or_in_korean_must_be_dropped(tmp_path, checker, case):
    layer, field, dropped = CASES[case]
    path = _lines(tmp_path / "in.gpkg", layer, field)
    verdict = checker.check(path)
    assert verdict.verdict == Effect.allow_with_conditions
    # A layer or field named as heights makes the lines 3-D as well (test_named_heights).
    assert sorted(f.rule_id for f in verdict.findings) == [
        "KR-CONTOURS", "KR-IMAGERY-COORDINATES-3D",
    ]  # fmt: skip
    report = checker.remediate(path, tmp_path / "out.gpkg")
    (action,) = [a for a in report.actions if a.condition == "drop_contours"]
    assert action.status == "applied"
    out = tmp_path / "out.gpkg"
    names = [str(n) for n, _ in pyogrio.list_layers(out)]
    if dropped == "layers":
        assert action.changes.layers_dropped == [layer] and names == ["roads"]
    else:
        assert action.changes.fields_dropped == [f"{layer}.{field}"]
        assert field not in pyogrio.read_info(out, layer=layer)["fields"]
    assert not report.verdict.profile.has_z
    assert report.verdict.verdict == Effect.allow


def test_lines_whose_names_say_nothing_of_heights_stay_allowed(tmp_path, checker):
    verdict = checker.check(_lines(tmp_path / "in.gpkg", "lines", "v"))
    assert verdict.verdict == Effect.allow and verdict.findings == []
