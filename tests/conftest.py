"""Fixtures every test folder shares: the real-data corpus, a loaded checker, a listener.

Plain builders (rasters, vectors, packs written to a folder) live in ``tests.builders``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import Checker
from tests.builders import REAL_DATA, Listener


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip("the shared real-data corpus is not beside this checkout")
    return REAL_DATA


@pytest.fixture(scope="session")
def checker() -> Checker:
    """One checker with every built-in pack and the demo zones, loaded once."""
    return Checker()


@pytest.fixture
def listener() -> Iterator[Listener]:
    served = Listener()
    yield served
    served.close()


@pytest.fixture(scope="session", autouse=True)
def _cache_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Prepared territory tiles the tests cache stay in the tests' own folder, not in the
    user's cache; the command-line processes the tests start inherit it."""
    patch = pytest.MonkeyPatch()
    patch.setenv("MAPGATE_CACHE_DIR", str(tmp_path_factory.mktemp("mapgate-cache")))
    yield
    patch.undo()
