"""mapgate's library: profile a map dataset, overlap sensitive zones, decide an export verdict."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Each public name and the module that holds it, imported on first use: `import compliance`
# stays cheap, audits' process pools and Dask load only when asked for, and the command
# line chooses how the readers' libraries are loaded before any of them is (cli.py).
_PUBLIC = {
    "AttestationError": "compliance.attestation",
    "AuditRun": "compliance.batch.run",
    "BadSignature": "compliance.attestation",
    "BrokenChain": "compliance.attestation",
    "CannotAttest": "compliance.attestation",
    "Checker": "compliance.checker",
    "ComplianceError": "compliance.errors",
    "Derivation": "compliance.attestation",
    "ENGINE_VERSION": "compliance.version",
    "Effect": "compliance.verdict",
    "Envelope": "compliance.attestation",
    "Finding": "compliance.verdict",
    "InputTooLarge": "compliance.errors",
    "MalformedEnvelope": "compliance.attestation",
    "Profile": "compliance.dataset_profile",
    "RulePack": "compliance.rules.packs",
    "RulePackError": "compliance.errors",
    "TrustedKey": "compliance.attestation",
    "UnknownKey": "compliance.attestation",
    "UnknownRulePack": "compliance.errors",
    "UnreadableDataset": "compliance.errors",
    "UnsafeArchive": "compliance.errors",
    "UnsupportedFormat": "compliance.errors",
    "Verdict": "compliance.verdict",
    "VerifiedAttestation": "compliance.attestation",
    "WrongFile": "compliance.attestation",
    "ZonesError": "compliance.errors",
    "attest": "compliance.attestation",
    "audit": "compliance.batch.run",
    "check": "compliance.checker",
    "load_pack": "compliance.rules.packs",
    "restrict_process_to_upload_drivers": "compliance.readers.upload_guard",
    "verify": "compliance.attestation",
    "verify_chain": "compliance.attestation",
}

__all__ = [
    "AttestationError",
    "AuditRun",
    "BadSignature",
    "BrokenChain",
    "CannotAttest",
    "Checker",
    "ComplianceError",
    "Derivation",
    "ENGINE_VERSION",
    "Effect",
    "Envelope",
    "Finding",
    "InputTooLarge",
    "MalformedEnvelope",
    "Profile",
    "RulePack",
    "RulePackError",
    "TrustedKey",
    "UnknownKey",
    "UnknownRulePack",
    "UnreadableDataset",
    "UnsafeArchive",
    "UnsupportedFormat",
    "Verdict",
    "VerifiedAttestation",
    "WrongFile",
    "ZonesError",
    "attest",
    "audit",
    "check",
    "load_pack",
    "restrict_process_to_upload_drivers",
    "verify",
    "verify_chain",
]

if TYPE_CHECKING:
    from compliance.attestation import (
        AttestationError,
        BadSignature,
        BrokenChain,
        CannotAttest,
        Derivation,
        Envelope,
        MalformedEnvelope,
        TrustedKey,
        UnknownKey,
        VerifiedAttestation,
        WrongFile,
        attest,
        verify,
        verify_chain,
    )
    from compliance.batch.run import AuditRun, audit
    from compliance.checker import Checker, check
    from compliance.dataset_profile import Profile
    from compliance.errors import (
        ComplianceError,
        InputTooLarge,
        RulePackError,
        UnknownRulePack,
        UnreadableDataset,
        UnsafeArchive,
        UnsupportedFormat,
        ZonesError,
    )
    from compliance.readers.upload_guard import restrict_process_to_upload_drivers
    from compliance.rules.packs import RulePack, load_pack
    from compliance.verdict import Effect, Finding, Verdict
    from compliance.version import ENGINE_VERSION


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'compliance' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
