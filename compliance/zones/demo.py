"""The built-in demo zones: fictional squares for trying mapgate out, not sensitive areas.

A check run against them must say so wherever its result is read, or a data team would
act on conditions (``mask_zones``) drawn from made-up places.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from compliance.locations import default_zones

__all__ = ["describe_zones", "is_demo_zones"]


@lru_cache(maxsize=4)
def _sha256_of(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_demo_zones(sha256: str | None) -> bool:
    """Whether zones with content hash ``sha256`` are the built-in demo zones, whatever
    path or name they were loaded under."""
    return sha256 is not None and sha256 == _sha256_of(default_zones())


def describe_zones(source: str | None, fictional: bool) -> str:
    """The zones source as every output names it."""
    if fictional:
        return (
            f"{source or 'the built-in demo zones'}: FICTIONAL demo zones, not real "
            "sensitive areas; pass real zones with --zones"
        )
    return source or "unnamed zones source"
