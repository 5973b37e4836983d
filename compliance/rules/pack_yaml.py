"""A pack file's YAML, parsed once per content and kept as JSON for later processes.

Importing PyYAML and parsing the built-in packs costs a ``mapgate check`` process about
15 ms, as much as checking a small file twice. A pack's parsed document is plain data
(mappings with string keys, lists, strings, numbers, booleans, nulls), which JSON holds
exactly, so it is kept in the verified cache (``compliance.verified_cache``) under the
file's content hash and the parser's own files, and read back with the standard library's
JSON reader. A document JSON would not give back as parsed (dates, non-string keys,
infinities) is never kept: it is parsed from its YAML in every process. What comes back
is validated and compiled exactly as a fresh parse would be.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from compliance.verified_cache import load_entry, store_entry
from compliance.version import ENGINE_VERSION

__all__ = ["YamlError", "parse_pack_yaml"]

_KIND = "pack-json"


class YamlError(ValueError):
    """The bytes are not a YAML document PyYAML's safe loader reads."""


def parse_pack_yaml(raw: bytes) -> Any:
    """The document in ``raw`` as PyYAML's safe loader parses it."""
    key = f"{hashlib.sha256(raw).hexdigest()}|{ENGINE_VERSION}|{_parser_identity()}"
    cached = load_entry(_KIND, key)
    if cached is not None:
        try:
            return json.loads(cached)
        except ValueError:
            pass  # not ours after all: parse the YAML
    data = _parse(raw)
    text = _as_json(data)
    if text is not None:
        store_entry(_KIND, key, text.encode())
    return data


def _parse(raw: bytes) -> Any:
    import yaml  # only when the cache has no verified copy: 10 ms to import

    # libyaml's safe loader when PyYAML was built with it: the same documents, 5x faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader)
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from exc


def _as_json(data: Any) -> str | None:
    """``data`` as JSON text, or None when JSON would not give it back equal."""
    try:
        # ASCII, escapes and all: PyYAML's pure-Python loader reads "\U0000D800" as a lone
        # surrogate, which no UTF-8 encoder takes, and JSON's escape gives it back exactly.
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return text if json.loads(text) == data else None


@lru_cache(maxsize=1)
def _parser_identity() -> str:
    """PyYAML's version and build (with or without libyaml), without importing it: a
    parser that could read the same bytes differently never shares an entry."""
    spec = importlib.util.find_spec("yaml")
    if spec is None or spec.origin is None:
        return "no-yaml"
    folder = Path(spec.origin).parent
    digest = hashlib.sha256(Path(spec.origin).read_bytes())
    for name in sorted(p.name for p in folder.iterdir()):
        digest.update(name.encode() + b"\0")
    return digest.hexdigest()
