"""Rule packs: YAML documents of CEL rules, validated and compiled once when loaded."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from compliance.dataset_profile import (
    DEFAULT_DETAIL_COUNT,
    DEFAULT_DETAIL_SHARE,
    DEFAULT_SCALE_FACTOR,
    MAX_DETAIL_COUNT,
)
from compliance.errors import RulePackError, UnknownRulePack
from compliance.facts import FACTS, ROOTS, sample_context
from compliance.locations import rules_dir
from compliance.rules.cel_runtime import cel
from compliance.rules.conditions import parse_condition
from compliance.rules.outcomes import reads_facts_by_name
from compliance.rules.pack_yaml import YamlError, parse_pack_yaml
from compliance.verdict import Effect

__all__ = [
    "CompiledRule",
    "PackDocument",
    "PackTest",
    "Rule",
    "RulePack",
    "builtin_pack_paths",
    "load_pack",
    "load_packs",
    "referenced_facts",
    "resolve_pack",
]

_STRING = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")
_MEMBER = re.compile(r"(?<![\w.])(" + "|".join(sorted(ROOTS)) + r")\s*\.\s*([A-Za-z_]\w*)")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    title: str
    when: str
    effect: Effect
    conditions: list[str] = Field(default_factory=list)
    condition_parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Each condition's parameters, defaults filled in (from the YAML entries).",
    )
    reference: str = Field(min_length=1, description="The legal basis the rule encodes.")
    message: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _conditions(cls, data: Any) -> Any:
        # YAML lists a condition as a name or as {name: {parameter: value}}; the rule keeps
        # the names (what verdicts list) and the parameters apart.
        if not isinstance(data, dict):
            return data
        if "condition_parameters" in data:
            raise ValueError(
                "condition_parameters is not a pack key: give parameters in conditions"
            )
        raw = data.get("conditions") or []
        if not isinstance(raw, list):
            raise ValueError("conditions must be a list")
        parsed = [parse_condition(entry) for entry in raw]
        names = [name for name, _ in parsed]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"condition(s) listed twice: {doubled}")
        return {**data, "conditions": names, "condition_parameters": dict(parsed)}


class PackTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    facts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    expect: Effect
    expect_rules: list[str] | None = None


class PackDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str
    title: str
    jurisdiction: str
    territory: str | None = None
    territory_buffer_m: float = Field(default=0.0, ge=0)
    scale_factor: float = Field(
        default=DEFAULT_SCALE_FACTOR,
        gt=0,
        description="Scale denominator per metre of ground resolution (Tobler: 2000).",
    )
    detail_share: float = Field(
        default=DEFAULT_DETAIL_SHARE,
        gt=0,
        le=1,
        description=(
            "Vector detail: the share of lines and rings (and, when finer, of all their"
            " segments) whose detail counts."
        ),
    )
    detail_count: int = Field(
        default=DEFAULT_DETAIL_COUNT,
        ge=1,
        le=MAX_DETAIL_COUNT,
        description="Vector detail: or this many lines and rings (segments), whichever is fewer.",
    )
    default: Effect = Effect.allow
    sources: list[str] = Field(default_factory=list)
    rules: list[Rule]
    tests: list[PackTest] = Field(default_factory=list)


@dataclass
class CompiledRule:
    rule: Rule
    program: Any
    facts: list[str]
    by_name: bool = False  # reads facts by name alone: its outcomes may be kept (outcomes.py)


@dataclass
class RulePack:
    """A validated pack with its rules compiled."""

    doc: PackDocument
    path: Path
    sha256: str
    rules: list[CompiledRule]

    @property
    def name(self) -> str:
        return self.doc.pack

    @property
    def version(self) -> str:
        return self.doc.version

    @property
    def title(self) -> str:
        return self.doc.title

    @property
    def jurisdiction(self) -> str:
        return self.doc.jurisdiction

    @property
    def territory_path(self) -> Path | None:
        return (self.path.parent / self.doc.territory).resolve() if self.doc.territory else None

    @cached_property
    def coverage(self) -> str:
        """What makes two packs one pack where they apply: the rules' bytes, and the bytes
        and buffer of the territory they name (a copy of a pack beside another territory
        file is another pack, whatever its own bytes)."""
        digest = hashlib.sha256(self.sha256.encode())
        path = self.territory_path
        if path is not None:
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"\x00unreadable territory")
        digest.update(repr(self.doc.territory_buffer_m).encode())
        return digest.hexdigest()


def referenced_facts(expression: str) -> list[str]:
    """The ``root.member`` facts an expression reads (string literals ignored)."""
    code = _STRING.sub('""', expression)
    return sorted({f"{root}.{member}" for root, member in _MEMBER.findall(code)})


def _compile(rule: Rule, where: str) -> CompiledRule:
    try:
        program = cel.compile(rule.when)
    except (ValueError, RuntimeError) as exc:
        raise RulePackError(f"{where}: rule {rule.id}: bad CEL in `when`: {exc}") from exc
    variables = set(program.variables())
    facts = referenced_facts(rule.when)
    unknown = [f for f in facts if f not in FACTS]
    if unknown:
        raise RulePackError(
            f"{where}: rule {rule.id}: unknown fact(s) {unknown}; known: {sorted(FACTS)}"
        )
    if not variables & ROOTS:
        raise RulePackError(f"{where}: rule {rule.id}: `when` reads no fact")
    try:
        result = program.execute(sample_context())
    except Exception as exc:  # the CEL runtime raises TypeError/KeyError/ValueError alike
        raise RulePackError(
            f"{where}: rule {rule.id}: `when` fails on well-formed facts: {exc}"
        ) from exc
    if not isinstance(result, bool):
        raise RulePackError(
            f"{where}: rule {rule.id}: `when` must yield a boolean, got {type(result).__name__}"
        )
    return CompiledRule(rule, program, facts, reads_facts_by_name(rule.when))


def load_pack(path: str | Path) -> RulePack:
    """Load and validate one pack file.

    Raises
    ------
    RulePackError
        Unreadable YAML, unknown keys, facts or effects, bad CEL, duplicate rule ids;
        the message names the file and the rule id.
    """
    path = Path(path)
    where = path.name
    try:
        raw = path.read_bytes()
        data = parse_pack_yaml(raw)
    except (OSError, YamlError) as exc:
        raise RulePackError(f"{where}: cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulePackError(f"{where}: a pack is a YAML mapping")
    try:
        doc = PackDocument.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                rules = data.get("rules") or []
                rid = (
                    rules[loc[1]].get("id", f"#{loc[1]}")
                    if loc[1] < len(rules) and isinstance(rules[loc[1]], dict)
                    else f"#{loc[1]}"
                )
                field = "".join(f"{part}: " for part in loc[2:])
                problems.append(f"rule {rid}: {field}{err['msg']}")
            else:
                problems.append(f"{'.'.join(map(str, loc))}: {err['msg']}")
        raise RulePackError(f"{where}: " + "; ".join(problems)) from exc
    seen: set[str] = set()
    for rule in doc.rules:
        if rule.id in seen:
            raise RulePackError(f"{where}: rule {rule.id}: duplicate rule id")
        seen.add(rule.id)
    compiled = [_compile(rule, where) for rule in doc.rules]
    pack = RulePack(
        doc=doc, path=path.resolve(), sha256=hashlib.sha256(raw).hexdigest(), rules=compiled
    )
    if pack.territory_path is not None and not pack.territory_path.exists():
        raise RulePackError(f"{where}: territory {doc.territory} does not exist")
    return pack


def builtin_pack_paths() -> list[Path]:
    return sorted(rules_dir().glob("*.yaml"))


def resolve_pack(name_or_file: str | Path) -> Path:
    """A built-in pack name (``kr``) or a path to a pack file."""
    candidate = Path(name_or_file)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        if not candidate.is_file():
            raise UnknownRulePack(f"{name_or_file}: no such pack file")
        return candidate
    builtin = rules_dir() / f"{name_or_file}.yaml"
    if not builtin.is_file():
        names = ", ".join(p.stem for p in builtin_pack_paths())
        raise UnknownRulePack(f"unknown rule pack {str(name_or_file)!r}; built-in packs: {names}")
    return builtin


def load_packs(names: list[str | Path] | None = None) -> list[RulePack]:
    """Load the named packs, or every built-in pack when ``names`` is None."""
    if names is None:
        paths = builtin_pack_paths()
        if not paths:
            # Checking against no pack would allow everything: refuse instead.
            raise RulePackError(
                f"no built-in rule packs in {rules_dir()}; set MAPGATE_RULES_DIR to a copy of "
                "the project's rules/ folder, or name pack files explicitly"
            )
    else:
        paths = [resolve_pack(n) for n in names]
    packs = [load_pack(p) for p in paths]
    seen: set[str] = set()
    for pack in packs:
        if pack.name in seen:
            raise RulePackError(f"{pack.path.name}: pack {pack.name!r} is loaded twice")
        seen.add(pack.name)
    return packs
