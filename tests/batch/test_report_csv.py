"""``results.csv``'s conditions, resolution, scale and reason columns, after a real audit and
after resuming one whose CSV was written with the old columns."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from pyproj import Geod, Transformer

from compliance.batch.results import CSV_COLUMNS, ResultsWriter, read_rows
from compliance.batch.run import audit
from tests.batch.report_fixtures import Audited, audited, csv_rows, jsonl

__all__ = ["audited"]  # a fixture, used by name

OLD_COLUMNS = [
    "path", "status", "verdict", "error", "sha256", "size", "packs", "rules", "bounds_wgs84",
    "fingerprint", "duration_ms", "finished_at", "reused_from",
]  # fmt: skip
NEW_COLUMNS = ["conditions", "resolution_m", "scale_denominator", "reason"]
GEOD = Geod(ellps="WGS84")


def _pixel_metres(crs: str, x: float, y: float, step: float) -> float:
    """The shorter side of one pixel on the ground, measured on the ellipsoid."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    (lon0, lat0), (lon1, lat1), (lon2, lat2) = (
        to_lonlat.transform(x, y), to_lonlat.transform(x + step, y), to_lonlat.transform(x, y - step)
    )  # fmt: skip
    return min(GEOD.inv(lon0, lat0, lon1, lat1)[2], GEOD.inv(lon0, lat0, lon2, lat2)[2])


def test_new_columns_come_after_the_old_ones(audited: Audited) -> None:
    with (audited.out / "results.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == OLD_COLUMNS + NEW_COLUMNS == CSV_COLUMNS


def test_the_columns_hold_the_verdicts_facts(audited: Audited) -> None:
    rows = {Path(r["path"]).name: r for r in csv_rows(audited.out)}
    deny = rows["kr_5k_buildings.gpkg"]
    assert deny["verdict"] == "deny" and deny["conditions"] == "mask_zones"
    assert deny["reason"].startswith("KR-SECURITY-ZONES-LARGE-SCALE: The data shows military")
    assert rows["sat_10m_korea.tif"]["conditions"] == "mask_zones;strip_coordinates"
    assert rows["kr_50k_roads.gpkg"]["reason"] == ""  # allowed: no rule decided it
    assert float(rows["kr_50k_roads.gpkg"]["scale_denominator"]) == 50_000  # as declared
    unplaced = rows["scan_no_crs.tif"]
    assert unplaced["resolution_m"] == "" and unplaced["reason"].startswith(
        "MAPGATE-LOCATION-UNKNOWN: "
    )
    # 2 m pixels of UTM 52N near Busan, and 0.25 m ones of the Israeli orthophoto (ITM).
    busan = float(rows["utm52_busan.tif"]["resolution_m"])
    assert busan == pytest.approx(_pixel_metres("EPSG:32652", 496_000, 3_895_000, 2.0), rel=2e-3)
    ortho = float(rows["ortho_025m_israel.tif"]["resolution_m"])
    assert ortho == pytest.approx(0.25, rel=2e-3)
    # The same numbers as each full verdict in results.jsonl.
    for doc in jsonl(audited.out):
        row = rows[Path(doc["path"]).name]
        profile = (doc.get("document") or {}).get("profile") or {}
        for column in ("resolution_m", "scale_denominator"):
            value = profile.get(column)
            if value is None:
                assert row[column] == ""
            else:
                assert math.isclose(float(row[column]), value, rel_tol=1e-12)


def test_a_resumed_audit_rewrites_an_old_csv_with_every_column(tmp_path: Path) -> None:
    from tests.batch.report_fixtures import make_placed

    data = tmp_path / "data"
    make_placed(data)
    out = tmp_path / "out"
    list(audit([data], out=out, workers=0))
    # Make the CSV look as an older version wrote it: fewer columns.
    old = [r[: len(OLD_COLUMNS)] for r in csv.reader((out / "results.csv").open(newline=""))]
    old[0] = OLD_COLUMNS
    with (out / "results.csv").open("w", newline="") as f:
        csv.writer(f).writerows(old)
    # Opening for appending (as --resume does, even if the run then dies) rebuilds it.
    with ResultsWriter(out, append=True):
        pass
    table = list(csv.reader((out / "results.csv").open(newline="")))
    assert table[0] == CSV_COLUMNS and all(len(r) == len(CSV_COLUMNS) for r in table)
    assert len(table) - 1 == len(list(read_rows(out / "results.jsonl")))
    by_name = {Path(r[0]).name: dict(zip(CSV_COLUMNS, r, strict=True)) for r in table[1:]}
    assert by_name["utm52_busan.tif"]["reason"].startswith("KR-SCALE-25K: ")
    # And a resumed run ends with one consistent row per dataset.
    list(audit([data], out=out, workers=0, resume=True))
    final = csv_rows(out)
    assert len(final) == 4 and all(set(r) == set(CSV_COLUMNS) for r in final)
    assert {Path(r["path"]).name: r["reason"] for r in final} == {
        n: r["reason"] for n, r in by_name.items()
    }
