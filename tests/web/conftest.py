"""The service's page in headless Chromium: real ``mapgate serve`` processes.

Module-scoped fixtures (``tests.web.fixtures``): each test module gets its own servers and
browser."""

from tests.web.fixtures import *  # noqa: F403 - fixtures for every test here
