"""Signed verdicts: in-toto statements in DSSE envelopes, signed with Ed25519.

Importing this package loads ``cryptography``; ``compliance`` loads it only when asked.
"""

from compliance.attestation.dsse import Envelope, Signature, pae, parse_envelope
from compliance.attestation.errors import (
    AttestationError,
    BadSignature,
    BrokenChain,
    CannotAttest,
    MalformedEnvelope,
    UnknownKey,
    WrongFile,
)
from compliance.attestation.keys import generate_key, key_id, load_private_key, load_public_key
from compliance.attestation.sign import attest
from compliance.attestation.statement import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Derivation,
    Statement,
    Subject,
)
from compliance.attestation.verify import TrustedKey, VerifiedAttestation, verify, verify_chain

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "AttestationError",
    "BadSignature",
    "BrokenChain",
    "CannotAttest",
    "Derivation",
    "Envelope",
    "MalformedEnvelope",
    "Signature",
    "Statement",
    "Subject",
    "TrustedKey",
    "UnknownKey",
    "VerifiedAttestation",
    "WrongFile",
    "attest",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "pae",
    "parse_envelope",
    "verify",
    "verify_chain",
]
