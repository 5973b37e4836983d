"""Remediation: apply a verdict's conditions to make a derivative, then re-check it.

check -> plan (conditions and parameters from the findings) -> actions (one per
condition and data kind, see ``actions`` and ``registry``) -> write -> re-check -> report.
``Checker.remediate`` is the entry point.
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
from compliance.remediate.errors import OutputExists, RemediationError
from compliance.remediate.plan import PlannedCondition, plan
from compliance.remediate.registry import ACTIONS, ORDER, action_for
from compliance.remediate.report import ActionReport, OutputInfo, RemediationReport
from compliance.remediate.zone_mask import coarse_mask

__all__ = [
    "ACTIONS",
    "ORDER",
    "ActionChanges",
    "ActionContext",
    "ActionFunction",
    "ActionReport",
    "ActionResult",
    "ActionStatus",
    "MaskMode",
    "OutputExists",
    "OutputInfo",
    "Placement",
    "PlannedCondition",
    "RemediationError",
    "RemediationReport",
    "action_for",
    "coarse_mask",
    "plan",
]
