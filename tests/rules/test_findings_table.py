"""mapgate's own findings: one table, every code documented, no code outside the table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from compliance.rules.fail_closed import FINDINGS, by_code
from compliance.verdict import Effect
from tests.builders import REPO

DOC = REPO / "docs" / "findings.md"
_CODE = re.compile(r"MAPGATE-[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")
_SOURCES = ("*.py", "*.js", "*.html", "*.j2", "*.css", "*.md")


def _documented() -> dict[str, str]:
    """code -> the effect its section of docs/findings.md states."""
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    out = {}
    for section in sections:
        heading, _, body = section.partition("\n")
        effect = re.search(r"\*\*Effect: ([a-z_]+)", body)
        assert effect, f"{heading}: no '**Effect: ...' line"
        out[heading.strip()] = effect.group(1)
    return out


def test_every_code_in_the_table_is_documented_with_its_effect():
    documented = _documented()
    assert {e.code: e.effect.value for e in FINDINGS} == documented


def test_the_table_has_one_entry_per_code_with_a_doc_anchor():
    codes = [e.code for e in FINDINGS]
    assert len(codes) == len(set(codes)) == 19
    headings = {f"docs/findings.md#{c.lower()}" for c in _documented()}
    assert {e.anchor for e in FINDINGS} == headings
    assert all(e.title and e.title[0].isupper() for e in FINDINGS)


def test_every_mapgate_code_in_the_code_is_in_the_table():
    found: dict[str, set[str]] = {}
    for root in ("compliance", "api"):
        for pattern in _SOURCES:
            for path in (REPO / root).rglob(pattern):
                for code in _CODE.findall(path.read_text(encoding="utf-8", errors="replace")):
                    found.setdefault(code, set()).add(str(path.relative_to(REPO)))
    unknown = {code: sorted(files) for code, files in found.items() if by_code(code) is None}
    assert not unknown, f"MAPGATE codes outside the table: {unknown}"
    assert "MAPGATE-LOCATION-UNKNOWN" in found  # the scan does see the codes


def test_informational_findings_never_read_as_fail_closed():
    for entry in FINDINGS:
        if entry.effect is Effect.allow:
            assert "not allowed" not in entry.reference, entry.code
        else:
            assert entry.effect is Effect.review, entry.code


def _imports(path: Path) -> set[str]:
    """Every module a file imports, also inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted((REPO / "compliance" / "rules").glob("*.py")), ids=lambda p: p.name
)
def test_the_rules_stage_never_imports_the_measuring_stage(path):
    inside = {
        n for n in _imports(path) if n.startswith(("compliance.measure", "compliance.readers"))
    }
    assert not inside, f"{path.name} imports {sorted(inside)}"


@pytest.mark.parametrize(
    "path", sorted((REPO / "compliance" / "rules").glob("*.py")), ids=lambda p: p.name
)
def test_every_rules_module_declares_its_public_names(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(t, ast.Name) and t.id == "__all__"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    assert assigned, f"{path.name} has no __all__"
