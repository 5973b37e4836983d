"""A submitter learns whether its data touches sensitive zones and which classes, nothing
more; an auditor sees everything. A submitter who keeps circling one zone is noticed.

The zones, the pack and the data are made here; the overlap an auditor sees is checked
against pyproj's geodesic area of the shapely intersection.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import box, mapping

from api.main import create_app
from compliance import Checker
from tests.api.helpers import TestClient, auth, make_settings, sqlite_url
from tests.builders import write_vector

# One zone per class, 0.1° squares a degree apart near the equator (UTM 34N covers them).
ZONES = {
    "military": ("sec-mil-7", box(20.0, 1.0, 20.1, 1.1)),
    "nuclear": ("sec-nuc-3", box(21.0, 1.0, 21.1, 1.1)),
    "energy": ("sec-nrg-5", box(22.0, 1.0, 22.1, 1.1)),
    "government": ("sec-gov-2", box(23.0, 1.0, 23.1, 1.1)),
}
ZONES_FILE = "secret_sites.geojson"
# A rule that reads counts and areas: its findings must not carry them to a submitter.
PACK = """\
pack: secrecy-test
version: "1"
title: Secrecy test pack
jurisdiction: nowhere
rules:
  - id: deny-touched
    title: Data over a sensitive zone
    when: 'zones.count > 0 && zones.classes.size() > 0 && zones.by_class.size() > 0'
    effect: deny
    reference: test fixture
    message: The data touches a sensitive zone.
