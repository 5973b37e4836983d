"""The command line's process runs without pandas and geopandas.

mapgate reads data through Arrow and never builds a data frame, yet pyogrio imports
geopandas and pandas when it is imported (only to learn whether its own data-frame
functions can work), and pyarrow imports pandas the first time it builds an array. Together
that is 0.3-0.6 s and about 45 MB of peak memory in a whole run (bench/bench_check.py
measures it beside a plain read). Both libraries treat pandas as optional, so the command
line, a process of its own, declines to load it.

A library import never does this: a pipeline that imports ``compliance`` may well use
pandas and ``geopandas.read_file``, which needs pyogrio's data-frame functions.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["without_data_frames"]

_FRAME_LIBRARIES = frozenset({"geopandas", "pandas"})


class _NoDataFrames(MetaPathFinder):
    """Answers an import of pandas or geopandas as a package that is not installed."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in _FRAME_LIBRARIES:
            raise ModuleNotFoundError(
                f"{fullname} is not loaded in the mapgate command line", name=fullname
            )
        return None


def without_data_frames() -> None:
    """Keep pandas and geopandas out of this process from now on, unless one is loaded."""
    if any(name in sys.modules for name in _FRAME_LIBRARIES):
        return
    if not any(isinstance(finder, _NoDataFrames) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NoDataFrames())
