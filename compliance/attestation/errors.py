"""Why an attestation cannot be made or is refused: one class per answer a receiver acts on.

AttestationError (ComplianceError, ValueError)
├── CannotAttest          the file changed since its check, or its members cannot be named
├── MalformedEnvelope     not a DSSE envelope of an in-toto statement mapgate understands
├── UnknownKey            no given public key matches the envelope's key ids or signature
├── BadSignature          a given key is the signer's, but the signature does not hold
├── WrongFile             the file's sha256 is none of the statement's subjects
└── BrokenChain           a derivative's attestation does not name the original's digest
"""

from __future__ import annotations

from compliance.errors import ComplianceError

__all__ = [
    "AttestationError",
    "BadSignature",
    "BrokenChain",
    "CannotAttest",
    "MalformedEnvelope",
    "UnknownKey",
    "WrongFile",
]


class AttestationError(ComplianceError, ValueError):
    """An attestation could not be made, or was refused."""


class CannotAttest(AttestationError):
    """The verdict cannot be bound to the bytes at hand (they changed since the check)."""


class MalformedEnvelope(AttestationError):
    """The envelope or its statement is not well formed, or of a type mapgate does not sign."""


class UnknownKey(AttestationError):
    """None of the given public keys signed this envelope."""


class BadSignature(AttestationError):
    """A given key's id is on the envelope, yet its signature does not verify: tampered."""


class WrongFile(AttestationError):
    """The file is not one the attestation is about."""


class BrokenChain(AttestationError):
    """A derivative's attestation does not lead back to the original's."""
