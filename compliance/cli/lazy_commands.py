"""Subcommands registered by name and imported only when one of them is asked for.

``mapgate check`` should not pay for importing the audit's pools, the service or signing:
each subcommand's module (and what it imports) loads when the command line reaches it by
name. Help, completion and typo suggestions list every command, so they load them all; a
command that runs loads its own. Each command is built by typer exactly as if it had been
registered on the application itself, so options, help and completion are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import typer
import typer.core
import typer.main

__all__ = ["LazyCommand", "lazy_group_class"]

# typer builds its commands from its own copy of click; the group's commands are of its type.
_ClickCommand = Any


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand's function (or typer sub-application, for a group) lives, and
    the help it is registered with (a function's docstring when None)."""

    module: str
    attribute: str
    help: str | None = None

    def build(self, name: str) -> _ClickCommand:
        """The click command typer would have made for it on the application."""
        target = getattr(import_module(self.module), self.attribute)
        holder = typer.Typer(add_completion=False)
        # A callback makes the holder a group of one, so typer builds the command just as
        # it builds a subcommand (a lone command would become the whole program).
        holder.callback()(_no_options)
        if isinstance(target, typer.Typer):
            # No help of its own here: the sub-application's (an explicit None would hide it).
            holder.add_typer(target, name=name)
        else:
            holder.command(name, help=self.help)(target)
        group = typer.main.get_command(holder)
        return group.commands[name]  # type: ignore[attr-defined]


def _no_options() -> None:
    """Placeholder callback of the holder group (never run)."""


class _Commands(MutableMapping[str, _ClickCommand]):
    """A group's commands by name, in their listed order, each built on first access."""

    def __init__(
        self,
        built: MutableMapping[str, _ClickCommand],
        lazy: dict[str, LazyCommand],
        order: list[str],
    ) -> None:
        self._built = dict(built)
        self._lazy = dict(lazy)
        names = [n for n in order if n in self._built or n in self._lazy]
        self._order = names + [n for n in [*self._built, *self._lazy] if n not in names]

    def __getitem__(self, name: str) -> _ClickCommand:
        if name not in self._built:
            spec = self._lazy.get(name)
            if spec is None:
                raise KeyError(name)
            self._built[name] = spec.build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: _ClickCommand) -> None:
        self._built[name] = command
        self._lazy.pop(name, None)
        if name not in self._order:
            self._order.append(name)

    def __delitem__(self, name: str) -> None:
        if name not in self._built and name not in self._lazy:
            raise KeyError(name)
        self._built.pop(name, None)
        self._lazy.pop(name, None)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._built or name in self._lazy


def lazy_group_class(lazy: dict[str, LazyCommand], order: list[str]) -> type[typer.core.TyperGroup]:
    """A typer group class whose commands include ``lazy``, listed in ``order``."""

    class LazyTyperGroup(typer.core.TyperGroup):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.commands = _Commands(self.commands, lazy, order)

    return LazyTyperGroup
