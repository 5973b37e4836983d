"""What a party without clearance may learn of the sensitive zones from a verdict: whether
the data touches any, and which classes it touched. Nothing more, in any part of it.

Areas, counts, untouched classes, zone ids, the zones file's name and hash are withheld,
so that a submitter cannot map the zones by uploading boxes and reading numbers back (a
binary search on ``overlap_km2`` located a zone's buffered edge to 0.1 m in 75 requests).
The service shows submitters this view, and every attestation is signed over it, since an
attestation travels to people who may not see the zones either.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["undisclosed_verdict", "zones_commitment", "zones_touched"]

# The one zone fact a submitter already sees in ``zones.classes``.
_SHOWN_ZONE_FACTS = {"zones.classes"}


def zones_touched(zones: dict[str, Any]) -> bool | None:
    """Whether the data touched any zone; None when its location is unknown."""
    count = zones.get("count")
    if count is None:
        return None
    return bool(count) or bool(zones.get("classes"))


def zones_commitment(verdict_id: str, zones_sha256: str | None) -> str | None:
    """A digest that ties a verdict to the zones file it was checked against, for whoever
    holds that file, without naming it: salted with the verdict's id, so two verdicts'
    commitments do not tell a reader whether the zones changed between them."""
    if not zones_sha256:
        return None
    return hashlib.sha256(f"{verdict_id}:{zones_sha256}".encode()).hexdigest()


def undisclosed_verdict(document: dict[str, Any]) -> dict[str, Any]:
    """The verdict document (JSON form) as one without clearance may see it; ``document``
    is left as it was."""
    out = dict(document)
    zones = document.get("zones") or {}
    located = zones.get("count") is not None
    out["zones"] = {
        "touched": zones_touched(zones),
        "classes": sorted(zones.get("classes") or []) if located else None,
        # Says only that the zones are made up, which the submitter must know to read
        # the verdict; real zones stay unnamed.
        "fictional": bool(zones.get("fictional")),
    }
    out["findings"] = [_undisclosed_finding(f) for f in document.get("findings") or []]
    # How long the check took says how much of the data met the zones (the overlap is
    # most of a check's time near a zone), as the Server-Timing header would: whole
    # seconds only.
    if isinstance(document.get("duration_ms"), int | float):
        out["duration_ms"] = float(round(document["duration_ms"], -3))
    return out


def _undisclosed_finding(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding without the zone facts its rule read (counts, areas by class), which a
    reader could compare between verdicts; the rule, effect and message stay."""
    facts = finding.get("facts") or {}
    kept = {
        name: value
        for name, value in facts.items()
        if name in _SHOWN_ZONE_FACTS or not (name == "zones" or name.startswith("zones."))
    }
    if len(kept) == len(facts):
        return finding
    return {**finding, "facts": kept}
