"""Make an attestation: a verdict's statement, signed with Ed25519 in a DSSE envelope."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from compliance.attestation.dsse import Envelope, Signature, pae
from compliance.attestation.keys import key_id, load_private_key
from compliance.attestation.statement import PAYLOAD_TYPE, Derivation, build_statement
from compliance.attestation.subjects import subjects_for
from compliance.verdict import Verdict

__all__ = ["attest", "sign_payload"]


def sign_payload(body: bytes, key: Ed25519PrivateKey, payload_type: str = PAYLOAD_TYPE) -> Envelope:
    """Sign ``body`` as DSSE does: Ed25519 over PAE(payload_type, body)."""
    signature = key.sign(pae(payload_type, body))
    return Envelope(payload_type, body, (Signature(key_id(key.public_key()), signature),))


def attest(
    verdict: Verdict,
    key: Ed25519PrivateKey | Path,
    source: str | Path | None = None,
    *,
    derived_from: Derivation | None = None,
    attested_at: datetime | None = None,
) -> Envelope:
    """Sign ``verdict`` for the bytes it was given.

    Parameters
    ----------
    verdict
        A verdict from ``Checker.check``; zone ids and geometry are left out of what is
        signed (see ``shareable_verdict``).
    key
        The Ed25519 private key, or the path of its PEM file.
    source
        The path that was checked: its digests are taken again and must match the
        verdict's, and a zip's or folder's checked members become subjects too. None when
        the input is gone (an upload) or was never a file: the verdict's input is the subject.
    derived_from
        For a derivative (a masked or coarsened copy): the original's sha256 and the
        actions applied, so that ``verify_chain`` can follow it back.

    Raises
    ------
    CannotAttest
        ``source`` changed since it was checked.
    AttestationError
        ``key`` cannot be read as an Ed25519 private key.
    """
    private = load_private_key(key) if isinstance(key, Path) else key
    subjects = subjects_for(verdict, Path(source) if source is not None else None)
    body = build_statement(verdict, subjects, derived_from, attested_at)
    return sign_payload(body, private)
