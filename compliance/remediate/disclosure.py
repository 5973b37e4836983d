"""What a party without zone clearance may see of a remediation report.

Both verdicts are cut as ``compliance.disclosure`` cuts a check's. Of the actions, what
measures the zones is withheld: the area masked (the mask's whole area, also where the data
does not reach, says how large the zones are) and, for the conditions that act at the zones,
the counts of features and pixels they touched, which a submitter could compare between
uploads. The derivative itself shows only the coarse mask, which is why the mask is coarse.
The output is named, never placed: no server folder leaves.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from compliance.disclosure import undisclosed_verdict

__all__ = ["ZONE_CONDITIONS", "named_output", "undisclosed_report"]

# Conditions whose changes are measured at the zones.
ZONE_CONDITIONS = frozenset({"mask_zones", "strip_sensitive_attributes"})
_ZONE_COUNTS = ("pixels_masked", "features_dropped", "features_cut", "features_changed")


def undisclosed_report(document: dict[str, Any]) -> dict[str, Any]:
    """The report document (JSON form) as one without clearance may see it."""
    out = dict(document)
    out["original"] = undisclosed_verdict(document["original"])
    out["verdict"] = undisclosed_verdict(document["verdict"])
    out["actions"] = [_undisclosed_action(a) for a in document.get("actions") or []]
    return out


def _undisclosed_action(action: dict[str, Any]) -> dict[str, Any]:
    changes = dict(action.get("changes") or {})
    changes["area_masked_km2"] = None
    if action.get("condition") in ZONE_CONDITIONS:
        changes.update(dict.fromkeys(_ZONE_COUNTS))
    return {**action, "changes": changes}


def named_output(document: dict[str, Any]) -> dict[str, Any]:
    """The report with its output named by file name alone."""
    output = dict(document.get("output") or {})
    if "path" in output:
        output["path"] = PurePath(str(output["path"])).name
    return {**document, "output": output}
