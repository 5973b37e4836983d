"""The published JSON Schemas of mapgate's documents, generated from their models.

``docs/schemas/`` holds them as files (a test keeps them equal to these); regenerate with
``python -m compliance.schemas docs/schemas``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from compliance.batch.results import AuditResult
from compliance.verdict import SCHEMA_VERSION, Verdict

__all__ = ["SCHEMAS", "audit_row_schema", "schema_text", "verdict_schema", "write_schemas"]

_BASE_URI = "https://mapgate.invalid/schemas/"


def verdict_schema() -> dict[str, Any]:
    """JSON Schema of the verdict document (``mapgate check --format json``, the API)."""
    return _published(Verdict.model_json_schema(mode="serialization"), "verdict")


def audit_row_schema() -> dict[str, Any]:
    """JSON Schema of one line of an audit's ``results.jsonl``."""
    return _published(AuditResult.model_json_schema(mode="serialization"), "audit-row")


SCHEMAS = {"verdict": verdict_schema, "audit-row": audit_row_schema}


def _published(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_BASE_URI}{name}-{SCHEMA_VERSION}.schema.json",
        **schema,
    }


def schema_text(name: str) -> str:
    """The schema ``name`` as its committed file holds it."""
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder`` as ``<name>.schema.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
