"""Where the built-in rule packs and their data live."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGED_RULES", "default_zones", "rules_dir"]

# rules/ at the top of the repository is the one copy kept in version control; a built
# wheel carries it inside the package (setup.py copies it there), so an installed mapgate
# finds its packs without the checkout. MAPGATE_RULES_DIR points anywhere else.
PACKAGED_RULES = Path(__file__).resolve().parent / "builtin_rules"
_SOURCE_RULES = Path(__file__).resolve().parent.parent / "rules"


def rules_dir() -> Path:
    """The folder of the built-in packs: MAPGATE_RULES_DIR, else the installed copy, else
    the source checkout's ``rules/``."""
    chosen = os.environ.get("MAPGATE_RULES_DIR")
    if chosen:
        return Path(chosen)
    return PACKAGED_RULES if PACKAGED_RULES.is_dir() else _SOURCE_RULES


def default_zones() -> Path:
    return rules_dir() / "zones" / "demo_zones.geojson"
