"""Ed25519 signing keys: generate, write, load, and name them by their public key.

A key id is the lowercase hex sha256 of the 32 raw bytes of the Ed25519 public key, so
anyone holding the public key can compute it; it only helps choose which key to try
(DSSE: a key id is a hint, never a reason to trust).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from compliance.attestation.errors import AttestationError

__all__ = [
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "GeneratedKey",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
]

PRIVATE_KEY_FILE = "mapgate-signing.key"
PUBLIC_KEY_FILE = "mapgate-signing.pub"


@dataclass(frozen=True)
class GeneratedKey:
    """Where ``generate_key`` wrote a key pair, and the pair's key id."""

    private_path: Path
    public_path: Path
    key_id: str


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key id: hex sha256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM text."""
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def generate_key(out: Path) -> GeneratedKey:
    """Write a new key pair into folder ``out``: the private key PEM (PKCS8, mode 0600)
    and the public key PEM.

    Raises
    ------
    AttestationError
        Either file already exists: a signing key is never overwritten.
    """
    out.mkdir(parents=True, exist_ok=True)
    private_path, public_path = out / PRIVATE_KEY_FILE, out / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            raise AttestationError(f"{path} exists; a key is never overwritten")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: a file that appeared since the check above is not overwritten either; the
    # mode is set when the file is made, so the key is never readable by others.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = private.public_key()
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(public_key_pem(public))
    return GeneratedKey(private_path, public_path, key_id(public))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted Ed25519 private key PEM.

    Raises
    ------
    AttestationError
        The file cannot be read, or is not an unencrypted Ed25519 private key.
    """
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AttestationError(f"{path}: not a readable, unencrypted private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AttestationError(f"{path}: not an Ed25519 key")
    return key


def load_public_key(source: Path | str | bytes) -> Ed25519PublicKey:
    """Read an Ed25519 public key from a PEM file (a path) or PEM text.

    Raises
    ------
    AttestationError
        It cannot be read, or is not an Ed25519 public key.
    """
    try:
        pem = (
            source.read_bytes()
            if isinstance(source, Path)
            else (source.encode("ascii") if isinstance(source, str) else source)
        )
        key = serialization.load_pem_public_key(pem)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AttestationError(f"{source!s:.80}: not a readable public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AttestationError(f"{source!s:.80}: not an Ed25519 public key")
    return key
