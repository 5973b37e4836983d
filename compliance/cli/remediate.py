"""``mapgate remediate`` and ``mapgate conditions``: apply a verdict's conditions to make a
derivative, re-check it, and list the conditions mapgate knows.

Registered by ``compliance.cli.main``. Exit code of ``remediate``: the derivative's verdict
(0/10/20/30); 2 usage (an existing ``--out`` without ``--force``, an output of the wrong
kind); 3 unreadable input (or, with ``--sign``, no attestation could be made).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from rich.console import Console

    from compliance.remediate.report import RemediationReport

__all__ = ["conditions_command", "original_attestation_path", "remediate_command"]

EXIT_USAGE = 2
EXIT_UNREADABLE = 3


def original_attestation_path(attestation: Path) -> Path:
    """Where ``--sign`` writes the original's attestation beside the derivative's."""
    return attestation.with_name(f"{attestation.stem}.original{attestation.suffix or '.json'}")


def _print_report(report: RemediationReport, console: Console) -> None:
    from rich.table import Table

    from compliance.cli.output import print_verdict

    before = report.original
    console.print(
        f"before: {before.verdict.value} (exit {before.verdict.exit_code})"
        + (f", conditions: {', '.join(before.conditions)}" if before.conditions else "")
    )
    table = Table("condition", "status", "what changed", "reason")
    for action in report.actions:
        changed = action.changes.model_dump(exclude_none=True, exclude_defaults=True)
        table.add_row(
            action.condition,
            action.status,
            ", ".join(f"{k}={v}" for k, v in changed.items()) or "-",
            action.reason,
        )
    console.print(table)
    console.print(f"derivative: {report.output.path} (sha256 {report.output.sha256})")
    if report.placement:
        console.print(f"note: {report.placement}")
    console.print("after:")
    print_verdict(report.verdict, console)


def _sign(report: RemediationReport, key: Ed25519PrivateKey, source: Path, out: Path) -> None:
    """The original's attestation and the derivative's, linked; exit 3 when either fails."""
    from compliance.attestation import Derivation
    from compliance.cli.attest import write_attestation

    original = report.original.input
    made = Derivation(
        name=original.name,
        digest={"sha256": original.sha256},
        actions=[a.condition for a in report.actions if a.status == "applied"],
    )
    problem = write_attestation(report.original, key, source, original_attestation_path(out))
    if problem is None:
        problem = write_attestation(
            report.verdict, key, Path(report.output.path), out, derived_from=made
        )
    if problem is not None:
        sys.stderr.write(f"mapgate: no attestation written: {problem}\n")
        raise typer.Exit(EXIT_UNREADABLE)


def remediate_command(
    path: Annotated[Path, typer.Argument(help="Dataset to remediate (file, folder or zip).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The derivative to write (.gpkg/.tif).")],
    pack: Annotated[
        list[str] | None,
        typer.Option("--pack", "-p", help="Built-in pack name or pack file; repeat for several."),
    ] = None,
    zones: Annotated[str | None, typer.Option("--zones", help="Sensitive-zones source.")] = None,
    mask_mode: Annotated[
        str, typer.Option("--mask-mode", help="cut features at the zones, or drop them.")
    ] = "cut",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    sign: Annotated[
        Path | None, typer.Option("--sign", help="Sign both verdicts with this private key.")
    ] = None,
    attestation: Annotated[
        Path | None,
        typer.Option(
            "--attestation",
            help="The derivative's attestation; the original's goes beside it (NAME.original.json).",
        ),
    ] = None,
) -> None:
    """Apply a verdict's conditions, write the derivative and re-check it."""
    if fmt not in {"text", "json"}:
        raise typer.BadParameter("must be text or json", param_hint="--format")
    if mask_mode not in {"cut", "drop"}:
        raise typer.BadParameter("must be cut or drop", param_hint="--mask-mode")
    if (sign is None) != (attestation is None):
        raise typer.BadParameter("--sign and --attestation go together", param_hint="--sign")
    from compliance.cli.attest import load_signing_key
    from compliance.remediate.errors import RemediationError

    key = load_signing_key(sign) if sign is not None else None
    from compliance.checker import Checker

    checker = Checker(packs=list(pack) if pack else None, zones=zones)
    try:
        report = checker.remediate(path, out, mask_mode=mask_mode, force=force)  # type: ignore[arg-type]
    except RemediationError as exc:
        sys.stderr.write(f"mapgate remediate: {exc}\n")
        raise typer.Exit(EXIT_USAGE) from None
    if fmt == "json":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        from rich.console import Console

        _print_report(report, Console())
    if key is not None and attestation is not None:
        _sign(report, key, path, attestation)
    raise typer.Exit(report.verdict.verdict.exit_code)


def conditions_command(
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """List the conditions rules may attach: meaning, parameters, what mapgate can apply."""
    from compliance.rules.conditions import CONDITIONS

    if fmt not in {"text", "json"}:
        raise typer.BadParameter("must be text or json", param_hint="--format")
    docs = [
        {
            "name": c.name,
            "meaning": c.meaning,
            "satisfied_by": c.satisfied_by,
            "applies_to": sorted(c.applies_to),
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type.__name__,
                    "required": p.required,
                    "default": None if p.required else p.default,
                    "description": p.description,
                }
                for p in c.parameters
            ],
        }
        for c in CONDITIONS.values()
    ]
    if fmt == "json":
        sys.stdout.write(json.dumps(docs, indent=2) + "\n")
        return
    for c in CONDITIONS.values():
        applies = ", ".join(sorted(c.applies_to)) or "no (a person must meet it)"
        typer.echo(f"{c.name}\n  {c.meaning}\n  satisfied by: {c.satisfied_by}")
        typer.echo(f"  mapgate applies it to: {applies}")
        for p in c.parameters:
            default = "required" if p.required else f"default {p.default!r}"
            typer.echo(f"  - {p.name} ({p.type.__name__}, {default}): {p.description}")
