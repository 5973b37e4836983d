"""mapgate's library: profile a map dataset, overlap sensitive zones, decide an export verdict."""

from compliance.checker import Checker, check
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
from compliance.packs import RulePack, load_pack
from compliance.profile import Profile
from compliance.verdict import Effect, Finding, Verdict
from compliance.version import ENGINE_VERSION

__all__ = [
    "Checker",
    "ComplianceError",
    "ENGINE_VERSION",
    "Effect",
    "Finding",
    "InputTooLarge",
    "Profile",
    "RulePack",
    "RulePackError",
    "UnknownRulePack",
    "UnreadableDataset",
    "UnsafeArchive",
    "UnsupportedFormat",
    "Verdict",
    "ZonesError",
    "audit",
    "check",
    "load_pack",
]


def __getattr__(name: str) -> object:
    # audit pulls in process pools and dask; import it only when asked for.
    if name == "audit":
        from compliance.audit import audit

        return audit
    raise AttributeError(name)
