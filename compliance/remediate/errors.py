"""Errors that stop a remediation before it writes anything."""

from __future__ import annotations

from compliance.errors import ComplianceError

__all__ = ["OutputExists", "RemediationError"]


class RemediationError(ComplianceError, ValueError):
    """The remediation cannot run as asked (an output of the wrong kind, a bad mask mode)."""


class OutputExists(RemediationError, FileExistsError):
    """The output exists (and ``force`` was not given), or it is the input itself."""
