"""The service signs verdicts: GET /v1/checks/{id}/attestation and GET /v1/keys, through
the real app, verified with the published keys alone; keys rotate without breaking old
attestations."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from api.main import create_app
from api.verdict_store import VerdictStore
from compliance import Checker
from compliance.attestation import generate_key
from tests.api.fixtures import *  # noqa: F403 - fixtures
from tests.api.helpers import TestClient, auth, make_settings, sqlite_url
from tests.attestation.test_spec import spec_key_id, spec_verify


@contextmanager
def client(store: Path, checker: Checker, **settings: object) -> Iterator[TestClient]:
    app = create_app(make_settings(sqlite_url(store), **settings), checker=checker)
    with TestClient(app) as c:
        yield c


def post(c: TestClient, path: Path, who: str, **params: object):
    with path.open("rb") as f:
        r = c.post("/v1/checks", files={"file": (path.name, f)}, params=params, headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def published(c: TestClient) -> dict[str, dict]:
    r = c.get("/v1/keys")  # no API key: public keys are public
    assert r.status_code == 200, r.text
    return {k["key_id"]: k for k in r.json()["keys"]}


def verify_with_published(envelope: str, keys: dict[str, dict]) -> dict:
    """A receiver's check: the key named by the envelope, from /v1/keys, in its period."""
    keyid = json.loads(envelope)["signatures"][0]["keyid"]
    key = keys[keyid]
    statement = spec_verify(envelope, key["public_key_pem"].encode())
    signed_at = datetime.fromisoformat(statement["predicate"]["attestedAt"])
    if key["not_after"] is not None:
        assert signed_at <= datetime.fromisoformat(key["not_after"])
    assert spec_key_id(key["public_key_pem"].encode()) == keyid
    return statement


def test_every_verdict_is_signed_and_served_by_its_access_rules(tmp_path, api_checker, api_data):
    key = generate_key(tmp_path / "key")
    with client(tmp_path / "s.sqlite", api_checker, signing_key=key.private_path) as c:
        keys = published(c)
        assert list(keys) == [key.key_id] and keys[key.key_id]["status"] == "current"
        for sample in (api_data.in_zone, api_data.clear, api_data.raster):
            verdict = post(c, sample, "alice")
            r = c.get(f"/v1/checks/{verdict['id']}/attestation", headers=auth("alice"))
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/vnd.dsse.envelope.v1+json"
            statement = verify_with_published(r.text, keys)
            signed = statement["predicate"]["verdict"]
            commitment = signed["zones"].pop("commitment")
            assert signed == verdict  # what the submitter received, and nothing more
            full = c.get(f"/v1/checks/{verdict['id']}", headers=auth("carol")).json()
            salted = f"{verdict['id']}:{full['zones']['sha256']}".encode()
            assert commitment == hashlib.sha256(salted).hexdigest()
            assert statement["subject"] == [
                {"name": sample.name, "digest": {"sha256": verdict["input"]["sha256"]}}
            ]
            # Same rules as GET /v1/checks/{id}: another submitter gets 404, an auditor the same.
            other = c.get(f"/v1/checks/{verdict['id']}/attestation", headers=auth("bob"))
            assert other.status_code == 404
            auditor = c.get(f"/v1/checks/{verdict['id']}/attestation", headers=auth("carol"))
            assert auditor.text == r.text
        assert c.get(f"/v1/checks/{verdict['id']}/attestation").status_code == 401
        assert c.get("/v1/checks/nope/attestation", headers=auth("carol")).status_code == 404


def test_revealed_zones_are_never_signed(tmp_path, api_checker, api_data):
    key = generate_key(tmp_path / "key")
    with client(tmp_path / "s.sqlite", api_checker, signing_key=key.private_path) as c:
        verdict = post(c, api_data.in_zone, "carol", reveal_zones="true")
        assert verdict["verdict"] == "deny" and verdict["zones"]["hits"]
        r = c.get(f"/v1/checks/{verdict['id']}/attestation", headers=auth("carol"))
        zones = verify_with_published(r.text, published(c))["predicate"]["verdict"]["zones"]
        # What a submitter may see (touched, classes) and a salted commitment: no areas,
        # counts, untouched classes or zones file, which would make attestations an oracle.
        assert set(zones) == {"touched", "classes", "fictional", "commitment"}
        assert zones["touched"] is True
        for secret in ("mil-001", "POLYGON", "overlap_km2", "by_class", "demo_zones"):
            assert secret.lower() not in r.text.lower()


