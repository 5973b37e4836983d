"""Rule packs are validated when loaded; errors name the file and the rule."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from compliance import RulePackError, UnknownRulePack, load_pack
from compliance.rules.pack_tests import run_pack_tests
from compliance.rules.packs import builtin_pack_paths, load_packs, referenced_facts

HEADER = """\
pack: demo
version: "1"
title: Demo
jurisdiction: XX
rules:
"""


def _pack(tmp_path, rules: str, header: str = HEADER):
    path = tmp_path / "demo.yaml"
    path.write_text(header + textwrap.indent(textwrap.dedent(rules), "  "))
    return path


GOOD_RULE = """\
- id: R-1
  title: fine
  when: dataset.scale_denominator < 25000.0
  effect: review
  reference: Test Act s.1
"""


def test_a_valid_pack_loads_with_its_hash(tmp_path):
    pack = load_pack(_pack(tmp_path, GOOD_RULE))
    assert pack.name == "demo" and len(pack.sha256) == 64
    assert pack.rules[0].facts == ["dataset.scale_denominator"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            GOOD_RULE.replace("dataset.scale_denominator", "dataset.scale_denom"),
            r"demo.yaml: rule R-1: unknown fact.*dataset.scale_denom",
        ),
        (GOOD_RULE.replace("< 25000.0", "<"), r"demo.yaml: rule R-1: bad CEL"),
        (GOOD_RULE.replace("effect: review", "effect: maybe"), r"demo.yaml: rule R-1: effect"),
        (GOOD_RULE + GOOD_RULE, r"demo.yaml: rule R-1: duplicate rule id"),
        (
            GOOD_RULE.replace(
                "dataset.scale_denominator < 25000.0", "dataset.scale_denominator < 'x'"
            ),
            r"rule R-1: `when` fails",
        ),
        (
            GOOD_RULE.replace(
                "dataset.scale_denominator < 25000.0", "dataset.scale_denominator + 1.0"
            ),
            r"rule R-1: `when` must yield a boolean",
        ),
        (
            GOOD_RULE.replace("  reference: Test Act s.1\n", ""),
            r"rule R-1: reference: Field required",
        ),
        (GOOD_RULE + "  surprise: 1\n", r"rule R-1: surprise"),
    ],
)
def test_invalid_packs_fail_naming_file_and_rule(tmp_path, rule, message):
    with pytest.raises(RulePackError, match=message):
        load_pack(_pack(tmp_path, rule))


def test_facts_inside_string_literals_are_not_references():
    assert referenced_facts('request.purpose == "dataset.bogus" && zones.count > 0') == [
        "request.purpose",
        "zones.count",
    ]


def test_unknown_pack_name_lists_the_built_in_ones():
    with pytest.raises(UnknownRulePack, match="kr"):
        load_packs(["atlantis"])


def test_broken_yaml_is_a_pack_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("pack: [unclosed")
    with pytest.raises(RulePackError, match="broken.yaml"):
        load_pack(path)


@pytest.mark.parametrize("path", builtin_pack_paths(), ids=lambda p: p.stem)
def test_built_in_packs_pass_their_own_tests_and_cite_a_basis(path):
    pack = load_pack(path)
    assert pack.doc.tests, "every built-in pack carries test cases"
    failures = [r for r in run_pack_tests(pack) if not r.passed]
    assert failures == []
    assert all(r.rule.reference.strip() for r in pack.rules)


def test_a_failing_pack_test_is_reported(tmp_path):
    path = _pack(tmp_path, GOOD_RULE)
    path.write_text(
        path.read_text() + "tests:\n  - name: wrong on purpose\n"
        "    facts: {dataset: {scale_denominator: 5000.0}}\n    expect: allow\n"
    )
    (result,) = run_pack_tests(load_pack(path))
    assert not result.passed and "expected allow, got review" in result.detail


def test_no_built_in_packs_found_is_an_error_not_an_empty_check(tmp_path, monkeypatch):
    from compliance import Checker

    monkeypatch.setenv("MAPGATE_RULES_DIR", str(tmp_path))
    with pytest.raises(RulePackError, match="no built-in rule packs"):
        Checker()


def test_rules_dir_can_point_elsewhere(tmp_path, monkeypatch):
    import shutil

    from tests.builders import REPO

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    monkeypatch.setenv("MAPGATE_RULES_DIR", str(tmp_path / "rules"))
    assert [p.path.parent for p in load_packs()] == [(tmp_path / "rules").resolve()] * 3


def test_the_cel_package_is_imported_without_its_interactive_command_line() -> None:
    # cel's __init__ imports prompt_toolkit for its own CLI (~100 ms of every mapgate run);
    # the checker leaves it out, yet anyone importing cel.cli later still gets the real one.
    probe = (
        "import sys, compliance.checker\n"
        "print('prompt_toolkit' in sys.modules)\n"
        "import cel.cli\n"
        "print(hasattr(cel.cli, 'app'))\n"
        "import cel\n"
        "print(cel.evaluate('1 + 2'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True", "3"]
