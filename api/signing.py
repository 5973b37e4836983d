"""The service's signing keys: the current one signs every verdict; all are published.

Loaded once when the app starts, so a key that cannot be read stops the service before
it answers a request. ``cryptography`` is imported only when a key is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from api.settings import Settings

__all__ = ["ServiceSigner", "build_signer"]

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from compliance import Verdict


@dataclass(frozen=True)
class PublishedKey:
    """A public key as GET /v1/keys publishes it."""

    key_id: str
    pem: str
    status: str  # "current" or "retired"
    not_before: datetime | None
    not_after: datetime | None


class ServiceSigner:
    """Signs verdicts with the configured key; knows every key a receiver may need."""

    def __init__(self, key: Ed25519PrivateKey | None, published: list[PublishedKey]) -> None:
        self.key = key
        self.published = published

    def sign(self, verdict: Verdict) -> tuple[str, str] | None:
        """The envelope JSON and the signing key id; None when no signing key is configured.

        An upload is gone once checked, so the subject is the upload as the verdict names
        it (its name and sha256); zone ids and geometry are never signed.
        """
        if self.key is None:
            return None
        from compliance.attestation import attest

        envelope = attest(verdict, self.key)
        return envelope.to_json(), envelope.signatures[0].keyid


def build_signer(settings: Settings) -> ServiceSigner:
    """The signer the settings describe (one that signs nothing when no key is set).

    Raises
    ------
    AttestationError
        A configured key cannot be read.
    """
    if settings.signing_key is None and not settings.retired_keys:
        return ServiceSigner(None, [])
    from compliance.attestation import key_id, load_private_key, load_public_key
    from compliance.attestation.keys import public_key_pem
    from compliance.attestation.verify import as_utc

    key = load_private_key(settings.signing_key) if settings.signing_key else None
    published = []
    if key is not None:
        public = key.public_key()
        published.append(
            PublishedKey(
                key_id(public),
                public_key_pem(public),
                "current",
                as_utc(settings.signing_key_not_before),
                None,
            )
        )
    for retired in settings.retired_keys:
        public = load_public_key(retired.path)
        published.append(
            PublishedKey(
                key_id(public),
                public_key_pem(public),
                "retired",
                as_utc(retired.not_before),
                as_utc(retired.not_after),
            )
        )
    return ServiceSigner(key, published)
