"""The byte-level counts a GeoJSON document is screened with before it is walked.

Claims: ``has_long_array`` is true wherever the parsed document holds an array of four
scalars or more, however the text is spaced, and (where no array holds an object) only
there; ``names_at_most`` is true exactly when the bytes name no more members than
the parsed objects hold, whether or not strings hold colons.

Truth: random documents built here and parsed with the json module; arrays and members
counted by walking the parsed tree.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from compliance.readers.json_bytes import has_long_array, names_at_most


def _random_value(rng: np.random.Generator, depth: int, mixed: bool, object_ok: bool = True) -> Any:
    """A JSON value: an object only where ``object_ok``; an array's items may be objects
    only when ``mixed``."""
    kind = rng.integers(0, (6 if object_ok else 5) if depth < 4 else 3)
    if kind == 0:
        return round(float(rng.normal() * 100), int(rng.integers(0, 7)))
    if kind == 1:
        return int(rng.integers(-1000, 1000))
    if kind == 2:
        return ["a", "b:c", "2024-01-01T12:30:00", "x y", ""][int(rng.integers(0, 5))]
    if kind == 3:
        return [_random_value(rng, depth + 1, mixed, mixed) for _ in range(rng.integers(0, 6))]
    if kind == 4:
        return [round(float(v), 3) for v in rng.normal(size=int(rng.integers(1, 6)))]
    return {f"k{i}": _random_value(rng, depth + 1, mixed) for i in range(rng.integers(0, 4))}


def _long(value: Any) -> bool:
    if isinstance(value, list):
        scalars = not any(isinstance(v, list | dict) for v in value)
        return (scalars and len(value) >= 4) or any(_long(v) for v in value)
    if isinstance(value, dict):
        return any(_long(v) for v in value.values())
    return False


def _members(value: Any) -> int:
    if isinstance(value, list):
        return sum(_members(v) for v in value)
    if isinstance(value, dict):
        return len(value) + sum(_members(v) for v in value.values())
    return 0


@pytest.mark.parametrize("indent", [None, 2, "\t"])
@pytest.mark.parametrize("mixed", [False, True], ids=["no_objects_in_arrays", "objects_in_arrays"])
def test_a_long_array_is_found_wherever_the_parsed_document_holds_one(indent, mixed):
    rng = np.random.default_rng(7)
    seen = {True: 0, False: 0}
    for _ in range(400):
        doc = {f"f{i}": _random_value(rng, 0, mixed) for i in range(rng.integers(1, 4))}
        data = json.dumps(doc, indent=indent).encode()
        if mixed:  # an object's commas count too: found where one is, and maybe elsewhere
            assert has_long_array(data) or not _long(doc), data
        else:
            assert has_long_array(data) == _long(doc), data
        seen[_long(doc)] += 1
    assert min(seen.values()) > 50  # both answers were asked for


def test_a_position_of_four_numbers_is_a_long_array_and_one_of_three_is_not():
    assert has_long_array(b'{"coordinates": [[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]]}')
    assert not has_long_array(b'{"coordinates": [[1.0, 2.0, 3.0], [4.0, 5.0]]}')
    assert not has_long_array(b"[[1, 2], [3, 4], [5, 6], [7, 8]]")  # four arrays: no scalars
    assert not has_long_array(b"")


@pytest.mark.parametrize("indent", [None, 1])
def test_names_are_at_most_the_members_unless_a_member_is_given_twice(indent):
    rng = np.random.default_rng(11)
    for _ in range(300):
        doc = {f"m{i}": _random_value(rng, 0, True) for i in range(rng.integers(1, 5))}
        data = json.dumps(doc, indent=indent).encode()
        members = _members(json.loads(data))
        assert names_at_most(data, members)
        # The same document with one member given twice: the parsed objects hold one
        # fewer member than the bytes name.
        twice = data.replace(b'"m0"', b'"m0": 1, "m0"', 1)
        assert not names_at_most(twice, _members(json.loads(twice)))
