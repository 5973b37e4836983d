"""Defaults for ``check`` and ``audit`` from ``mapgate.toml`` or ``pyproject.toml``.

The nearest folder, from the current one up to the file system's root, that holds a
``mapgate.toml`` or a ``pyproject.toml`` with a ``[tool.mapgate]`` table wins (in one
folder ``mapgate.toml`` comes first), as ruff and pytest look for theirs. Keys at the top
apply to both commands; a ``[check]`` or ``[audit]`` table (``[tool.mapgate.check]``)
overrides them for one. A flag on the command line always wins over the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["COMMAND_KEYS", "Config", "ConfigError", "config_for", "find_config", "load_config"]

# What each command takes from a config file, and the type of each value.
COMMAND_KEYS: dict[str, dict[str, type]] = {
    "check": {
        "packs": list,
        "zones": str,
        "format": str,
        "fail-on": str,
        "destination": str,
        "purpose": str,
        "quiet": bool,
    },  # fmt: skip
    "audit": {
        "packs": list,
        "zones": str,
        "format": str,
        "fail-on": str,
        "out": str,
        "workers": int,
        "timeout": float,
        "memory-mb": int,
        "recursive": bool,
        "untrusted": bool,
        "quiet": bool,
    },  # fmt: skip
}


class ConfigError(ValueError):
    """A config file that cannot be read or holds a key or value mapgate does not take."""


@dataclass(frozen=True)
class Config:
    """The settings for one command and the file they came from (None: no file)."""

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, flag: Any, default: Any = None) -> Any:
        """The flag's value when given on the command line, else the file's, else ``default``."""
        if flag is not None:
            return flag
        value = self.values.get(key)
        return default if value is None else value

    def path_value(self, key: str, flag: str | None) -> str | None:
        """A path: the flag's, else the file's read from the file's own folder."""
        if flag is not None:
            return flag
        value = self.values.get(key)
        return None if value is None else self._beside(value)

    def packs(self, flag: list[str] | None) -> list[str | Path] | None:
        """Pack names and files: the flags', else the file's (files read from its folder)."""
        if flag:
            return list[str | Path](flag)
        value = self.values.get("packs")
        if not value:
            return None
        return [Path(self._beside(p)) if p.endswith((".yaml", ".yml")) else p for p in value]

    def _beside(self, value: str) -> str:
        if self.path is None or Path(value).is_absolute():
            return value
        return str(self.path.parent / value)

    def describe(self) -> str:
        """One line for the text output: which file gave the defaults."""
        return f"config: {self.path}" if self.path else "config: none (built-in defaults)"


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest config file at or above ``start``, with its mapgate table."""
    for folder in [start, *start.parents]:
        own = folder / "mapgate.toml"
        if own.is_file():
            return own, _read(own)
        project = folder / "pyproject.toml"
        if project.is_file():
            table = _read(project).get("tool", {}).get("mapgate")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{project}: [tool.mapgate] must be a table")
                return project, table
    return None


def load_config(command: str, explicit: Path | None = None, start: Path | None = None) -> Config:
    """The settings ``command`` takes from ``explicit`` or the nearest config file.

    Raises
    ------
    ConfigError
        The file is not valid TOML, or names a key or value the command does not take.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such config file")
        table = _read(explicit)
        if explicit.name == "pyproject.toml":
            table = table.get("tool", {}).get("mapgate", {})
        found: tuple[Path, dict[str, Any]] | None = (explicit, table)
    else:
        found = find_config((start or Path.cwd()).resolve())
    if found is None:
        return Config()
    path, table = found
    return Config(path, _values(path, table, command))


def config_for(command: str, option: str | None) -> Config:
    """The config a command's ``--config`` option asks for: a file, ``none``, or the nearest."""
    if option == "none":
        return Config()
    return load_config(command, Path(option) if option else None)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _values(path: Path, table: dict[str, Any], command: str) -> dict[str, Any]:
    """The top-level keys overridden by the command's own table, each checked."""
    known = set().union(*COMMAND_KEYS.values())
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in COMMAND_KEYS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [{key}] must be a table")
            continue
        if key not in known:
            raise ConfigError(f"{path}: unknown key {key!r}; known: {', '.join(sorted(known))}")
        values[key] = value
    own = table.get(command, {})
    for key in own:
        if key not in COMMAND_KEYS[command]:
            raise ConfigError(f"{path}: [{command}] does not take {key!r}")
    values = {k: v for k, v in (values | own).items() if k in COMMAND_KEYS[command]}
    for key, value in values.items():
        expected = COMMAND_KEYS[command][key]
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        if not ok or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: {key} must be a {expected.__name__}, not {value!r}")
        if expected is list and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {key} must be a list of strings")
    return values
