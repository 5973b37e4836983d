"""DSSE v1 envelopes (secure-systems-lab/dsse): pre-authentication encoding, sign, parse.

The signature covers PAE(payloadType, payload), so neither the type nor a byte of the
payload can change without breaking it. Signatures are Ed25519; the key id is a hint.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from compliance.attestation.errors import MalformedEnvelope

__all__ = ["Envelope", "Signature", "pae", "parse_envelope"]


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSEv1 pre-authentication encoding: the exact bytes that are signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


@dataclass(frozen=True)
class Signature:
    """One signature of an envelope; ``keyid`` is an unauthenticated hint."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A DSSE JSON envelope: the payload bytes, their type, and signatures over both."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _b64(value: object, what: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE: verifiers accept either)."""
    if not isinstance(value, str):
        raise MalformedEnvelope(f"{what} is not a base64 string")
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEnvelope(f"{what} is not valid base64") from None


def parse_envelope(raw: bytes | str | dict[str, Any]) -> Envelope:
    """Decode a JSON envelope; fields DSSE does not define are ignored.

    Raises
    ------
    MalformedEnvelope
        Not JSON, or ``payload``, ``payloadType`` or a ``sig`` missing or undecodable.
    """
    try:
        data = raw if isinstance(raw, dict) else json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedEnvelope("the attestation is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedEnvelope("the attestation is not a JSON object")
    payload_type = data.get("payloadType")
    if not isinstance(payload_type, str):
        raise MalformedEnvelope("payloadType is missing")
    if "payload" not in data:
        raise MalformedEnvelope("payload is missing")
    payload = _b64(data["payload"], "payload")
    sigs = data.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise MalformedEnvelope("the envelope has no signatures")
    signatures = []
    for n, item in enumerate(sigs):
        if not isinstance(item, dict) or "sig" not in item:
            raise MalformedEnvelope(f"signature {n} has no sig")
        keyid = item.get("keyid") or ""  # unset is the same as empty
        if not isinstance(keyid, str):
            raise MalformedEnvelope(f"signature {n}: keyid is not a string")
        signatures.append(Signature(keyid, _b64(item["sig"], f"signature {n}")))
    return Envelope(payload_type, payload, tuple(signatures))
