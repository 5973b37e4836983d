"""One Checker (and so one service worker) checking several files at once, in threads.

GEOS prepared geometries are not thread-safe and shapely tests them without the GIL: before
each check got its own prepared zones, concurrent checks of data inside a detailed zone
crashed the process with a segmentation fault (5 of 5 runs of the script below).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pytest
import shapely

from compliance import Checker
from compliance.geo.crs_identity import WGS84
from compliance.zones.area_index import AreaIndex
from tests.api.helpers import REPO, ApiData, auth, server_env, sqlite_url, start_server, stop_server

# A round zone of 4,096 vertices near Seoul and 50,000 small squares around it, half inside.
_WRITE_DATA = """
import sys
from pathlib import Path
import geopandas as gpd, numpy as np, shapely
folder = Path(sys.argv[1])
zone = shapely.Point(127.0, 37.5).buffer(0.05, quad_segs=1024)
gpd.GeoDataFrame(
    {"zone_id": ["Z1"], "zone_class": ["military"]}, geometry=[zone], crs="EPSG:4326"
).to_file(folder / "zones.gpkg")
rng = np.random.default_rng(1)
x = 127.0 + (rng.random(50_000) - 0.5) * 0.12
y = 37.5 + (rng.random(50_000) - 0.5) * 0.12
squares = shapely.box(x, y, x + 1e-4, y + 1e-4)
gpd.GeoDataFrame(geometry=squares, crs="EPSG:4326").to_crs("EPSG:5186").to_file(
    folder / "data.gpkg"
)
"""

# Several threads check the data through one Checker; the verdicts they reached are printed.
_CHECK_IN_THREADS = """
import json, sys, threading
from pathlib import Path
from compliance import Checker
folder, threads, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
checker = Checker(zones=folder / "zones.gpkg")
seen = []
def run():
    for _ in range(rounds):
        v = checker.check(folder / "data.gpkg")
        km2 = sum(c.overlap_km2 for c in v.zones.by_class.values())
        seen.append((v.verdict, v.zones.count, round(km2, 9)))
workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps(sorted(set(seen))))
"""


@pytest.fixture(scope="module")
def zone_and_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("concurrent")
    subprocess.run([sys.executable, "-c", _WRITE_DATA, str(folder)], check=True, cwd=REPO)
    return folder


def _check_in_threads(folder: Path, threads: int, rounds: int) -> list[list[object]]:
    # In a child process: a crash must fail this test, not end the test run.
    done = subprocess.run(
        [sys.executable, "-c", _CHECK_IN_THREADS, str(folder), str(threads), str(rounds)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


@pytest.mark.slow
def test_concurrent_checks_through_one_checker_agree_with_a_lone_check(zone_and_data: Path):
    alone = _check_in_threads(zone_and_data, threads=1, rounds=1)
    together = _check_in_threads(zone_and_data, threads=4, rounds=3)
    assert together == alone
    ((verdict, zones_met, overlap_km2),) = alone
    assert verdict == "deny" and zones_met == 1
    # Half the 0.12° square around the zone is inside its 0.05° circle, so the squares
    # inside cover about pi * 0.05² / 0.12² of 50,000 squares of 1e-4° (about 11 x 9 m).
    assert 2.0 < overlap_km2 < 3.5


def test_each_concurrent_user_of_an_index_gets_its_own_prepared_zones(zone_and_data: Path):
    checker = Checker(zones=zone_and_data / "zones.gpkg")
    index = AreaIndex.build(checker.zones.areas, WGS84)
    with index.prepared() as first, index.prepared() as second:
        assert first is not second
        assert shapely.is_prepared(first).all() and shapely.is_prepared(second).all()
        assert shapely.equals_exact(first, second, tolerance=0).all()
    # Copies are kept for reuse: a third user takes one of the two, not a new one.
    with index.prepared() as third:
        assert third is first or third is second


@pytest.mark.slow
def test_a_service_worker_answers_concurrent_uploads_into_a_detailed_zone(
    zone_and_data: Path, api_data: ApiData, tmp_path: Path, uploads: Path
) -> None:
    env = server_env(
        api_data,
        sqlite_url(tmp_path / "audit.sqlite"),
        uploads,
        MAPGATE_ZONES=str(zone_and_data / "zones.gpkg"),
        MAPGATE_PACKS="kr",
        MAPGATE_CHECK_CONCURRENCY="4",
    )
    server = start_server(env, tmp_path / "server.log")
    body = (zone_and_data / "data.gpkg").read_bytes()
    answers: list[int | str] = []

    def upload() -> None:
        for _ in range(2):
            try:
                r = httpx.post(
                    f"{server.base_url}/v1/checks",
                    files={"file": ("data.gpkg", body)},
                    headers=auth("alice"),
                    timeout=300,
                )
                answers.append(r.status_code if r.status_code != 200 else r.json()["verdict"])
            except httpx.HTTPError as exc:
                answers.append(type(exc).__name__)

    try:
        clients = [threading.Thread(target=upload) for _ in range(4)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        assert server.process.poll() is None, "the service process died"
    finally:
        stop_server(server)
    assert answers == ["deny"] * 8
    assert list(uploads.iterdir()) == []


def test_unprepared_copies_are_not_made_for_a_lone_user(zone_and_data: Path):
    checker = Checker(zones=zone_and_data / "zones.gpkg")
    index = AreaIndex.build(checker.zones.areas, WGS84)
    for _ in range(3):
        with index.prepared() as geoms:
            assert geoms is index.geometries


def test_the_data_inside_the_zone_is_really_there(zone_and_data: Path):
    # The stress data must put features inside the zone, or the tests above test nothing.
    zone = gpd.read_file(zone_and_data / "zones.gpkg").geometry[0]
    data = gpd.read_file(zone_and_data / "data.gpkg").to_crs("EPSG:4326")
    inside = np.asarray(shapely.within(data.geometry.values, zone)).sum()
    assert 20_000 < inside < 30_000
