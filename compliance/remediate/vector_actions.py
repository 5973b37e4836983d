"""The vector actions, by condition (see ``compliance.remediate.actions`` for the interface)."""

from __future__ import annotations

from compliance.remediate.actions import ActionFunction
from compliance.remediate.vector_detail import coarsen_vectors, drop_vector_contours
from compliance.remediate.vector_mask import mask_vector_zones, strip_vector_attributes
from compliance.remediate.vector_strip import strip_vector_coordinates

__all__ = ["VECTOR_ACTIONS"]

VECTOR_ACTIONS: dict[str, ActionFunction] = {
    "mask_zones": mask_vector_zones,
    "coarsen_resolution": coarsen_vectors,
    "strip_coordinates": strip_vector_coordinates,
    "drop_contours": drop_vector_contours,
    "strip_sensitive_attributes": strip_vector_attributes,
}
