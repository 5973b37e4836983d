"""``mapgate check`` and ``mapgate profile``: one verdict (or profile) per dataset.

Exit codes of ``check``: the worst verdict's own code among the files (0 allow,
10 allow_with_conditions, 20 review, 30 deny), counting only verdicts at or above
``--fail-on`` (default ``allow_with_conditions``: every verdict but ``allow``); 3 when a
file could not be read and no verdict gave a higher code; 2 for a usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from compliance.cli.common import (
    EXIT_UNREADABLE,
    QUICK_EXIT,
    ConfigOption,
    PackOption,
    ZonesOption,
    fail_on_choice,
)
from compliance.cli.config import Config, ConfigError, config_for
from compliance.cli.startup_gc import resume_collection
from compliance.errors import ComplianceError, RulePackError, ZonesError
from compliance.verdict import Effect

if TYPE_CHECKING:
    from compliance.checker import Checker
    from compliance.outputs.checked import Checked

__all__ = [
    "CHECK_FORMATS",
    "STDIN",
    "check_command",
    "exit_code",
    "load_cli_config",
    "profile_command",
]

STDIN = "-"
CHECK_FORMATS = ("text", "json", "sarif", "junit", "github")
_H = {
    "paths": "Datasets: any GDAL raster or vector file, or a zip; '-' reads one from stdin.",
    "format": "text, json (one document; JSON Lines for several files), sarif, junit or github.",
    "fail_on": "Exit non-zero only for a verdict at or above this one: allow_with_conditions "
    "(default), review or deny. The code is then that worst verdict's (10/20/30).",
    "quiet": "Print nothing on stdout; the exit code is the answer (errors still go to stderr).",
    "stdin_name": "File name for the data read from stdin (its suffix tells the format).",
}
FormatOption = Annotated[str | None, typer.Option("--format", "-f", help=_H["format"])]


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise typer.BadParameter(f"must be one of {', '.join(allowed)}", param_hint="--format")


def load_cli_config(command: str, option: str | None) -> Config:
    """The command's config, or a usage error naming the file and the problem."""
    try:
        return config_for(command, option)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None


def check_command(
    paths: Annotated[list[str], typer.Argument(help=_H["paths"], show_default=False)],
    pack: PackOption = None,
    zones: ZonesOption = None,
    destination: Annotated[
        str | None, typer.Option(help="ISO 3166-1 alpha-2 code of the destination country.")
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Declared purpose of the export.")] = None,
    reveal_zones: Annotated[
        bool, typer.Option("--reveal-zones", help="Show zone ids and geometry.")
    ] = False,
    fmt: FormatOption = None,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help=_H["fail_on"])] = None,
    quiet: Annotated[bool | None, typer.Option("--quiet", "-q", help=_H["quiet"])] = None,
    config: ConfigOption = None,
    stdin_name: Annotated[str, typer.Option("--stdin-name", help=_H["stdin_name"])] = "stdin",
    sign: Annotated[
        Path | None, typer.Option("--sign", help="Sign the verdict with this private key (PEM).")
    ] = None,
    attestation: Annotated[
        Path | None, typer.Option("--attestation", help="Where --sign writes the attestation.")
    ] = None,
) -> None:
    """Check datasets and print one export verdict each."""
    settings = load_cli_config("check", config)
    fmt = settings.get("format", fmt, "text")
    _check_format(fmt, CHECK_FORMATS)
    threshold = fail_on_choice(settings.get("fail-on", fail_on))
    quiet = bool(settings.get("quiet", quiet, False))
    destination = _destination(settings.get("destination", destination))
    if paths.count(STDIN) > 1:
        raise typer.BadParameter("'-' (stdin) may be given once", param_hint="PATHS")
    if (sign is None) != (attestation is None):
        raise typer.BadParameter("--sign and --attestation go together", param_hint="--sign")
    if sign is not None and (len(paths) != 1 or paths[0] == STDIN):
        raise typer.BadParameter("--sign takes one PATH, not stdin", param_hint="--sign")
    if attestation is not None and attestation.resolve() == Path(paths[0]).resolve():
        raise typer.BadParameter("would replace the dataset itself", param_hint="--attestation")
    if settings.path is not None and fmt != "text" and not quiet:
        # Defaults that change the packs or zones must never go unseen (text says so too).
        sys.stderr.write(f"mapgate: defaults from {settings.path}\n")
    QUICK_EXIT.append("check")
    from compliance.readers.inputs import digest_ahead

    # Hashing needs none of what loads next (GDAL, the measuring stack, packs and zones):
    # it runs on another core meanwhile, and the check finds it done.
    for path in paths:
        if path != STDIN:
            digest_ahead(path)
    from compliance.checker import Checker

    # The key is read first: a key that cannot sign stops the command before a long check.
    key = _signing_key(sign) if sign is not None else None
    checker = Checker(packs=settings.packs(pack), zones=settings.path_value("zones", zones))
    resume_collection()
    options = {"destination": destination, "purpose": settings.get("purpose", purpose),
               "reveal_zones": reveal_zones}  # fmt: skip
    results: list[Checked] = []
    for path in paths:
        item = _check_one(checker, path, stdin_name, options)
        results.append(item)
        if not quiet:
            _print_one(item, fmt, settings, several=len(paths) > 1)
    if not quiet and fmt in {"sarif", "junit", "github"}:
        from compliance.outputs import render, rule_catalog

        sys.stdout.write(render(fmt, results, rule_catalog(checker.packs)))
    verdict = results[0].verdict
    if key is not None and attestation is not None and verdict is not None:
        from compliance.cli.attest import write_attestation

        problem = write_attestation(verdict, key, Path(paths[0]), attestation)
        if problem is not None:  # signing was asked for: without it the answer is incomplete
            sys.stderr.write(f"mapgate: no attestation written: {problem}\n")
            raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(exit_code(results, threshold))


