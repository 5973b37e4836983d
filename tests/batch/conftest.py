"""Batch audits: archives of real files written per test, local pools and a real Dask
cluster (``tests.batch.fixtures``)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.batch.fixtures import local_dask_client


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real local Dask cluster (two single-threaded worker processes) for a module."""
    with local_dask_client() as client:
        yield client
