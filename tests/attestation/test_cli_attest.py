"""``mapgate keys``, ``check --sign``, ``audit --sign`` and ``mapgate verify`` as a receiver
runs them: real processes, real files, and every tamper refused with its own exit code."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from shapely.geometry import LineString, Point

import compliance
from compliance.attestation import Derivation
from tests.attestation.test_spec import spec_key_id, spec_pae, spec_verify
from tests.builders import SAMPLES, write_vector

MAPGATE = [sys.executable, "-m", "compliance.cli.main"]
OK, BAD_SIGNATURE, WRONG_FILE, UNKNOWN_KEY, MALFORMED, BROKEN_CHAIN = 0, 40, 41, 42, 43, 44
VERDICT_CODES = {"allow": 0, "allow_with_conditions": 10, "review": 20, "deny": 30}


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAPGATE, *map(str, args)], capture_output=True, text=True, timeout=300)


def make_inputs(folder: Path) -> list[Path]:
    """Three datasets in three CRSs and places: a sample orthophoto (Israeli TM), a
    GeoPackage over Seoul (EPSG:5186) and a zipped shapefile near Chicago (EPSG:4326)."""
    ortho = Path(shutil.copy(SAMPLES / "ortho_025m_israel.tif", folder / "ortho.tif"))
    gpkg = write_vector(
        folder / "seoul.gpkg", [LineString([(198000, 551000), (198400, 551300)])], "EPSG:5186"
    )
    parts = folder / "parts"
    parts.mkdir()
    write_vector(
        parts / "pts.shp", [Point(-87.63 + i * 1e-3, 41.88) for i in range(3)], "EPSG:4326"
    )
    archive = folder / "pts.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(parts.iterdir()):
            z.write(p, p.name)
    return [ortho, gpkg, archive]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory):
    """Keys A and B; three inputs, each checked and signed with A by the CLI."""
    root = tmp_path_factory.mktemp("signed")
    for name in ("a", "b"):
        result = run("keys", "generate", "--out", root / name)
        assert result.returncode == 0, result.stderr
    cases = []
    for path in make_inputs(root):
        out = root / f"{path.name}.intoto.json"
        result = run("check", path, "--sign", root / "a/mapgate-signing.key",
                     "--attestation", out, "--format", "json")  # fmt: skip
        verdict = json.loads(result.stdout)
        assert result.returncode == VERDICT_CODES[verdict["verdict"]], result.stderr
        cases.append((path, out, verdict))
    return root, cases


def public(root: Path, name: str = "a") -> Path:
    return root / name / "mapgate-signing.pub"


def edited(envelope: Path, dest: Path, change) -> Path:
    data = json.loads(envelope.read_text())
    change(data)
    dest.write_text(json.dumps(data))
    return dest


def test_keys_generate_writes_a_private_key_only_its_owner_reads(signed):
    root, _ = signed
    private = root / "a/mapgate-signing.key"
    assert private.stat().st_mode & 0o777 == 0o600
    pem = public(root).read_bytes()
    assert b"BEGIN PUBLIC KEY" in pem and b"BEGIN PRIVATE KEY" in private.read_bytes()
    before = private.read_bytes()
    again = run("keys", "generate", "--out", root / "a")
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert private.read_bytes() == before
    fresh = run("keys", "generate", "--out", root / "c")
    assert fresh.stdout.strip() == spec_key_id(public(root, "c").read_bytes())


def test_signed_verdicts_verify_offline(signed):
    root, cases = signed
    for path, out, verdict in cases:
        statement = spec_verify(out.read_bytes(), public(root).read_bytes())
        assert statement["predicate"]["verdict"]["id"] == verdict["id"]
        result = run("verify", out, path, "--key", public(root), "--format", "json")
        assert result.returncode == OK, result.stderr
        doc = json.loads(result.stdout)
        assert (
            doc["ok"] is True and doc["subject"]["digest"]["sha256"] == verdict["input"]["sha256"]
        )
        assert doc["statement"]["predicate"]["verdict"]["verdict"] == verdict["verdict"]
        text = run("verify", out, path, "--key", public(root, "b"), "--key", public(root))
        assert text.returncode == OK and f"verdict  {verdict['verdict']}" in text.stdout


def _flip_a_byte(path: Path, dest: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    dest.write_bytes(bytes(data))
    return dest


def _payload(data: dict) -> dict:
    return json.loads(base64.b64decode(data["payload"]))


def _set_payload(data: dict, statement: dict) -> None:
    data["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()


def _allow(data: dict) -> None:
    statement = _payload(data)
    statement["predicate"]["verdict"]["verdict"] = "allow"
    statement["predicate"]["verdict"]["conditions"] = []
    _set_payload(data, statement)


def _retype(data: dict) -> None:
    data["payloadType"] = "application/json"


def _flip_signature(data: dict) -> None:
    sig = bytearray(base64.b64decode(data["signatures"][0]["sig"]))
    sig[0] ^= 0x80
    data["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()


@pytest.mark.parametrize(
    ("tamper", "code"),
    [(_allow, BAD_SIGNATURE), (_retype, BAD_SIGNATURE), (_flip_signature, BAD_SIGNATURE)],
)
def test_every_tampered_envelope_is_refused(signed, tmp_path, tamper, code):
    root, cases = signed
    for path, out, _ in cases:
        bad = edited(out, tmp_path / out.name, tamper)
        result = run("verify", bad, path, "--key", public(root))
        assert result.returncode == code, (tamper.__name__, path.name, result.stderr)
        assert "OK" not in result.stdout and "Traceback" not in result.stderr


def test_one_byte_of_the_file_changed_is_a_wrong_file(signed, tmp_path):
    root, cases = signed
    for path, out, _ in cases:
        changed = _flip_a_byte(path, tmp_path / path.name)
        result = run("verify", out, changed, "--key", public(root), "--format", "json")
        assert result.returncode == WRONG_FILE, (path.name, result.stderr)
        doc = json.loads(result.stdout)
        assert doc["ok"] is False and doc["error"] == "WrongFile"
    # Another dataset's attestation does not vouch for this file either.
    result = run("verify", cases[0][1], cases[1][0], "--key", public(root))
    assert result.returncode == WRONG_FILE


def test_a_swapped_key_is_an_unknown_key(signed):
    root, cases = signed
    for path, out, _ in cases:
        result = run("verify", out, path, "--key", public(root, "b"))
        assert result.returncode == UNKNOWN_KEY, result.stderr


def test_a_forgery_under_the_right_key_id_is_a_bad_signature(signed, tmp_path):
    """Key B signs an 'allow' and claims key A's id: the id is a hint, never trusted."""
    root, cases = signed
    key_b = serialization.load_pem_private_key(
        (root / "b/mapgate-signing.key").read_bytes(), password=None
    )
    for path, out, _ in cases:

        def forge(data: dict) -> None:
            _allow(data)
            body = base64.b64decode(data["payload"])
            sig = key_b.sign(spec_pae(data["payloadType"], body))  # type: ignore[union-attr]
            data["signatures"][0]["sig"] = base64.b64encode(sig).decode()

        forged = edited(out, tmp_path / out.name, forge)
        assert run("verify", forged, path, "--key", public(root)).returncode == BAD_SIGNATURE
        assert run("verify", forged, path, "--key", public(root, "b")).returncode == OK


