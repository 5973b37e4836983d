"""The cyclic garbage collector waits while a command sets itself up.

A command's start-up builds some 50,000 objects that live as long as the process:
modules, classes, pydantic's validators, the packs, zones and territories. The collector
walks them again and again while they are built and finds nothing to free: about 25 ms
of young collections during the imports and 25 ms for a full one while the packs and
zones load, on one core before any data is read. So it is paused from the entry point
until the command's setup is done, and then resumes with those objects frozen out of
its walks (``gc.freeze``): they are never garbage, and later collections need not
revisit them.

Only the console entry point pauses it: a library or a test that imports the command
line keeps its collector as it was.
"""

from __future__ import annotations

import gc

__all__ = ["pause_collection", "resume_collection"]

_paused = False


def pause_collection() -> None:
    """Pause collection until ``resume_collection``; nothing if it is already off."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Freeze what exists now and collect again; nothing if this module did not pause."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
