"""The vector actions, by condition (see ``compliance.remediate.actions`` for the interface)."""

from __future__ import annotations

from compliance.remediate.actions import ActionFunction

__all__ = ["VECTOR_ACTIONS"]

VECTOR_ACTIONS: dict[str, ActionFunction] = {}
