"""Fixtures of the API tests (every test under tests/api gets them through its conftest;
tests elsewhere take them with ``from tests.api.fixtures import *``)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.main import create_app
from compliance import Checker
from tests.api.helpers import (
    PACK_YAML,
    ZONES,
    ApiData,
    TestClient,
    make_settings,
    point_geojson,
    sqlite_url,
    write_geotiff,
)

__all__ = ["api_checker", "api_client", "api_data", "pg_server_url", "pg_url", "uploads"]


@pytest.fixture(scope="session")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> ApiData:
    root = tmp_path_factory.mktemp("api-data")
    pack = root / "api-test.yaml"
    pack.write_text(PACK_YAML)
    zones = root / "zones.geojson"
    zones.write_text(json.dumps(ZONES))
    in_zone = root / "in_zone.geojson"
    in_zone.write_bytes(point_geojson(10.5, 10.5, 3))
    clear = root / "clear.geojson"
    clear.write_bytes(point_geojson(-40.0, -20.0, 3))
    raster = write_geotiff(root / "raster.tif")
    garbage = root / "garbage.geojson"
    garbage.write_bytes(b"this is not { geojson" * 10)
    return ApiData(root, pack, zones, in_zone, clear, raster, garbage)


@pytest.fixture(scope="session")
def api_checker(api_data: ApiData) -> Checker:
    return Checker(packs=[api_data.pack], zones=api_data.zones)


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    """A private folder for the service's upload spool, to prove it is left empty."""
    d = tmp_path / "uploads"
    d.mkdir()
    return d


@pytest.fixture
def api_client(tmp_path: Path, api_checker: Checker) -> Iterator[TestClient]:
    """A TestClient on a fresh app with a SQLite store in ``tmp_path``."""
    app = create_app(make_settings(sqlite_url(tmp_path / "audit.sqlite")), checker=api_checker)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """``MAPGATE_TEST_PG_URL``; required when ``CI`` is set (see .ci/postgres.sh)."""
    url = os.environ.get("MAPGATE_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("MAPGATE_TEST_PG_URL is not set: source .ci/postgres.sh first")
        pytest.skip("no PostgreSQL: run `export MAPGATE_TEST_PG_URL=$(bash .ci/postgres.sh)`")
    return url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(pg_server_url).set(drivername="postgresql+psycopg")
    name = f"mapgate_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
