"""What a submitter may learn about the sensitive zones: whether its data touches any, and
which classes it touched. Nothing more, in any part of the answer.

Areas, counts, untouched classes, zone ids, the zones file's name and hash are withheld,
so that a submitter cannot map the zones by uploading boxes and reading numbers back
(a binary search on ``overlap_km2`` located a zone's buffered edge to 0.1 m in 75
requests). Auditors see the stored verdict whole. Verdicts are stored whole and
withheld when they are read, so an auditor always sees what the check found.
"""

from __future__ import annotations

from typing import Any

# The one zone fact a submitter already sees in ``zones.classes``.
_SHOWN_ZONE_FACTS = {"zones.classes"}


def zones_touched(zones: dict[str, Any]) -> bool | None:
    """Whether the data touched any zone; None when its location is unknown."""
    count = zones.get("count")
    if count is None:
        return None
    return bool(count) or bool(zones.get("classes"))


def submitter_verdict(document: dict[str, Any]) -> dict[str, Any]:
    """The verdict document as a submitter sees it (``document`` is left as it was)."""
    out = dict(document)
    zones = document.get("zones") or {}
    located = zones.get("count") is not None
    out["zones"] = {
        "touched": zones_touched(zones),
        "classes": sorted(zones.get("classes") or []) if located else None,
    }
    out["findings"] = [_submitter_finding(f) for f in document.get("findings") or []]
    return out


def _submitter_finding(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding without the zone facts its rule read (counts, areas by class), which a
    submitter could compare between uploads; the rule, effect and message stay."""
    facts = finding.get("facts") or {}
    kept = {
        name: value
        for name, value in facts.items()
        if name in _SHOWN_ZONE_FACTS or not (name == "zones" or name.startswith("zones."))
    }
    if len(kept) == len(facts):
        return finding
    return {**finding, "facts": kept}
