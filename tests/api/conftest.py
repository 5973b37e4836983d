"""The service's tests: a real app on SQLite or PostgreSQL, real uploads, real servers.

The fixtures live in ``tests.api.fixtures`` so that tests of other folders that need a
service (attestations, upload pointers) can take them too."""

from tests.api.fixtures import *  # noqa: F403 - fixtures for every test here
