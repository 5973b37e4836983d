"""Packs parsed once are read back from the verified cache, and only when verified."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil

import pytest
import yaml

from compliance import verified_cache
from compliance.rules import pack_yaml
from compliance.rules.pack_yaml import YamlError, parse_pack_yaml
from compliance.rules.packs import builtin_pack_paths, load_pack

PACK = """\
pack: demo
version: "1"
title: Demo
jurisdiction: XX
rules:
  - id: R-DENY
    title: too fine
    when: dataset.scale_denominator < 25000.0
    effect: deny
    reference: Test Act s.1
  - id: R-REVIEW
    title: fine
    when: dataset.scale_denominator < 50000.0
    effect: review
    reference: Test Act s.2
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(folder))
    return folder


def _entries(folder):
    return sorted(folder.glob("pack-json-*.bin"))


def _key(raw: bytes) -> str:
    identity = pack_yaml._parser_identity()
    return f"{hashlib.sha256(raw).hexdigest()}|{pack_yaml.ENGINE_VERSION}|{identity}"


def _never(_raw: bytes) -> object:
    raise AssertionError("parsed the YAML again instead of reading the cache")


@pytest.mark.parametrize("path", builtin_pack_paths(), ids=lambda p: p.stem)
def test_a_built_in_pack_comes_back_from_the_cache_as_parsed(cache, monkeypatch, path):
    raw = path.read_bytes()
    fresh = parse_pack_yaml(raw)
    assert fresh == yaml.safe_load(raw)
    assert len(_entries(cache)) == 1

    monkeypatch.setattr(pack_yaml, "_parse", _never)

    assert parse_pack_yaml(raw) == fresh


def test_a_forged_entry_is_not_read_and_the_pack_keeps_its_deny_rule(tmp_path, monkeypatch):
    """An exporter who can write the victim's cache folder (but not read its secret) puts
    a well-formed entry, made in a cache of their own, where the pack's entry would be:
    the same pack with its deny rule removed."""
    path = tmp_path / "demo.yaml"
    path.write_text(PACK)
    victim, attacker = tmp_path / "victim", tmp_path / "attacker"
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(victim))
    assert [r.rule.id for r in load_pack(path).rules] == ["R-DENY", "R-REVIEW"]
    (entry,) = _entries(victim)

    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(attacker))
    weakened = yaml.safe_load(PACK)
    weakened["rules"] = weakened["rules"][1:]
    verified_cache.store_entry("pack-json", _key(path.read_bytes()), json.dumps(weakened).encode())
    assert [r.rule.id for r in load_pack(path).rules] == ["R-REVIEW"]  # where it was made
    shutil.copyfile(attacker / entry.name, entry)
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(victim))

    pack = load_pack(path)

    assert [r.rule.id for r in pack.rules] == ["R-DENY", "R-REVIEW"]


def test_a_changed_pack_is_parsed_again(cache, tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(PACK)
    assert len(load_pack(path).rules) == 2
    path.write_text(PACK.replace("effect: review", "effect: deny"))

    pack = load_pack(path)

    assert [r.rule.effect.value for r in pack.rules] == ["deny", "deny"]
    assert len(_entries(cache)) == 2


def test_another_parser_build_does_not_share_entries(cache, monkeypatch):
    raw = PACK.encode()
    parse_pack_yaml(raw)
    monkeypatch.setattr(pack_yaml, "_parser_identity", lambda: "another PyYAML")
    calls = []
    parse = pack_yaml._parse
    monkeypatch.setattr(pack_yaml, "_parse", lambda r: calls.append(r) or parse(r))

    parse_pack_yaml(raw)

    assert calls == [raw]
    assert len(_entries(cache)) == 2


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"effective: 2016-11-18\n", {"effective": datetime.date(2016, 11, 18)}),
        (b"1: one\n", {1: "one"}),
        (b"limit: .inf\n", {"limit": float("inf")}),
        (b"when: !!binary aGk=\n", {"when": b"hi"}),
    ],
)
def test_what_json_would_not_give_back_is_parsed_every_time(cache, document, expected):
    assert parse_pack_yaml(document) == expected
    assert parse_pack_yaml(document) == expected
    assert _entries(cache) == []


def test_an_entry_that_is_not_json_is_passed_over(cache):
    raw = PACK.encode()
    verified_cache.store_entry("pack-json", _key(raw), b"\xff not json")
    assert parse_pack_yaml(raw) == yaml.safe_load(raw)


def test_broken_yaml_is_a_yaml_error_and_nothing_is_kept(cache):
    with pytest.raises(YamlError):
        parse_pack_yaml(b"rules: [unclosed\n")
    assert _entries(cache) == []


def test_with_the_cache_off_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPGATE_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert parse_pack_yaml(PACK.encode()) == yaml.safe_load(PACK)
    assert not (tmp_path / "xdg").exists()


def test_a_lone_surrogate_from_the_pure_python_loader_is_kept_and_given_back(cache, monkeypatch):
    # Without libyaml, PyYAML's own loader reads "\U0000D800" as a lone surrogate, which
    # no UTF-8 encoder takes: the entry must still be written (or skipped), never crash.
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    raw = PACK.replace("title: Demo", 'title: "\\U0000D800"').encode()
    expected = yaml.load(raw, Loader=yaml.SafeLoader)
    assert expected["title"] == "\ud800"
    assert parse_pack_yaml(raw) == expected
    assert len(_entries(cache)) == 1
    monkeypatch.setattr(pack_yaml, "_parse", _never)
    assert parse_pack_yaml(raw) == expected
