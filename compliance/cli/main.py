"""The ``mapgate`` command: check, profile, packs, audit, remediate, conditions, serve, keys,
verify.

Exit codes: 0 allow, 10 allow_with_conditions, 20 review, 30 deny, 2 usage error,
3 unreadable input (or, with --sign, no attestation could be made), 1 internal error;
``verify`` has its own (see compliance.cli.attest).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from compliance.cli.lean_import import without_data_frames

# The command line is a process of its own: it never builds a data frame, so pandas and
# geopandas stay out of it, decided before any module that reads data loads (see there).
without_data_frames()

from compliance.cli.attest import (  # noqa: E402
    keys_app,
    load_signing_key,
    verify_command,
    write_attestation,
)
from compliance.cli.audit import audit_command  # noqa: E402
from compliance.cli.remediate import conditions_command, remediate_command  # noqa: E402
from compliance.cli.serve import serve  # noqa: E402
from compliance.errors import (  # noqa: E402
    ComplianceError,
    RulePackError,
    UnreadableDataset,
    ZonesError,
)

EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_INTERNAL = 1

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Check map data against export rules before it leaves the country.",
)
packs_app = typer.Typer(no_args_is_help=True, help="List, validate and test rule packs.")
app.add_typer(packs_app, name="packs")
app.add_typer(keys_app, name="keys")

PackOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pack", "-p", help="Built-in pack name or pack file; repeat for several (default: all)."
    ),
]
ZonesOption = Annotated[
    str | None, typer.Option("--zones", help="Sensitive-zones source (any OGR source).")
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="text or json")]


def _check_format(fmt: str) -> None:
    if fmt not in {"text", "json"}:
        raise typer.BadParameter("must be text or json", param_hint="--format")


# Commands that leave nothing behind them (no pool, server or open store) once their output
# is written; see main().
_QUICK_EXIT: list[str] = []


@app.command()
def check(
    path: Annotated[
        Path, typer.Argument(help="Dataset: any GDAL raster or vector file, or a zip.")
    ],
    pack: PackOption = None,
    zones: ZonesOption = None,
    destination: Annotated[
        str | None, typer.Option(help="ISO country code of the destination.")
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Declared purpose of the export.")] = None,
    reveal_zones: Annotated[
        bool, typer.Option("--reveal-zones", help="Show zone ids and geometry.")
    ] = False,
    fmt: FormatOption = "text",
    sign: Annotated[
        Path | None, typer.Option("--sign", help="Sign the verdict with this private key (PEM).")
    ] = None,
    attestation: Annotated[
        Path | None, typer.Option("--attestation", help="Where --sign writes the attestation.")
    ] = None,
) -> None:
    """Check one dataset and print its export verdict."""
    _check_format(fmt)
    if (sign is None) != (attestation is None):
        raise typer.BadParameter("--sign and --attestation go together", param_hint="--sign")
    if attestation is not None and attestation.resolve() == path.resolve():
        raise typer.BadParameter("would replace the dataset itself", param_hint="--attestation")
    _QUICK_EXIT.append("check")
    from compliance.checker import Checker

    # The key is read first: a key that cannot sign stops the command before a long check.
    key = load_signing_key(sign) if sign is not None else None

    checker = Checker(packs=list(pack) if pack else None, zones=zones)
    verdict = checker.check(
        path, destination=destination, purpose=purpose, reveal_zones=reveal_zones
    )
    if fmt == "json":
        sys.stdout.write(verdict.model_dump_json(indent=2) + "\n")
    else:
        from rich.console import Console

        from compliance.cli.output import print_verdict

        print_verdict(verdict, Console())
    if key is not None and attestation is not None:
        problem = write_attestation(verdict, key, path, attestation)
        if problem is not None:  # signing was asked for: without it the answer is incomplete
            sys.stderr.write(f"mapgate: no attestation written: {problem}\n")
            raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(verdict.verdict.exit_code)


@app.command()
def profile(
    path: Annotated[Path, typer.Argument(help="Dataset to profile.")],
    fmt: FormatOption = "text",
) -> None:
    """Print the facts measured about a dataset, without deciding anything."""
    _check_format(fmt)
    _QUICK_EXIT.append("profile")
    from compliance.checker import Checker

    inspection, identity = Checker(packs=[], zones=None).inspect(path)
    if fmt == "json":
        doc = {
            "input": identity.model_dump(),
            "profile": inspection.profile.model_dump(mode="json"),
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        from rich.console import Console

        from compliance.cli.output import print_profile

        print_profile(identity, inspection.profile, Console())


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


# The audit and service commands live beside their own code; the service's web stack is
# imported only when `serve` runs.
app.command("audit", help="Check many files in parallel, resumably; write results and a report.")(
    audit_command
)
app.command("serve", help="Run the HTTP service (uvicorn).")(serve)
app.command(
    "remediate", help="Apply a verdict's conditions to make a derivative, and re-check it."
)(remediate_command)
app.command("conditions", help="List the conditions rules may attach.")(conditions_command)
app.command(
    "verify",
    help="Verify a signed verdict offline: exit 0 only when signature, file and chain hold.",
)(verify_command)


def main() -> None:
    """Console entry point: map every failure to its exit code and one line on stderr."""
    code = _run()
    if _QUICK_EXIT:
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
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"mapgate: {exc}\n")
        return EXIT_USAGE
    except Exception as exc:  # anything unexpected: one line, no traceback
        if os.environ.get("MAPGATE_DEBUG"):
            raise
        sys.stderr.write(f"mapgate: internal error: {type(exc).__name__}: {exc}\n")
        return EXIT_INTERNAL
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    main()