def test_malformed_envelopes_are_refused(signed, tmp_path):
    root, cases = signed
    path, out, _ = cases[0]
    key_a = serialization.load_pem_private_key(
        (root / "a/mapgate-signing.key").read_bytes(), password=None
    )

    def signed_as_plain_json(data: dict) -> None:  # a valid signature over the wrong type
        _retype(data)
        body = base64.b64decode(data["payload"])
        sig = key_a.sign(spec_pae(data["payloadType"], body))  # type: ignore[union-attr]
        data["signatures"][0]["sig"] = base64.b64encode(sig).decode()

    broken = [
        tmp_path / "not-json.json",
        edited(out, tmp_path / "no-payload.json", lambda d: d.pop("payload")),
        edited(out, tmp_path / "no-signatures.json", lambda d: d.update(signatures=[])),
        edited(out, tmp_path / "bad-base64.json", lambda d: d.update(payload="%%%")),
        edited(out, tmp_path / "plain-json.json", signed_as_plain_json),
    ]
    broken[0].write_text("{not json")
    for bad in broken:
        result = run("verify", bad, path, "--key", public(root))
        assert result.returncode == MALFORMED, (bad.name, result.stderr)
        assert "Traceback" not in result.stderr


def test_verify_usage_errors(signed, tmp_path):
    root, cases = signed
    path, out, _ = cases[0]
    assert run("verify", out, path).returncode == 2  # no key
    not_a_key = tmp_path / "k.pem"
    not_a_key.write_text("hello")
    assert run("verify", out, path, "--key", not_a_key).returncode == 2
    assert run("verify", tmp_path / "absent.json", "--key", public(root)).returncode == 3
    assert run("verify", out, tmp_path / "absent.tif", "--key", public(root)).returncode == 3


