"""Sensitive zones and territories: loading, buffering on the ground, indexes, overlap."""

__all__: list[str] = []
