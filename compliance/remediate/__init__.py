"""Remediation: apply a verdict's conditions to make a derivative, then re-check it.

check -> plan (conditions and parameters from the findings) -> actions (one per
condition and data kind, see ``actions`` and ``registry``) -> write -> re-check -> report.
"""

from compliance.remediate.actions import (
    ActionChanges,
    ActionContext,
    ActionFunction,
    ActionResult,
    ActionStatus,
    MaskMode,
    Placement,
)
from compliance.remediate.registry import ACTIONS, ORDER, action_for

__all__ = [
    "ACTIONS",
    "ORDER",
    "ActionChanges",
    "ActionContext",
    "ActionFunction",
    "ActionResult",
    "ActionStatus",
    "MaskMode",
    "Placement",
    "action_for",
]
