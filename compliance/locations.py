"""Where the built-in rule packs and their data live."""

from __future__ import annotations

import os
from pathlib import Path

# The packs are data beside the code in a source checkout (and in the Docker image);
# an installation elsewhere points MAPGATE_RULES_DIR at a copy of rules/.
_SOURCE_RULES = Path(__file__).resolve().parent.parent / "rules"


def rules_dir() -> Path:
    return Path(os.environ.get("MAPGATE_RULES_DIR") or _SOURCE_RULES)


def default_zones() -> Path:
    return rules_dir() / "zones" / "demo_zones.geojson"
