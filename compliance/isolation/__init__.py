"""Checks in worker processes that can be stopped: a time limit, a memory limit, SIGKILL."""

__all__: list[str] = []