"""
CRSS = ["EPSG:4326", "EPSG:32634", "EPSG:3857"]
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> tuple[Checker, bytes]:
    root = tmp_path_factory.mktemp("secret")
    features = [
        {"type": "Feature", "properties": {"zone_id": zid, "zone_class": cls},
         "geometry": mapping(geom)}
        for cls, (zid, geom) in ZONES.items()
    ]  # fmt: skip
    raw = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    (root / ZONES_FILE).write_bytes(raw)
    (root / "pack.yaml").write_text(PACK)
    return Checker(packs=[root / "pack.yaml"], zones=root / ZONES_FILE), raw


@pytest.fixture
def client(tmp_path: Path, secret: tuple[Checker, bytes]) -> Iterator[TestClient]:
    settings = make_settings(sqlite_url(tmp_path / "audit.sqlite"))
    with TestClient(create_app(settings, checker=secret[0])) as c:
        yield c


@pytest.fixture
def watched(tmp_path: Path, secret: tuple[Checker, bytes]) -> Iterator[TestClient]:
    """A service that raises the probing alarm at 4 uploads near one zone."""
    settings = make_settings(sqlite_url(tmp_path / "audit.sqlite"), probe_threshold=4)
    with TestClient(create_app(settings, checker=secret[0])) as c:
        yield c


def probe(folder: Path, zone: shapely.Polygon, inside: float, crs: str) -> tuple[Path, float]:
    """A box over the zone's east edge, reaching ``inside`` degrees into it, written in
    ``crs``; and the true overlap in km²."""
    west, south, east, north = zone.bounds
    data = box(east - inside, south + 0.02, east + 0.03, north - 0.02)
    data = shapely.segmentize(data, 0.001)
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    written = shapely.transform(data, lambda xy: np.column_stack(to.transform(*xy.T)))
    path = write_vector(folder / f"probe-{inside}.gpkg", [written], crs)
    truth = abs(GEOD.geometry_area_perimeter(data.intersection(zone))[0]) / 1e6
    return path, truth


def post(c: TestClient, path: Path, who: str):
    with path.open("rb") as f:
        return c.post("/v1/checks", files={"file": (path.name, f)}, headers=auth(who))


def _secrets_in(text: str, raw_zones: bytes, touched: str) -> list[str]:
    """Whatever a submitter should not find in an answer."""
    words = ["overlap_km2", "by_class", "zones.count", ZONES_FILE, "secret_sites"]
    words += [hashlib.sha256(raw_zones).hexdigest()]
    words += [zid for zid, _ in ZONES.values()]
    words += [cls for cls in ZONES if cls != touched]
    return [w for w in words if w in text]


@pytest.mark.parametrize("crs", CRSS)
@pytest.mark.parametrize("zone_class", list(ZONES))
def test_a_submitter_sees_only_that_its_data_touches_a_class(
    client: TestClient, secret, tmp_path: Path, zone_class: str, crs: str
) -> None:
    zone = ZONES[zone_class][1]
    path, truth = probe(tmp_path, zone, 0.02, crs)
    r = post(client, path, "alice")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "deny"
    assert body["zones"] == {"touched": True, "classes": [zone_class]}
    (finding,) = body["findings"]
    assert finding["rule_id"] == "deny-touched"
    assert finding["facts"] == {"zones.classes": [zone_class]}
    assert _secrets_in(r.text, secret[1], zone_class) == []
    assert "server-timing" not in r.headers
    # Read back: the same, for the submitter; everything, for an auditor.
    again = client.get(f"/v1/checks/{body['id']}", headers=auth("alice"))
    assert again.json() == body and _secrets_in(again.text, secret[1], zone_class) == []
    full = client.get(f"/v1/checks/{body['id']}", headers=auth("carol")).json()
    assert full["zones"]["count"] == 1
    assert full["zones"]["source"] == ZONES_FILE
    assert full["zones"]["by_class"][zone_class]["overlap_km2"] == pytest.approx(truth, rel=0.01)
    assert set(full["zones"]["by_class"]) == set(ZONES)


@pytest.mark.parametrize("crs", CRSS)
def test_a_binary_search_learns_nothing_but_touched(
    client: TestClient, tmp_path: Path, crs: str
) -> None:
    # Boxes reaching ever less far into the zone: the auditor sees the area shrink, the
    # submitter sees the same answer every time until the box no longer touches at all.
    zone = ZONES["military"][1]
    shown, areas = [], []
    for inside in (0.05, 0.02, 0.005, 0.001):
        path, truth = probe(tmp_path, zone, inside, crs)
        body = post(client, path, "bob").json()
        shown.append((body["verdict"], body["zones"], body["findings"]))
        full = client.get(f"/v1/checks/{body['id']}", headers=auth("carol")).json()
        areas.append(full["zones"]["by_class"]["military"]["overlap_km2"])
        assert areas[-1] == pytest.approx(truth, rel=0.01, abs=0.01)
    assert len(set(areas)) == 4
    assert all(s == shown[0] for s in shown)
    path, _ = probe(tmp_path, zone, -0.01, crs)  # 0.01° east of the zone: clear of it
    body = post(client, path, "bob").json()
    assert (body["verdict"], body["zones"], body["findings"]) == (
        "allow", {"touched": False, "classes": []}, []
    )  # fmt: skip


def test_data_that_cannot_be_placed_shows_touched_unknown(client: TestClient, tmp_path) -> None:
    path = write_vector(tmp_path / "nowhere.gpkg", [box(0, 0, 10, 10)], None)
    body = post(client, path, "alice").json()
    assert body["zones"] == {"touched": None, "classes": None}


def test_packs_endpoint_hides_the_zones_from_submitters(client: TestClient, secret) -> None:
    for who in ("alice", "bob"):
        r = client.get("/v1/packs", headers=auth(who))
        assert r.json()["zones"] is None and r.json()["fingerprint"] is None
        assert _secrets_in(r.text, secret[1], "") == []
    full = client.get("/v1/packs", headers=auth("carol")).json()
    assert full["zones"] == {
        "source": ZONES_FILE,
        "sha256": hashlib.sha256(secret[1]).hexdigest(),
    }


def test_circling_one_zone_is_counted_and_logged(
    watched: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    zone = ZONES["nuclear"][1]
    caplog.set_level(logging.WARNING, logger="mapgate.api")
    answers = []
    for i, inside in enumerate((0.05, 0.02, -0.002, 0.005, 0.001, -0.001, 0.01, 0.003)):
        path, _ = probe(tmp_path, zone, inside, CRSS[i % 3])
        r = post(watched, path, "alice")
        assert r.status_code == 200, r.text
        answers.append(r)
    # Far from every zone: not counted. An auditor's uploads: not counted.
    post(watched, probe(tmp_path, ZONES["energy"][1], -1.0, "EPSG:4326")[0], "alice")
    post(watched, probe(tmp_path, ZONES["nuclear"][1], 0.01, "EPSG:4326")[0], "carol")
    metrics = watched.get("/metrics", headers=auth("carol")).text
    lines = [x for x in metrics.splitlines() if x.startswith("mapgate_zone_probing_total{")]
    # 8 uploads near one zone, threshold 4: two alarms.
    assert lines == ['mapgate_zone_probing_total{caller="alice",zone_class="nuclear"} 2.0']
    warned = [r.getMessage() for r in caplog.records if "probing" in r.getMessage()]
    assert len(warned) == 2 and all("'alice'" in w and "sec-nuc-3" in w for w in warned)
    # The submitter is told nothing of it.
    assert all("sec-nuc-3" not in r.text and "probing" not in r.text for r in answers)


def test_the_probe_watch_forgets_uploads_older_than_its_window() -> None:
    from api.probing import NearZone, ZoneProbeWatch

    watch = ZoneProbeWatch(window_s=100.0, threshold=3)
    zone, other = NearZone("z-1", "military"), NearZone("z-2", "energy")
    assert watch.observe("k", [zone], now=0.0) == []
    assert watch.observe("k", [zone, other], now=60.0) == []
    assert watch.observe("k", [zone], now=150.0) == []  # the upload at 0 has expired
    assert watch.observe("j", [zone], now=150.0) == []  # another key counts apart
    assert watch.observe("k", [zone], now=155.0) == [zone]
    assert watch.observe("k", [zone], now=156.0) == []  # the pair starts over
