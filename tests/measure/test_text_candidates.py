"""Text columns are matched in Python when small and by Arrow's RE2 kernel when large:
both must pick every value that may read as a geometry (parsing then decides)."""

from __future__ import annotations

import pyarrow as pa
import pytest
import shapely

import compliance.measure.table_values as table_values
from compliance.measure.table_values import GeometryText
from tests.adversarial.test_coordinates_in_tables import ENCODINGS, OTHER_TEXT_FORMS, _buildings

_TEXTS = [
    *(
        v
        for encode in ENCODINGS.values()
        for v in encode(_buildings("seoul", 2))
        if isinstance(v, str)
    ),
    *OTHER_TEXT_FORMS.values(),
    "\u3000 point z (1 2 3)",
    "\ufeffSRID=4326;LINESTRING(0 0, 1 1)",
    "\\x0101000000000000000000f03f000000000000f03f",
    "  [1, 2]",
    "a remark about a POINT (of order)",
    "posters <b>pos</b>",
    "Harbour road, 3rd gate",
    "",
]


def _candidates(values: list[str | None], here: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(table_values, "_MATCH_HERE", 10**9 if here else -1)
    return table_values._candidates(pa.array(values, type=pa.string()))


def test_both_engines_pick_the_same_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [*_TEXTS, None]
    here = _candidates(values, True, monkeypatch)
    arrow = _candidates(values, False, monkeypatch)
    assert here == arrow
    # Every geometry form is a candidate; plain words are not.
    assert "Harbour road, 3rd gate" not in here and "" not in here
    assert set(OTHER_TEXT_FORMS.values()) <= set(here)


@pytest.mark.parametrize("rows", [10, 4096, 4097, 20_000])
def test_a_geometry_among_many_rows_is_found_by_either_engine(rows: int) -> None:
    wkt = shapely.to_wkt(_buildings("busan", 1)[0])
    values = ["plain text"] * (rows - 1) + [wkt]
    found = GeometryText()
    found.add(pa.record_batch({"remarks": pa.array(values), "other": pa.array(["x"] * rows)}))
    assert found.columns == ["remarks"]


@pytest.mark.parametrize("form", ["binary", "hex text"])
def test_a_curve_in_wkb_counts_as_geometry_and_is_no_error(form: str) -> None:
    """GEOS reads no curve: shapely raises NotImplementedError for their WKB (a SpatiaLite
    R*Tree node once read as one and ended a check with an internal error). A curve
    walked to its end is a geometry with coordinates, as GEOS's refusals count."""
    curve = bytes.fromhex(
        "0108000000"  # little-endian CircularString
        "03000000"
        "0000000000c05f400000000000c04240"
        "0000000000c85f400000000000c84240"
        "0000000000d05f400000000000c04240"
    )
    with pytest.raises(NotImplementedError):
        shapely.from_wkb(curve, on_invalid="ignore")
    column = pa.array([curve]) if form == "binary" else pa.array([curve.hex()])
    found = GeometryText()
    found.add(pa.RecordBatch.from_arrays([pa.array(["a"]), column], names=["name", "shape"]))
    assert found.columns == ["shape"]
