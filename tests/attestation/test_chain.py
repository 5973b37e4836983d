"""Derivatives and key rotation, through the library: a chain original -> derivative
verifies and a broken link does not; a retired key still verifies what it signed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling

import compliance
from compliance import BrokenChain, Derivation, TrustedKey, UnknownKey, WrongFile
from compliance.attestation import generate_key, load_public_key

SAMPLES = Path(__file__).resolve().parents[2] / "sample_maps"
ORIGINAL = SAMPLES / "ortho_025m_israel.tif"


def coarsen(source: Path, dest: Path, factor: int) -> Path:
    """A coarsened copy, made with rasterio alone: ``factor`` times larger pixels."""
    with rasterio.open(source) as src:
        height, width = src.height // factor, src.width // factor
        data = src.read(out_shape=(src.count, height, width), resampling=Resampling.average)
        profile = src.profile | {
            "width": width,
            "height": height,
            "transform": src.transform * src.transform.scale(factor, factor),
        }
    with rasterio.open(dest, "w", **profile) as dst:
        dst.write(data.astype(profile["dtype"]))
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("keys")
    a, b = generate_key(folder / "a"), generate_key(folder / "b")
    return a, b


@pytest.fixture(scope="module")
def chain(tmp_path_factory, checker, keys):
    """The original's attestation and a coarsened derivative's, both signed with key A."""
    key_a = keys[0].private_path
    derivative = coarsen(ORIGINAL, tmp_path_factory.mktemp("d") / "ortho_2m.tif", 8)
    original_verdict = checker.check(ORIGINAL)
    made = Derivation(
        name=ORIGINAL.name, digest={"sha256": sha256(ORIGINAL)}, actions=["coarsen_resolution"]
    )
    return (
        derivative,
        compliance.attest(original_verdict, key_a, ORIGINAL),
        compliance.attest(checker.check(derivative), key_a, derivative, derived_from=made),
        original_verdict,
    )


def test_a_chain_original_to_derivative_verifies(chain, keys):
    derivative, original_env, derivative_env, original_verdict = chain
    public = [load_public_key(keys[0].public_path)]
    made, source = compliance.verify_chain(
        derivative_env.to_json(), original_env.to_json(), public, derivative, ORIGINAL
    )
    assert made.statement.derived_from is not None
    assert made.statement.derived_from.actions == ["coarsen_resolution"]
    assert made.subject is not None and made.subject.sha256 == sha256(derivative)
    assert source.verdict["verdict"] == original_verdict.verdict.value == "allow_with_conditions"
    assert "coarsen_resolution" in source.verdict["conditions"]


def test_a_broken_link_is_refused(chain, keys, tmp_path, checker):
    derivative, original_env, derivative_env, _ = chain
    public = [load_public_key(keys[0].public_path)]
    key_a = keys[0].private_path
    # Chained to an original it was not made from.
    other = compliance.attest(checker.check(SAMPLES / "sat_10m_korea.tif"), key_a,
                              SAMPLES / "sat_10m_korea.tif")  # fmt: skip
    with pytest.raises(BrokenChain):
        compliance.verify_chain(derivative_env, other, public)
    # A derivative's attestation that names no original at all.
    with pytest.raises(BrokenChain):
        compliance.verify_chain(original_env, original_env, public)
    # A derivative claiming an original whose digest is one byte off.
    digest = sha256(ORIGINAL)
    off = digest[:-1] + ("1" if digest[-1] == "0" else "0")
    wrong = Derivation(digest={"sha256": off}, actions=["mask_zones"])
    forged = compliance.attest(checker.check(derivative), key_a, derivative, derived_from=wrong)
    with pytest.raises(BrokenChain):
        compliance.verify_chain(forged, original_env, public)
    # The right chain, but the file at hand is the original, not the derivative.
    with pytest.raises(WrongFile):
        compliance.verify_chain(derivative_env, original_env, public, ORIGINAL)


def test_an_original_changed_after_the_derivative_breaks_the_chain(chain, keys, tmp_path, checker):
    derivative, _, derivative_env, _ = chain
    public = [load_public_key(keys[0].public_path)]
    changed = tmp_path / ORIGINAL.name
    with rasterio.open(ORIGINAL) as src:
        profile, data = src.profile, src.read()
    with rasterio.open(changed, "w", **profile) as dst:
        dst.write(np.flip(data, axis=2))
    changed_env = compliance.attest(checker.check(changed), keys[0].private_path, changed)
    with pytest.raises(BrokenChain):
        compliance.verify_chain(derivative_env, changed_env, public)


def test_a_retired_key_verifies_what_it_signed_while_in_use(chain, keys):
    _, original_env, _, _ = chain
    a, b = (load_public_key(k.public_path) for k in keys)
    now = datetime.now(UTC)
    retired = TrustedKey(
        a, not_before=now - timedelta(days=30), not_after=now + timedelta(minutes=5)
    )
    assert compliance.verify(original_env, [TrustedKey(b), retired]).key_id == keys[0].key_id
    # Times given without a zone are UTC, as the service's settings may give them.
    naive = TrustedKey(a, not_after=(now + timedelta(minutes=5)).replace(tzinfo=None))
    assert compliance.verify(original_env, [naive]).key_id == keys[0].key_id
    # Retired before it signed this: a stolen old key cannot sign new verdicts.
    expired = TrustedKey(a, not_after=now - timedelta(days=1))
    with pytest.raises(UnknownKey):
        compliance.verify(original_env, [TrustedKey(b), expired])
    with pytest.raises(UnknownKey):
        compliance.verify(original_env, [b])
