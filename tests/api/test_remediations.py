"""POST /v1/remediations and GET /v1/remediations/{id}/file through the real app: the
report, what a submitter may see of it, the download (its caller only, until it expires),
and both verdicts in the audit trail, linked."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from sqlalchemy import create_engine, text

from api.main import create_app
from api.routes.remediations import sweep_expired
from compliance import Checker
from tests.api.fixtures import *  # noqa: F403 - fixtures
from tests.api.helpers import ApiData, TestClient, auth, make_settings, sqlite_url

MASK_PACK = """\
pack: api-mask
version: "1"
title: Data over a zone must be masked
jurisdiction: nowhere
rules:
  - id: MASK-MILITARY
    title: Data over a military zone
    when: zones.count > 0
    effect: deny
    conditions: [mask_zones]
    reference: test fixture
"""
# The military zone of the API tests is the square 10..11 E, 10..11 N.
ZONE = shapely.box(10.0, 10.0, 11.0, 11.0)


def points(tmp_path: Path) -> Path:
    """Points inside the zone and far from it."""
    coords = [(10.2 + 0.1 * i, 10.5) for i in range(5)] + [
        (12.5 + 0.01 * i, 10.5) for i in range(5)
    ]
    features = [
        {"type": "Feature", "properties": {"i": i}, "geometry": {"type": "Point", "coordinates": c}}
        for i, c in enumerate(coords)
    ]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture(scope="module")
def mask_checker(tmp_path_factory: pytest.TempPathFactory, api_data: ApiData) -> Checker:
    pack = tmp_path_factory.mktemp("pack") / "api-mask.yaml"
    pack.write_text(MASK_PACK)
    return Checker(packs=[pack], zones=api_data.zones)


def client_for(tmp_path: Path, checker: Checker, **settings: object) -> Iterator[TestClient]:
    values = {
        "tmp_dir": tmp_path / "uploads",
        "remediation_dir": tmp_path / "derivatives",
    } | settings
    (tmp_path / "uploads").mkdir(exist_ok=True)
    app = create_app(
        make_settings(sqlite_url(tmp_path / "audit.sqlite"), **values), checker=checker
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client(tmp_path: Path, mask_checker: Checker) -> Iterator[TestClient]:
    yield from client_for(tmp_path, mask_checker)


def post(c: TestClient, path: Path, who: str, data: dict | None = None):
    with path.open("rb") as f:
        return c.post(
            "/v1/remediations",
            files={"file": (path.name, f, "application/octet-stream")},
            data=data or {},
            headers=auth(who),
        )


def test_a_submitter_gets_a_masked_derivative_and_no_zone_measures(
    client: TestClient, tmp_path: Path
) -> None:
    r = post(client, points(tmp_path), "alice")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["original"]["verdict"] == "deny" and report["verdict"]["verdict"] == "allow"
    # Zones as a submitter sees them: touched and classes, no counts, areas or ids.
    assert report["original"]["zones"] == {
        "touched": True,
        "classes": ["military"],
        "fictional": False,
    }
    (action,) = report["actions"]
    assert action["condition"] == "mask_zones" and action["status"] == "applied"
    assert (
        action["changes"]["area_masked_km2"] is None
        and action["changes"]["features_dropped"] is None
    )
    assert report["output"]["path"] == "sites.remediated.gpkg"  # named, never placed
    download = client.get(report["download"], headers=auth("alice"))
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == report["output"]["sha256"]
    derivative = tmp_path / "got.gpkg"
    derivative.write_bytes(download.content)
    _, table = pyogrio.read_arrow(derivative)
    kept = shapely.from_wkb(np.asarray(table.column("geom").to_pylist(), dtype=object))
    assert len(kept) == 5 and not shapely.intersects(ZONE, kept).any()
    assert list(table.column("i").to_pylist()) == [5, 6, 7, 8, 9]
    assert list((tmp_path / "uploads").iterdir()) == []  # the upload spool is left empty


def test_only_the_caller_downloads(client: TestClient, tmp_path: Path) -> None:
    report = post(client, points(tmp_path), "alice").json()
    assert client.get(report["download"], headers=auth("bob")).status_code == 404
    assert client.get(report["download"], headers=auth("carol")).status_code == 404
    assert client.get(report["download"]).status_code == 401


def test_an_auditor_sees_the_measures(client: TestClient, tmp_path: Path) -> None:
    report = post(client, points(tmp_path), "carol").json()
    (action,) = report["actions"]
    assert action["changes"]["features_dropped"] == 5 and action["changes"]["area_masked_km2"] > 0
    assert report["original"]["zones"]["count"] == 1


def test_both_verdicts_are_stored_and_linked(client: TestClient, tmp_path: Path) -> None:
    report = post(client, points(tmp_path), "alice").json()
    engine = create_engine(sqlite_url(tmp_path / "audit.sqlite"))
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT original_id, derivative_id, caller FROM mapgate_remediations WHERE id = :id"
            ),
            {"id": report["id"]},
        ).one()
    engine.dispose()
    assert row.caller == "alice"
    original = client.get(f"/v1/checks/{row.original_id}", headers=auth("carol")).json()
    derived = client.get(f"/v1/checks/{row.derivative_id}", headers=auth("carol")).json()
    assert original["verdict"] == "deny" and original["input"]["name"] == "sites.geojson"
    assert (
        derived["verdict"] == "allow" and derived["input"]["sha256"] == report["output"]["sha256"]
    )


def test_a_derivative_expires(tmp_path: Path, mask_checker: Checker) -> None:
    for c in client_for(tmp_path, mask_checker, remediation_ttl_s=0.001):
        report = post(c, points(tmp_path), "alice").json()
        while (
            not list((tmp_path / "derivatives").iterdir())[0].stat().st_mtime + 0.001 < time.time()
        ):
            pass
        assert c.get(report["download"], headers=auth("alice")).status_code == 410
        assert list((tmp_path / "derivatives").iterdir()) == []


def test_the_sweep_removes_what_outlived_its_time(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.gpkg").write_bytes(b"x")
    assert sweep_expired(tmp_path, 3600.0) == []
    assert sweep_expired(tmp_path, 3600.0, now=time.time() + 3601) == ["a"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("data", "status"), [({"mask_mode": "erase"}, 422), ({}, 422)])
def test_bad_requests_leave_nothing(
    client: TestClient, api_data: ApiData, tmp_path: Path, data, status
) -> None:
    path = points(tmp_path) if data else api_data.garbage
    r = post(client, path, "alice", data)
    assert r.status_code == status, r.text
    assert list((tmp_path / "uploads").iterdir()) == []
    assert list((tmp_path / "derivatives").iterdir()) == []
    assert "/" not in r.json()["detail"].replace("/v1", "")
