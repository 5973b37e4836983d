"""Property-based requests generated from the app's own OpenAPI: none may end in a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api.main import create_app
from compliance import Checker
from tests.api.helpers import TestClient, auth, make_settings, sqlite_url

pytestmark = pytest.mark.slow

OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/packs"),
    ("POST", "/v1/checks"),
    ("GET", "/v1/checks"),
    ("GET", "/v1/checks/{check_id}"),
    ("GET", "/v1/checks/{check_id}/attestation"),
    ("POST", "/v1/remediations"),
    ("GET", "/v1/remediations/{remediation_id}/file"),
    ("GET", "/v1/keys"),
    ("GET", "/v1/me"),
    ("GET", "/v1/schema"),
]


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, api_checker: Checker
) -> Iterator[schemathesis.BaseSchema]:
    store = Path(tmp_path_factory.mktemp("schemathesis")) / "audit.sqlite"
    settings_ = make_settings(sqlite_url(store), max_upload_bytes=200_000)
    app = create_app(settings_, checker=api_checker)
    with TestClient(app):  # runs the lifespan: packs, zones and store are loaded
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_exercised(api_schema: schemathesis.BaseSchema) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("who", ["carol", "alice", None], ids=["auditor", "submitter", "no-key"])
def test_no_server_errors(
    api_schema: schemathesis.BaseSchema, method: str, path: str, who: str | None
) -> None:
    operation = api_schema[path][method]
    headers = auth(who) if who else {}

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()
