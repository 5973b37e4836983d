"""Errors raised when a check cannot run at all.

A dataset that does not comply is not an error: it is a ``Verdict`` with findings.
These exceptions mean "could not check"::

    ComplianceError
    ├── UnreadableDataset (also OSError)     the input cannot be opened or decoded
    │   ├── UnsupportedFormat                no GDAL driver recognises it
    │   ├── UnsafeArchive                    a zip that breaks the extraction limits
    │   └── InputTooLarge                    over a configured size limit
    ├── RulePackError (also ValueError)      a pack file is invalid; names file and rule id
    │   └── UnknownRulePack (also LookupError)
    └── ZonesError (also ValueError)         the sensitive-zones source is unusable
"""

from __future__ import annotations

__all__ = [
    "ComplianceError",
    "InputTooLarge",
    "RulePackError",
    "UnknownRulePack",
    "UnreadableDataset",
    "UnsafeArchive",
    "UnsupportedFormat",
    "ZonesError",
]


class ComplianceError(Exception):
    """Base of every error the library raises on purpose."""


class UnreadableDataset(ComplianceError, OSError):
    """The input could not be opened or decoded as geodata."""


class UnsupportedFormat(UnreadableDataset):
    """No raster or vector driver recognises the input."""


class UnsafeArchive(UnreadableDataset):
    """A zip archive broke a safety limit (traversal, links, nesting, size, count)."""


class InputTooLarge(UnreadableDataset):
    """The input is larger than the configured limit."""


class RulePackError(ComplianceError, ValueError):
    """A rule pack failed validation."""


class UnknownRulePack(RulePackError, LookupError):
    """A pack name that matches no built-in pack and no file."""


class ZonesError(ComplianceError, ValueError):
    """The sensitive-zones source cannot be loaded."""
