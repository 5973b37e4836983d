"""The CEL implementation, imported without its interactive command line.

The ``cel`` package's ``__init__`` imports ``cel.cli`` (prompt_toolkit, pygments), which
costs about 100 ms, a twentieth of a whole ``mapgate check``, and rule evaluation never
uses it. A placeholder stands in for ``cel.cli`` while the package imports and is taken
away again, so a later ``import cel.cli`` (anyone's) loads the real one.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING


def _import_cel() -> types.ModuleType:
    if "cel" in sys.modules:
        return sys.modules["cel"]
    placeholder = "cel.cli" not in sys.modules
    if placeholder:
        sys.modules["cel.cli"] = types.ModuleType("cel.cli")
    try:
        import cel
    finally:
        if placeholder:
            del sys.modules["cel.cli"]
    if placeholder:
        # The package now holds the placeholder as its `cli` attribute: drop it, so the
        # next `import cel.cli` sets the real module there.
        vars(cel).pop("cli", None)
    return cel


if TYPE_CHECKING:
    import cel
else:
    cel = _import_cel()

__all__ = ["cel"]