def test_a_chain_is_followed_by_verify_original(signed, tmp_path, checker):
    root, cases = signed
    original, original_att, _ = cases[0]
    derivative = Path(shutil.copy(SAMPLES / "sat_10m_korea.tif", tmp_path / "derived.tif"))
    link = Derivation(
        digest={"sha256": hashlib.sha256(original.read_bytes()).hexdigest()},
        actions=["coarsen_resolution"],
    )
    key = root / "a/mapgate-signing.key"
    att = tmp_path / "derived.intoto.json"
    att.write_text(compliance.attest(checker.check(derivative), key, derivative,
                                     derived_from=link).to_json())  # fmt: skip
    ok = run("verify", att, derivative, "--key", public(root), "--original", original_att)
    assert ok.returncode == OK, ok.stderr
    assert "derived  from sha256" in ok.stdout
    broken = run("verify", att, derivative, "--key", public(root), "--original", cases[1][1])
    assert broken.returncode == BROKEN_CHAIN


def test_check_sign_refuses_an_unusable_key_before_checking(signed, tmp_path):
    root, cases = signed
    path = cases[0][0]
    out = tmp_path / "a.json"
    result = run("check", path, "--sign", public(root), "--attestation", out)
    assert result.returncode == 2 and not out.exists() and "verdict" not in result.stdout
    alone = run("check", path, "--sign", root / "a/mapgate-signing.key")
    assert alone.returncode == 2
    before = path.read_bytes()
    onto_itself = run(
        "check", path, "--sign", root / "a/mapgate-signing.key", "--attestation", path
    )
    assert onto_itself.returncode == 2 and path.read_bytes() == before


def test_audit_signs_one_attestation_per_dataset(signed, tmp_path):
    root, _ = signed
    data = tmp_path / "data"
    data.mkdir()
    inputs = make_inputs(data)
    out, atts = tmp_path / "audit", tmp_path / "attestations"
    result = run("audit", data, "--workers", "0", "--out", out, "--sign",
                 root / "a/mapgate-signing.key", "--attestations", atts)  # fmt: skip
    assert result.returncode == 0, result.stderr
    with (out / "results.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "checked"]
    assert {Path(r["path"]).name for r in rows} >= {p.name for p in inputs}
    assert sorted(p.name for p in atts.iterdir()) == sorted(
        f"{r['sha256']}.intoto.json" for r in rows
    )
    for row in rows:
        att = atts / f"{row['sha256']}.intoto.json"
        statement = spec_verify(att.read_bytes(), public(root).read_bytes())
        assert statement["predicate"]["verdict"]["verdict"] == row["verdict"]
        if Path(row["path"]).is_file():
            assert run("verify", att, row["path"], "--key", public(root)).returncode == OK


def test_the_command_line_loads_cryptography_only_to_sign_or_verify():
    code = "import sys, compliance.cli.main; print('cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_the_receivers_script_in_the_docs_verifies_with_the_public_key_alone(signed, tmp_path):
    root, cases = signed
    doc = (Path(__file__).resolve().parents[2] / "docs/attestations.md").read_text()
    script = tmp_path / "verify.py"
    script.write_text(doc.split("```python\n")[1].split("```")[0])
    assert len(script.read_text().splitlines()) <= 20
    for path, out, verdict in cases:
        ok = subprocess.run(
            [sys.executable, "-I", script, out, path, public(root)], capture_output=True, text=True
        )
        assert ok.returncode == 0 and ok.stdout.strip() == verdict["verdict"], ok.stderr
        other = _flip_a_byte(path, tmp_path / path.name)
        wrong = subprocess.run(
            [sys.executable, "-I", script, out, other, public(root)], capture_output=True, text=True
        )
        assert wrong.returncode != 0 and "wrong file" in wrong.stderr
