"""The ``mapgate`` command: check, profile, packs, audit, remediate, conditions, serve, keys,
verify.

Exit codes: 0 allow, 10 allow_with_conditions, 20 review, 30 deny (``check``: the worst
file's, see compliance.cli.check), 2 usage error, 3 unreadable input (or, with --sign, no
attestation could be made), 1 internal error; ``verify`` has its own (compliance.cli.attest).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from compliance.cli.lean_import import without_data_frames

# The command line is a process of its own: it never builds a data frame, so pandas and
# geopandas stay out of it, decided before any module that reads data loads (see there).
without_data_frames()

from compliance.cli.common import (  # noqa: E402
    EXIT_INTERNAL,
    EXIT_UNREADABLE,
    EXIT_USAGE,
    QUICK_EXIT,
    PackOption,
)
from compliance.cli.lazy_commands import LazyCommand, lazy_group_class  # noqa: E402
from compliance.cli.malloc_arenas import cap_malloc_arenas  # noqa: E402
from compliance.cli.startup_gc import pause_collection, resume_collection  # noqa: E402
from compliance.errors import (  # noqa: E402
    ComplianceError,
    RulePackError,
    UnreadableDataset,
    ZonesError,
)
from compliance.version import ENGINE_VERSION  # noqa: E402

__all__ = ["app", "main"]

# Each subcommand's module loads only when that command runs (or help lists them all):
# `check` does not import the audit's pools, the service or signing. The audit and service
# commands live beside their own code; the service's web stack loads only when `serve` runs.
_COMMANDS = {
    "check": LazyCommand("compliance.cli.check", "check_command"),
    "profile": LazyCommand("compliance.cli.check", "profile_command"),
    "audit": LazyCommand(
        "compliance.cli.audit",
        "audit_command",
        "Check many files in parallel, resumably; write results and a report.",
    ),
    "serve": LazyCommand("compliance.cli.serve", "serve", "Run the HTTP service (uvicorn)."),
    "remediate": LazyCommand(
        "compliance.cli.remediate",
        "remediate_command",
        "Apply a verdict's conditions to make a derivative, and re-check it.",
    ),
    "conditions": LazyCommand(
        "compliance.cli.remediate",
        "conditions_command",
        "List the conditions rules may attach.",
    ),
    "verify": LazyCommand(
        "compliance.cli.attest",
        "verify_command",
        "Verify a signed verdict offline: exit 0 only when signature, file and chain hold.",
    ),
    "keys": LazyCommand("compliance.cli.attest", "keys_app"),
}
# The order help lists them in: the commands first, then the groups (as typer lists them).
_ORDER = [*(n for n in _COMMANDS if n != "keys"), "packs", "keys"]

app = typer.Typer(
    cls=lazy_group_class(_COMMANDS, _ORDER),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Check map data against export rules before it leaves the country.",
)
packs_app = typer.Typer(no_args_is_help=True, help="List, validate and test rule packs.")
app.add_typer(packs_app, name="packs")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(ENGINE_VERSION)
        raise typer.Exit(0)


# Commands that resume collection themselves, once their checker is built.
_RESUME_AFTER_SETUP = frozenset({"check", "profile"})


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Check map data against export rules before it leaves the country."""
    if ctx.invoked_subcommand not in _RESUME_AFTER_SETUP:
        resume_collection()


@packs_app.command("list")
def packs_list(pack: PackOption = None) -> None:
    """List packs with version, rule count and hash."""
    from rich.console import Console
    from rich.table import Table

    from compliance.rules.packs import load_packs

    table = Table("pack", "version", "jurisdiction", "rules", "tests", "sha256", "title")
    for p in load_packs(list(pack) if pack else None):
        table.add_row(
            p.name,
            p.version,
            p.jurisdiction,
            str(len(p.rules)),
            str(len(p.doc.tests)),
            p.sha256[:12],
            p.title,
        )
    Console().print(table)


@packs_app.command("validate")
def packs_validate(
    files: Annotated[list[str] | None, typer.Argument(help="Pack names or files.")] = None,
) -> None:
    """Validate packs; exit 2 naming the file and rule of the first problem."""
    from compliance.rules.packs import load_packs

    for p in load_packs(list(files) if files else None):
        typer.echo(f"ok  {p.name} {p.version} ({len(p.rules)} rules) {p.path.name}")


@packs_app.command("test")
def packs_test(
    files: Annotated[list[str] | None, typer.Argument(help="Pack names or files.")] = None,
) -> None:
    """Run each pack's own test cases; exit 1 when any fails."""
    from compliance.rules.pack_tests import run_pack_tests
    from compliance.rules.packs import load_packs

    passed = failed = 0
    for p in load_packs(list(files) if files else None):
        for result in run_pack_tests(p):
            mark = "PASS" if result.passed else "FAIL"
            typer.echo(
                f"{mark}  {p.name}: {result.name}"
                + (f" - {result.detail}" if result.detail else "")
            )
            passed += result.passed
            failed += not result.passed
    typer.echo(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Console entry point: map every failure to its exit code and one line on stderr."""
    pause_collection()
    cap_malloc_arenas()
    code = _run()
    if QUICK_EXIT:
        # A check has written its answer and removed its temporary files; what is left is
        # the interpreter freeing every module and array one by one (0.1-0.2 s after a large
        # file). Nothing in these commands waits on atexit, so leave without it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _run() -> int:
    """Run the command line; its exit code, with every failure mapped to one."""
    try:
        # Without standalone mode the command's Exit code comes back as the return value.
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (RulePackError, ZonesError) as exc:
        sys.stderr.write(f"mapgate: {exc}\n")
        return EXIT_USAGE
    except (UnreadableDataset, ComplianceError) as exc:
        sys.stderr.write(f"mapgate: cannot read input: {exc}\n")
        return EXIT_UNREADABLE
    except typer.Abort:
        return 130
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            return _internal_error(exc)
        sys.stderr.write(
            f"mapgate: this command needs {exc.name}, which a plain install leaves out: "
            f"pip install 'mapgate[{extra}]'\n"
        )
        return EXIT_USAGE
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"mapgate: {exc}\n")
        return EXIT_USAGE
    except Exception as exc:  # anything unexpected: one line, no traceback
        return _internal_error(exc)
    return code if isinstance(code, int) else 0


# The optional dependencies' modules and the extra that installs each (pyproject.toml).
_EXTRAS = {
    "fastapi": "service", "uvicorn": "service", "starlette": "service", "sqlalchemy": "service",
    "psycopg": "service", "prometheus_client": "service", "pydantic_settings": "service",
    "jinja2": "service", "python_multipart": "service", "dask": "dask", "distributed": "dask",
}  # fmt: skip


def _internal_error(exc: Exception) -> int:
    if os.environ.get("MAPGATE_DEBUG"):
        raise exc
    sys.stderr.write(f"mapgate: internal error: {type(exc).__name__}: {exc}\n")
    return EXIT_INTERNAL


if __name__ == "__main__":
    main()