def test_an_unsigned_service_has_no_attestations_and_no_keys(tmp_path, api_checker, api_data):
    with client(tmp_path / "s.sqlite", api_checker) as c:
        verdict = post(c, api_data.clear, "alice")
        r = c.get(f"/v1/checks/{verdict['id']}/attestation", headers=auth("alice"))
        assert r.status_code == 404
        assert published(c) == {}


def test_keys_rotate_without_breaking_old_attestations(tmp_path, api_checker, api_data):
    store = tmp_path / "s.sqlite"
    a, b = generate_key(tmp_path / "a"), generate_key(tmp_path / "b")
    start = datetime.now(UTC) - timedelta(days=1)
    with client(store, api_checker, signing_key=a.private_path, signing_key_not_before=start) as c:
        old = post(c, api_data.in_zone, "alice")
        old_envelope = c.get(f"/v1/checks/{old['id']}/attestation", headers=auth("alice")).text
    retired_at = datetime.now(UTC)
    retired = [{"path": a.public_path, "not_before": start, "not_after": retired_at}]
    with client(store, api_checker, signing_key=b.private_path, retired_keys=retired) as c:
        keys = published(c)
        assert {k: v["status"] for k, v in keys.items()} == {
            b.key_id: "current",
            a.key_id: "retired",
        }
        assert datetime.fromisoformat(keys[a.key_id]["not_after"]) == retired_at
        new = post(c, api_data.clear, "alice")
        new_envelope = c.get(f"/v1/checks/{new['id']}/attestation", headers=auth("alice")).text
        still = c.get(f"/v1/checks/{old['id']}/attestation", headers=auth("alice")).text
    assert still == old_envelope
    assert verify_with_published(old_envelope, keys)["predicate"]["verdict"]["id"] == old["id"]
    assert verify_with_published(new_envelope, keys)["predicate"]["verdict"]["id"] == new["id"]
    assert json.loads(old_envelope)["signatures"][0]["keyid"] == a.key_id
    # The library does the same with the published keys and their periods.
    from compliance import TrustedKey, verify
    from compliance.attestation import load_public_key

    trusted = [
        TrustedKey(load_public_key(k["public_key_pem"]),
                   *(datetime.fromisoformat(k[t]) if k[t] else None for t in ("not_before", "not_after")))
        for k in keys.values()
    ]  # fmt: skip
    assert verify(old_envelope, trusted).key_id == a.key_id
    assert verify(new_envelope, trusted).key_id == b.key_id


def test_a_store_made_before_signing_keeps_working(tmp_path, api_checker, api_data):
    store = tmp_path / "old.sqlite"
    with client(store, api_checker) as c:
        old = post(c, api_data.clear, "alice")
    engine = create_engine(sqlite_url(store))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE mapgate_attestations")  # as stores were before
    key = generate_key(tmp_path / "key")
    with client(store, api_checker, signing_key=key.private_path) as c:
        assert c.get(f"/v1/checks/{old['id']}", headers=auth("alice")).json() == old
        assert (
            c.get(f"/v1/checks/{old['id']}/attestation", headers=auth("alice")).status_code == 404
        )
        new = post(c, api_data.clear, "alice")
        r = c.get(f"/v1/checks/{new['id']}/attestation", headers=auth("alice"))
        assert r.status_code == 200
    assert "mapgate_attestations" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_attestation_table_works_on_postgresql(pg_url, api_checker, api_data, tmp_path):
    key = generate_key(tmp_path / "key")
    from compliance.attestation import attest

    store = VerdictStore(
        pg_url, signer=lambda v: (attest(v, key.private_path).to_json(), key.key_id)
    )
    try:
        verdict = api_checker.check(api_data.clear)
        store.save(verdict, verdict.model_dump_json(), "alice", "submitter")
        envelope = store.attestation(verdict.id, caller="alice")
        assert envelope is not None and store.attestation(verdict.id, caller="bob") is None
        statement = spec_verify(envelope, key.public_path.read_bytes())
        assert statement["predicate"]["verdict"]["id"] == verdict.id
    finally:
        store.close()


def test_a_signing_key_that_cannot_be_read_stops_the_service(tmp_path, api_checker):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(Exception, match="not a readable"):
        with client(tmp_path / "s.sqlite", api_checker, signing_key=bad):
            pass
