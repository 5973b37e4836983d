"""The package's layout rules, read from the source: no import cycle, small modules and
functions, the library never importing the service, public names declared once.

Everything here is static (the files are parsed, nothing is imported), so a rule broken
anywhere fails here with the module and line that broke it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builders import REPO

PACKAGES = ("compliance", "api")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# The one door from the library to the service: ``mapgate serve`` imports it when run.
LAZY_SERVICE_DOOR = "compliance.cli.serve"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def _modules() -> dict[str, Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = Module(".".join(parts), path, ast.parse(path.read_text()))
    return found


MODULES = _modules()


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:``: never run, so never a cycle."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for body in node.body for n in ast.walk(body)}
    return skipped


def _imported(module: Module, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement loads (a package's submodule when named)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names if a.name in MODULES)
        return
    if node.level:
        base = module.name.split(".")
        if not module.is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    for alias in node.names:
        if f"{target}.{alias.name}" in MODULES:
            yield f"{target}.{alias.name}"
        elif target in MODULES:
            yield target


def _imports(module: Module) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module level?) for every import, also inside functions."""
    skipped = _type_checking_only(module.tree)
    top = {id(n) for n in module.tree.body}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            for target in _imported(module, node):
                if target != module.name:
                    yield target, node.lineno, id(node) in top


def _graph() -> dict[str, set[str]]:
    return {name: {t for t, _, _ in _imports(m)} for name, m in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle_made_through_a_function() -> None:
    # The rule above must be able to fail: a cycle closed by an import inside a function.
    graph = _graph()
    graph["compliance.verdict"] = graph["compliance.verdict"] | {"compliance.checker"}
    assert any("compliance.verdict" in c and "compliance.checker" in c for c in _cycles(graph))


def test_the_library_never_imports_the_service() -> None:
    reached = [
        f"{m.path.relative_to(REPO)}:{line} imports {target}"
        for m in MODULES.values()
        if m.name.split(".")[0] == "compliance"
        for target, line, at_top in _imports(m)
        if target.split(".")[0] == "api" and (m.name != LAZY_SERVICE_DOOR or at_top)
    ]
    assert reached == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_stay_small(name: str) -> None:
    module = MODULES[name]
    lines = len(module.path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.path.relative_to(REPO)} has {lines} lines"
    long = [
        f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(module.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def _declared_all(module: Module) -> list[str] | None:
    for node in module.tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert node.value is not None
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    return None


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The module's statements, with those under a top-level ``if`` or ``try`` opened."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _top_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body + node.orelse + node.finalbody)
        else:
            yield node


def _defined_names(module: Module) -> set[str]:
    names: set[str] = set()
    for node in _top_level(module.tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_declares_its_public_names(name: str) -> None:
    module = MODULES[name]
    declared = _declared_all(module)
    assert declared is not None, f"{module.path.relative_to(REPO)} has no __all__"
    if module.name == "compliance":
        return  # the public API is loaded lazily: test_public_api checks every name resolves
    missing = set(declared) - _defined_names(module)
    assert not missing, f"{module.path.relative_to(REPO)}: __all__ names undefined {missing}"


def test_a_public_name_is_declared_by_one_module() -> None:
    owners: dict[str, list[str]] = {}
    for module in MODULES.values():
        if module.is_package:
            continue  # a package re-exports what its modules declare
        for public in _declared_all(module) or []:
            if public == "router" and module.name.startswith(("api.routes.", "api.web.")):
                continue  # FastAPI's convention: the app includes each module's router
            owners.setdefault(public, []).append(module.name)
    assert {n: m for n, m in owners.items() if len(m) > 1} == {}


# What opens a file: the measuring stage gets what the readers found and opens nothing.
_OPENERS = {"open", "connect", "DatasetReader", "ZipFile", "read_arrow", "open_arrow",
            "read_dataframe", "read_info", "read_bounds"}  # fmt: skip


def _opens(module: Module) -> list[str]:
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _OPENERS:
                found.append(f"{module.path.relative_to(REPO)}:{node.lineno} {ast.unparse(func)}")
    return found


def test_the_measuring_stage_opens_no_file() -> None:
    measuring = [m for n, m in MODULES.items() if n.startswith("compliance.measure")]
    assert [o for m in measuring for o in _opens(m)] == []


def test_the_file_opener_finder_sees_a_reader_open() -> None:
    # The rule above must be able to fail: the readers do open files.
    assert _opens(MODULES["compliance.readers.pixels"])
