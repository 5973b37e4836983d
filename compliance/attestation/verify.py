"""Verify an attestation: a trusted key signed it, the file is its subject, the chain holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from compliance.attestation.dsse import Envelope, pae, parse_envelope
from compliance.attestation.errors import (
    BadSignature,
    BrokenChain,
    MalformedEnvelope,
    UnknownKey,
    WrongFile,
)
from compliance.attestation.keys import key_id
from compliance.attestation.statement import PAYLOAD_TYPE, Statement, Subject, parse_statement
from compliance.attestation.subjects import file_sha256

__all__ = ["TrustedKey", "VerifiedAttestation", "as_utc", "verify", "verify_chain"]


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time; a naive time is taken to be UTC already."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class TrustedKey:
    """A public key the receiver trusts, while it was in use: a retired key still verifies
    what it signed before ``not_after``, and nothing it claims to have signed later."""

    public_key: Ed25519PublicKey
    not_before: datetime | None = None
    not_after: datetime | None = None

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def valid_at(self, moment: datetime | None) -> bool:
        if self.not_before is None and self.not_after is None:
            return True
        moment, start, end = as_utc(moment), as_utc(self.not_before), as_utc(self.not_after)
        if moment is None:
            return False
        if start is not None and moment < start:
            return False
        return end is None or moment <= end


@dataclass(frozen=True)
class VerifiedAttestation:
    """An attestation that held: who signed it, what it is about, and the verdict."""

    statement: Statement
    key_id: str
    subject: Subject | None  # the subject the given file matched, if a file was given

    @property
    def verdict(self) -> dict[str, Any]:
        return self.statement.verdict


def _trusted(keys: Sequence[TrustedKey | Ed25519PublicKey]) -> list[TrustedKey]:
    return [k if isinstance(k, TrustedKey) else TrustedKey(k) for k in keys]


def _signer(envelope: Envelope, keys: list[TrustedKey]) -> TrustedKey:
    """The first key whose signature holds; key ids only tell which failure to report."""
    message = pae(envelope.payload_type, envelope.payload)
    for signature in envelope.signatures:
        for key in keys:
            try:
                key.public_key.verify(signature.sig, message)
            except InvalidSignature:
                continue
            return key
    ours = {k.key_id for k in keys}
    if any(s.keyid in ours for s in envelope.signatures):
        raise BadSignature("the signature does not match the envelope: it was altered")
    named = ", ".join(s.keyid[:16] or "(none)" for s in envelope.signatures)
    raise UnknownKey(f"signed by key id {named}, which is none of the given keys")


def _signed_at(statement: Statement) -> datetime | None:
    value = statement.predicate.get("attestedAt")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def verify(
    envelope: Envelope | bytes | str | dict[str, Any],
    keys: Sequence[TrustedKey | Ed25519PublicKey],
    file: Path | None = None,
) -> VerifiedAttestation:
    """Verify a mapgate attestation, offline, with public keys alone.

    Parameters
    ----------
    envelope
        The DSSE envelope, parsed or as its JSON.
    keys
        The public keys to trust, each optionally with the period it was in use.
    file
        When given, its sha256 must be one of the statement's subjects.

    Raises
    ------
    MalformedEnvelope, UnknownKey, BadSignature, WrongFile
        In that order of checking; the first that applies.
    """
    env = envelope if isinstance(envelope, Envelope) else parse_envelope(envelope)
    trusted = _trusted(keys)
    signer = _signer(env, trusted)
    # DSSE: the type is judged after the signature, and the bytes verified are the ones parsed.
    if env.payload_type != PAYLOAD_TYPE:
        raise MalformedEnvelope(f"payload type {env.payload_type!r} is not {PAYLOAD_TYPE}")
    statement = parse_statement(env.payload)
    if not signer.valid_at(_signed_at(statement)):
        raise UnknownKey(f"key {signer.key_id[:16]} was not in use when this was signed")
    subject = None
    if file is not None:
        digest = file_sha256(file)
        subject = next((s for s in statement.subject if s.sha256 == digest), None)
        if subject is None:
            raise WrongFile(f"{file.name} (sha256 {digest[:16]}...) is not what was checked")
    return VerifiedAttestation(statement, signer.key_id, subject)


def verify_chain(
    derivative: Envelope | bytes | str | dict[str, Any],
    original: Envelope | bytes | str | dict[str, Any],
    keys: Sequence[TrustedKey | Ed25519PublicKey],
    derivative_file: Path | None = None,
    original_file: Path | None = None,
) -> tuple[VerifiedAttestation, VerifiedAttestation]:
    """Verify both attestations and that the derivative names the original's digest.

    Raises
    ------
    BrokenChain
        The derivative names no original, or one that is none of the original's subjects.
    """
    made = verify(derivative, keys, derivative_file)
    source = verify(original, keys, original_file)
    link = made.statement.derived_from
    if link is None:
        raise BrokenChain("the derivative's attestation names no original")
    if link.sha256 not in {s.sha256 for s in source.statement.subject}:
        raise BrokenChain(f"the derivative was made from sha256 {link.sha256}, not this original")
    return made, source
