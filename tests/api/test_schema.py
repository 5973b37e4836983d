"""The published JSON Schemas: equal to the models', served at /v1/schema, and every
verdict the service returns validates against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from compliance.schemas import SCHEMAS, schema_text
from compliance.verdict import SCHEMA_VERSION
from tests.api.fixtures import *  # noqa: F403 - fixtures
from tests.api.helpers import REPO, ApiData, TestClient, auth

PUBLISHED = REPO / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_the_generated_one(name: str) -> None:
    committed = (PUBLISHED / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(name), (
        f"docs/schemas/{name}.schema.json is stale: run python -m compliance.schemas docs/schemas"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(committed))


def _post(c: TestClient, path: Path, who: str):
    with path.open("rb") as f:
        return c.post("/v1/checks", files={"file": (path.name, f)}, headers=auth(who))


def test_schema_is_open_and_every_answer_validates(api_client: TestClient, api_data: ApiData):
    r = api_client.get("/v1/schema")  # no key: the shape of a verdict is public
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/schema+json")
    schema = r.json()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    published = jsonschema.Draft202012Validator(
        json.loads((PUBLISHED / "verdict.schema.json").read_text(encoding="utf-8"))
    )
    for sample in (api_data.clear, api_data.in_zone, api_data.raster):
        for who in ("alice", "carol"):
            body = _post(api_client, sample, who).json()
            assert body["schema_version"] == SCHEMA_VERSION
            validator.validate(body)
            stored = api_client.get(f"/v1/checks/{body['id']}", headers=auth(who)).json()
            validator.validate(stored)
            if who == "carol":  # an auditor's verdict is the whole, published document
                published.validate(body)


def test_a_submitters_verdict_is_not_mistaken_for_a_whole_one(api_client, api_data):
    body = _post(api_client, api_data.in_zone, "alice").json()
    published = jsonschema.Draft202012Validator(
        json.loads((PUBLISHED / "verdict.schema.json").read_text(encoding="utf-8"))
    )
    assert not published.is_valid(body)  # its zones are the withheld form


def test_schema_is_in_the_openapi_document(api_client: TestClient) -> None:
    paths = api_client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/v1/schema"]