def _signing_key(path: Path) -> Any:
    """The private key --sign names; signing loads only when asked for."""
    from compliance.cli.attest import load_signing_key

    return load_signing_key(path)


def exit_code(results: list[Checked], threshold: Effect | None) -> int:
    """The worst code among the files: a verdict's own code when it reaches ``threshold``
    (default ``allow_with_conditions``), 3 for a file that could not be checked."""
    floor = (threshold or Effect.allow_with_conditions).severity
    codes = [
        EXIT_UNREADABLE
        if r.verdict is None
        else (r.verdict.verdict.exit_code if r.verdict.verdict.severity >= floor else 0)
        for r in results
    ]
    return max(codes, default=0)


def _destination(value: str | None) -> str | None:
    from compliance.countries import country_code

    try:
        return country_code(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--destination") from None


def _check_one(checker: Checker, path: str, stdin_name: str, options: dict[str, Any]) -> Checked:
    """One file's verdict, or the reason it has none (also written to stderr)."""
    from compliance.outputs.checked import Checked

    shown = stdin_name if path == STDIN else path
    try:
        if path == STDIN:
            # Spooled to a private temporary file under the checker's limits, removed after.
            verdict = checker.check(sys.stdin.buffer, name=stdin_name, **options)
        else:
            verdict = checker.check(Path(path), **options)
    except (RulePackError, ZonesError):
        raise  # the command's own setup is wrong, not this file: a usage error
    except ComplianceError as exc:
        sys.stderr.write(f"mapgate: cannot read input: {exc}\n")
        return Checked(shown, error=str(exc))
    return Checked(shown, verdict)


def _print_one(item: Checked, fmt: str, settings: Config, *, several: bool) -> None:
    """Text and JSON are written file by file, as each verdict arrives."""
    if item.verdict is None or fmt not in {"text", "json"}:
        return
    if fmt == "json":
        document = item.verdict.model_dump_json(indent=None if several else 2)
        sys.stdout.write(document + "\n")
        sys.stdout.flush()
        return
    from rich.console import Console

    from compliance.cli.output import print_verdict

    console = Console()
    if several:
        console.rule(item.path)
    print_verdict(item.verdict, console)
    console.print(settings.describe())


def profile_command(
    path: Annotated[Path, typer.Argument(help="Dataset to profile.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Print the facts measured about a dataset, without deciding anything."""
    _check_format(fmt, ("text", "json"))
    QUICK_EXIT.append("profile")
    from compliance.checker import Checker

    checker = Checker(packs=[], zones=None)
    resume_collection()
    inspection, identity = checker.inspect(path)
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
