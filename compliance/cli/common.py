"""What the subcommands share: exit codes, options, and which commands may leave quickly."""

from __future__ import annotations

from typing import Annotated

import typer

from compliance.verdict import Effect

__all__ = [
    "EXIT_INTERNAL", "EXIT_UNREADABLE", "EXIT_USAGE", "FAIL_ON", "PackOption", "QUICK_EXIT",
    "ZonesOption", "ConfigOption", "fail_on_choice",
]  # fmt: skip

EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_INTERNAL = 1

# The verdicts --fail-on takes: a check fails at this verdict or a worse one.
FAIL_ON = {e.value: e for e in Effect if e is not Effect.allow}

# Commands that leave nothing behind them (no pool, server or open store) once their output
# is written; see compliance.cli.main.main().
QUICK_EXIT: list[str] = []

PackOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pack", "-p", help="Built-in pack name or pack file; repeat for several (default: all)."
    ),
]
ZonesOption = Annotated[
    str | None, typer.Option("--zones", help="Sensitive-zones source (any OGR source).")
]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Config file (mapgate.toml or pyproject.toml) instead of the nearest one; "
        "'none' to use none.",
    ),
]


def fail_on_choice(value: str | None) -> Effect | None:
    """The --fail-on verdict, or a usage error naming the choices."""
    if value is None:
        return None
    if value not in FAIL_ON:
        raise typer.BadParameter(f"choose one of {', '.join(FAIL_ON)}", param_hint="--fail-on")
    return FAIL_ON[value]
