"""Which function applies which condition to which kind of data.

A condition with no entry here for the data's kind is reported ``cannot_apply``: mapgate
never pretends to meet it. Raster entries are filled in by the raster actions' modules.
"""

from __future__ import annotations

from compliance.remediate.actions import ActionFunction
from compliance.remediate.raster_actions import RASTER_ACTIONS
from compliance.remediate.vector_actions import VECTOR_ACTIONS
from compliance.rules.conditions import CONDITIONS, DataKind

__all__ = ["ACTIONS", "ORDER", "action_for"]


ACTIONS: dict[tuple[str, DataKind], ActionFunction] = {
    **{(name, "raster"): fn for name, fn in RASTER_ACTIONS.items()},
    **{(name, "vector"): fn for name, fn in VECTOR_ACTIONS.items()},
}

# The order actions run in: content first, then generalisation, then the mask (so that
# snapping cannot move a vertex back into a zone), coordinates last (the mask needs them).
ORDER = (
    "drop_contours",
    "strip_sensitive_attributes",
    "coarsen_resolution",
    "mask_zones",
    "strip_coordinates",
)


def action_for(condition: str, kind: DataKind) -> ActionFunction | None:
    """The function that applies ``condition`` to ``kind`` data, or None if mapgate cannot."""
    known = CONDITIONS.get(condition)
    if known is None or kind not in known.applies_to:
        return None
    return ACTIONS.get((condition, kind))
