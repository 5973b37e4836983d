"""``mapgate audit --remediate-to DIR``: one derivative per dataset that needs one, named
by the sha256 of its results row, verified with pyogrio and shapely alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import shapely

from tests.remediate.conftest import (
    MASK_PACK,
    buffered_zone_local,
    read_layer,
    shapes_lonlat,
    to_local,
    write_gpkg,
    write_pack,
    write_zipped_shapefile,
)

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]


def audit(*args: object) -> subprocess.CompletedProcess[str]:
    command = [
        *MAPGATE,
        "audit",
        *map(str, args),
        "--workers",
        "0",
        "--timeout",
        "0",
        "--memory-mb",
        "0",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_each_dataset_that_needs_it_gets_a_derivative(tmp_path: Path, zones_file: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "zipped").mkdir()
    write_gpkg(data / "near.gpkg", {"b": (shapes_lonlat("Polygon", 0.0025), 5186)})
    far = [shapely.affinity.translate(g, 0.3, 0.0) for g in shapes_lonlat("Polygon", 0.004)]
    write_gpkg(data / "far.gpkg", {"b": (far, 32652)})
    zipped = write_zipped_shapefile(tmp_path / "zipped", shapes_lonlat("LineString", 0.003), 4326)
    zipped.path.rename(data / "roads.zip")
    pack = write_pack(tmp_path, MASK_PACK)
    out, rem = tmp_path / "out", tmp_path / "rem"
    args = (data, "--out", out, "--pack", pack, "--zones", zones_file, "--remediate-to", rem)
    result = audit(*args)
    assert result.returncode == 0, result.stderr
    rows = {
        Path(r["path"]).name: r
        for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())
    }
    assert {n: r["verdict"] for n, r in rows.items()} == {
        "near.gpkg": "deny",
        "far.gpkg": "allow",
        "roads.zip": "deny",
    }
    lines = [json.loads(x) for x in (rem / "remediations.jsonl").read_text().splitlines()]
    assert sorted(Path(x["path"]).name for x in lines) == ["near.gpkg", "roads.zip"]
    assert sorted(p.name for p in rem.glob("*.gpkg")) == sorted(
        f"{rows[n]['sha256']}.remediated.gpkg" for n in ("near.gpkg", "roads.zip")
    )
    for line in lines:
        assert line["original"] == "deny" and line["actions"]["mask_zones"] == "applied"
        assert line["verdict"] == "allow"
    zone = buffered_zone_local()
    near, _, _ = read_layer(rem / f"{rows['near.gpkg']['sha256']}.remediated.gpkg", "b")
    roads, _, _ = read_layer(rem / f"{rows['roads.zip']['sha256']}.remediated.gpkg", "roads")
    assert not shapely.intersects(zone, to_local(near, 5186)).any()
    assert not shapely.intersects(zone, to_local(roads, 4326)).any()
    # Again, resumed: the derivatives are there, nothing is done twice.
    assert audit(*args, "--resume").returncode == 0
    assert len((rem / "remediations.jsonl").read_text().splitlines()) == 2
