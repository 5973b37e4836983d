"""Checks in worker processes that can be stopped."""
