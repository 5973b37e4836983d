"""API keys: hashing, constant-time lookup, and the caller a request acts as."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from api.settings import ApiKey, Role

__all__ = ["Caller", "DEV_CALLER_NAME", "bearer_token", "find_caller", "hash_key"]

DEV_CALLER_NAME = "dev"


@dataclass(frozen=True)
class Caller:
    """Who is asking: the key's name and its role."""

    name: str
    role: Role

    @property
    def is_auditor(self) -> bool:
        return self.role == "auditor"


def hash_key(secret: str) -> str:
    """The hex sha256 under which a key is configured (``printf %s KEY | sha256sum``)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def find_caller(keys: list[ApiKey], secret: str) -> Caller | None:
    """The caller whose key hashes to ``secret``'s hash; every key is compared, in constant time."""
    presented = hash_key(secret).encode("ascii")
    found: ApiKey | None = None
    for key in keys:
        if hmac.compare_digest(presented, key.sha256.encode("ascii")):
            found = key
    return Caller(found.name, found.role) if found else None
