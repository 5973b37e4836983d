"""mapgate's envelopes, read by a verifier written here from the DSSE and in-toto specs alone.

The verifier uses ``cryptography`` and the standard library, never mapgate's code: if it
accepts mapgate's attestations, so will any receiver who follows the specs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rasterio.transform import from_origin
from shapely.geometry import Point

import compliance
from compliance.attestation import generate_key
from tests.builders import write_raster, write_vector

SAMPLES = Path(__file__).resolve().parents[2] / "sample_maps"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
IN_TOTO_JSON = "application/vnd.in-toto+json"


def spec_pae(payload_type: str, body: bytes) -> bytes:
    """DSSE protocol.md: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body."""
    kind = payload_type.encode("utf-8")
    return b" ".join([b"DSSEv1", str(len(kind)).encode(), kind, str(len(body)).encode(), body])


def spec_b64(text: str) -> bytes:
    """Standard or URL-safe base64, as DSSE verifiers must accept."""
    return base64.urlsafe_b64decode(
        text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
    )


def spec_verify(envelope: str | bytes, public_pem: bytes) -> dict:
    """Verify a DSSE envelope of an in-toto statement; return the statement or raise."""
    env = json.loads(envelope)
    body = spec_b64(env["payload"])
    key = serialization.load_pem_public_key(public_pem)
    message = spec_pae(env["payloadType"], body)
    for signature in env["signatures"]:
        try:
            key.verify(spec_b64(signature["sig"]), message)  # type: ignore[union-attr]
            break
        except InvalidSignature:
            continue
    else:
        raise InvalidSignature("no signature verifies")
    assert env["payloadType"] == IN_TOTO_JSON
    statement = json.loads(body)
    assert statement["_type"] == STATEMENT_V1
    return statement


def spec_key_id(public_pem: bytes) -> str:
    key = serialization.load_pem_public_key(public_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    made = generate_key(tmp_path_factory.mktemp("keys"))
    return made.private_path, made.public_path.read_bytes()


def _zip_of_shapefile(folder: Path) -> Path:
    """A zipped shapefile (EPSG:5186, Korea) with a stray note beside it."""
    shp = write_vector(
        folder / "roads.shp", [Point(200000, 500000 + i) for i in range(3)], "EPSG:5186"
    )
    archive = folder / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in sorted(folder.glob("roads.*")):
            z.write(part, f"data/{part.name}")
        z.writestr("data/notes.txt", "not a dataset\n")
    del shp
    return archive


def _inputs(folder: Path) -> list[Path]:
    """Three inputs in three CRSs and places: a sample raster, a GeoPackage, a zip."""
    gpkg = write_vector(
        folder / "points.gpkg", [Point(-73.98 + i * 1e-4, 40.75) for i in range(4)], "EPSG:4326"
    )
    return [SAMPLES / "ortho_025m_israel.tif", gpkg, _zip_of_shapefile(folder)]


def test_a_spec_verifier_accepts_mapgates_envelopes(tmp_path, checker, key_pair):
    private, public_pem = key_pair
    for path in _inputs(tmp_path):
        verdict = checker.check(path)
        envelope = compliance.attest(verdict, private, path).to_json()
        statement = spec_verify(envelope, public_pem)
        assert json.loads(envelope)["signatures"][0]["keyid"] == spec_key_id(public_pem)
        assert statement["predicateType"] == "https://mapgate.dev/verdict/v1"
        signed = statement["predicate"]["verdict"]
        assert signed["id"] == verdict.id and signed["verdict"] == verdict.verdict.value
        assert signed["packs"] == [p.model_dump(mode="json") for p in verdict.packs]
        salted = f"{verdict.id}:{verdict.zones.sha256}".encode()
        assert signed["zones"]["commitment"] == sha256(salted) and signed["engine"]
        assert statement["subject"][0]["digest"] == {"sha256": sha256(path.read_bytes())}
        assert statement["subject"][0]["name"] == path.name


def test_a_zip_is_a_subject_and_so_is_each_member_read(tmp_path, checker, key_pair):
    private, public_pem = key_pair
    archive = _zip_of_shapefile(tmp_path)
    verdict = checker.check(archive)
    statement = spec_verify(compliance.attest(verdict, private, archive).to_json(), public_pem)
    with zipfile.ZipFile(archive) as z:
        members = {n: sha256(z.read(n)) for n in z.namelist() if n.startswith("data/roads.")}
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    # The note was not read (the verdict says so): it is no subject.
    assert subjects == {"delivery.zip": sha256(archive.read_bytes())} | members
    assert len(members) >= 4 and verdict.verdict is not compliance.Effect.allow


def test_a_shapefile_s_parts_are_each_a_subject(tmp_path, checker, key_pair):
    private, public_pem = key_pair
    shp = write_vector(tmp_path / "b.shp", [Point(127.1, 37.5)], "EPSG:4326")
    verdict = checker.check(shp)
    statement = spec_verify(compliance.attest(verdict, private, shp).to_json(), public_pem)
    parts = {p.name: sha256(p.read_bytes()) for p in tmp_path.glob("b.*")}
    assert {s["name"]: s["digest"]["sha256"] for s in statement["subject"]} == parts


def test_zone_ids_and_geometry_are_never_signed(tmp_path, checker, key_pair):
    private, public_pem = key_pair
    path = SAMPLES / "kr_5k_buildings.gpkg"
    verdict = checker.check(path, reveal_zones=True)
    assert verdict.zones.hits  # the caller saw them ...
    statement = spec_verify(compliance.attest(verdict, private, path).to_json(), public_pem)
    zones = statement["predicate"]["verdict"]["zones"]
    assert set(zones) == {"touched", "classes", "commitment"}  # ... the attestation has none
    assert (
        zones["classes"] == verdict.zones.classes
        and statement["predicate"]["verdict"]["verdict"] == "deny"
    )


def test_a_file_changed_since_its_check_is_not_attested(tmp_path, checker, key_pair):
    private, _ = key_pair
    path = write_raster(tmp_path / "r.tif", "EPSG:32652", from_origin(300000, 4000000, 10, 10))
    verdict = checker.check(path)
    with path.open("r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(compliance.CannotAttest):
        compliance.attest(verdict, private, path)
    assert not list(tmp_path.glob("*.tmp"))


def test_the_key_id_is_the_sha256_of_the_raw_public_key(tmp_path):
    made = generate_key(tmp_path / "k")
    assert made.key_id == spec_key_id(made.public_path.read_bytes())
    assert made.private_path.stat().st_mode & 0o777 == 0o600
    private = serialization.load_pem_private_key(made.private_path.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert b"BEGIN PRIVATE KEY" in made.private_path.read_bytes()  # PKCS8
    with pytest.raises(compliance.AttestationError):
        generate_key(tmp_path / "k")
