"""The remediation report: the first verdict, what was done, the derivative and its verdict."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from compliance.remediate.actions import ActionChanges, ActionStatus
from compliance.verdict import Verdict

__all__ = ["ActionReport", "OutputInfo", "RemediationReport"]


class ActionReport(BaseModel):
    """What became of one condition."""

    condition: str
    status: ActionStatus
    reason: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    rules: list[str] = Field(default_factory=list, description="The rules that asked for it.")
    changes: ActionChanges = Field(default_factory=ActionChanges)


class OutputInfo(BaseModel):
    """The derivative written."""

    path: str
    sha256: str
    size: int


class RemediationReport(BaseModel):
    """``original``: the input's verdict; ``verdict``: the derivative's, from a re-check with the
    same checker (same schema as a check)."""

    original: Verdict
    verdict: Verdict
    actions: list[ActionReport]
    output: OutputInfo
    placement: str | None = Field(
        default=None,
        description="Set when the derivative carries no coordinates: how its re-check placed it.",
    )

    left_out: list[str] = Field(
        default_factory=list,
        description="Geometry columns beyond a layer's first (layer.column), left out of a "
        "derivative no action rewrote: a GeoPackage would keep them as blobs no check reads.",
    )

    def to_json(self, **kwargs: Any) -> str:
        return self.model_dump_json(**kwargs)
