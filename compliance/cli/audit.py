"""``mapgate audit``: batch-check folders of map files, with progress and a report.

Registered by ``compliance.cli.main``; also runnable alone as ``python -m compliance.cli.audit``.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from compliance.batch.local_pool import WorkerStartError
from compliance.batch.remediate_to import BatchRemediator
from compliance.batch.results import CSV, JSONL, AuditResult, read_rows
from compliance.batch.run import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    REPORT,
    AuditRun,
)
from compliance.cli.check import load_cli_config
from compliance.cli.common import FAIL_ON, ConfigOption, fail_on_choice
from compliance.cli.config import Config
from compliance.errors import ComplianceError
from compliance.verdict import Effect
from compliance.zones.demo import describe_zones

__all__ = ["AUDIT_FORMATS", "audit_command", "audit_document", "fail_on_exit_code"]

DEFAULT_OUT = "mapgate-audit"
_ORDER = ("allow", "allow_with_conditions", "review", "deny", "error")
_H = {
    "paths": "Files and folders to audit.",
    "recursive": "Walk sub-folders.",
    "manifest": "CSV file whose 'path' column lists files or folders to audit.",
    "pack": "Rule pack name or YAML file; repeat for several (default: every built-in pack).",
    "zones": "Sensitive-zones file (default: the built-in zones).",
    "workers": "Local worker processes (default: one per CPU; 0 = one file at a time in one "
    "worker process, or in this process when --timeout 0 --memory-mb 0).",
    "scheduler": "Dask scheduler address (tcp://host:8786): run the checks on that cluster.",
    "resume": "Skip datasets already in OUT/results.jsonl (same content, packs and zones).",
    "out": "Folder for results.jsonl, results.csv and report.html.",
    "timeout": "Seconds one dataset's check may take before its process is killed and it "
    "becomes an error row (0: no limit).",
    "memory_mb": "MB of memory one dataset's check may add to its worker process before it "
    "fails as an error row (0: no limit).",
    "untrusted": "The files are a third party's: read each as an upload, so that none can make "
    "the audit read other files or call addresses (VRTs and other pointers become errors).",
    "sign": "Sign each verdict with this private key (PEM); needs --attestations.",
    "attestations": "Folder for the signed verdicts: <sha256>.intoto.json, the sha256 column "
    "of the results.",
    "remediate_to": "Folder for a derivative of every dataset whose verdict names a condition "
    "mapgate can apply: <sha256>.remediated.gpkg/.tif, the sha256 column of the results, and "
    "remediations.jsonl (one line each).",
    "fail_on": "Exit 10/20/30 when any dataset reached this verdict or worse: "
    "allow_with_conditions, review or deny.",
    "format": "Also write the results to stdout as sarif, junit or github annotations "
    "(default text: the summary on stderr only).",
    "quiet": "No progress lines or summary on stderr (errors still go there).",
}
AUDIT_FORMATS = ("text", "sarif", "junit", "github")


def fail_on_exit_code(verdicts: Counter[str], fail_on: str | None) -> int:
    """``fail_on``'s exit code (10/20/30) when any dataset reached it or worse, else 0.

    Error rows are not verdicts and never trigger it.
    """
    if fail_on is None:
        return 0
    threshold = FAIL_ON[fail_on]
    reached = any(n > 0 and Effect(v).severity >= threshold.severity
                  for v, n in verdicts.items() if v in Effect.__members__)  # fmt: skip
    return threshold.exit_code if reached else 0


def _summary(counts: Counter[str]) -> str:
    return " · ".join(f"{k} {counts[k]}" for k in _ORDER if counts.get(k))


def _with_rich_progress(run: AuditRun) -> Iterator[AuditResult]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,  # fmt: skip
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (TextColumn("[bold]audit"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("audit", total=run.total, counts="")
        for row in run:
            progress.update(bar, advance=1, counts=_summary(run.counts))
            yield row


def _with_log_lines(run: AuditRun) -> Iterator[AuditResult]:
    width = len(str(run.total))
    for n, row in enumerate(run, start=1):
        label = row.verdict.value if row.verdict is not None else "error"
        extra = f" ({row.error})" if row.error else ""
        if row.status == "skipped":
            extra = " (done earlier)"
        print(f"[{n:>{width}}/{run.total}] {label:<21} {row.path}{extra}", file=sys.stderr,
              flush=True)  # fmt: skip
        yield row


def audit_command(
    paths: Annotated[list[Path] | None, typer.Argument(help=_H["paths"])] = None,
    recursive: Annotated[
        bool | None, typer.Option("--recursive/--no-recursive", help=_H["recursive"])
    ] = None,
    manifest: Annotated[Path | None, typer.Option(help=_H["manifest"])] = None,
    pack: Annotated[list[str] | None, typer.Option(help=_H["pack"])] = None,
    zones: Annotated[str | None, typer.Option(help=_H["zones"])] = None,
    workers: Annotated[int | None, typer.Option(min=0, help=_H["workers"])] = None,
    scheduler: Annotated[str | None, typer.Option(help=_H["scheduler"])] = None,
    resume: Annotated[bool, typer.Option(help=_H["resume"])] = False,
    out: Annotated[Path | None, typer.Option(help=_H["out"])] = None,
    fail_on: Annotated[str | None, typer.Option(help=_H["fail_on"])] = None,
    timeout: Annotated[float | None, typer.Option(min=0, help=_H["timeout"])] = None,
    memory_mb: Annotated[int | None, typer.Option(min=0, help=_H["memory_mb"])] = None,
    untrusted: Annotated[bool | None, typer.Option("--untrusted", help=_H["untrusted"])] = None,
    sign: Annotated[Path | None, typer.Option("--sign", help=_H["sign"])] = None,
    attestations: Annotated[Path | None, typer.Option(help=_H["attestations"])] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=_H["format"])] = None,
    quiet: Annotated[bool | None, typer.Option("--quiet", "-q", help=_H["quiet"])] = None,
    config: ConfigOption = None,
    remediate_to: Annotated[Path | None, typer.Option(help=_H["remediate_to"])] = None,
) -> None:
    """Check every map dataset under PATHS in parallel; results are written as they arrive.

    Exit code 0 when the run completed, whatever the verdicts (see --fail-on); 2 when it
    could not start (bad arguments, packs, zones or signing key); 1 when it stopped midway
    (workers or the Dask scheduler unusable) or, with --sign, a verdict could not be signed;
    130 when interrupted. Rows written so far are kept.
    """
    settings = load_cli_config("audit", config)
    fmt = settings.get("format", fmt, "text")
    if fmt not in AUDIT_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(AUDIT_FORMATS)}", param_hint="--format")
    fail_on = settings.get("fail-on", fail_on)
    fail_on_choice(fail_on)
    quiet = bool(settings.get("quiet", quiet, False))
    packs = settings.packs(pack)
    zones = settings.path_value("zones", zones)
    out = Path(settings.path_value("out", str(out) if out is not None else None) or DEFAULT_OUT)
    if not paths and manifest is None:
        raise typer.BadParameter("give at least one PATH or --manifest", param_hint="PATHS")
    if (sign is None) != (attestations is None):
        raise typer.BadParameter("--sign and --attestations go together", param_hint="--sign")
    signer = AuditSigner(sign, attestations) if sign and attestations else None
    run = AuditRun(
        paths or [], packs=packs, zones=zones, recursive=settings.get("recursive", recursive, True),
        manifest=manifest, workers=settings.get("workers", workers), scheduler=scheduler,
        resume=resume, out=out, timeout=settings.get("timeout", timeout, DEFAULT_TIMEOUT_S),
        untrusted=settings.get("untrusted", untrusted, False),
        memory_mb=settings.get("memory-mb", memory_mb, DEFAULT_MEMORY_MB),
    )  # fmt: skip
    started = time.monotonic()
    try:
        run.prepare()
        remediator = _remediator(remediate_to, packs, zones, run.spec.untrusted)
    except (ComplianceError, OSError) as exc:
        typer.echo(f"mapgate audit: cannot start: {exc}", err=True)
        raise typer.Exit(2) from exc
    rows: Iterator[AuditResult] = iter(run)
    if not quiet:
        rows = _with_rich_progress(run) if sys.stderr.isatty() else _with_log_lines(run)
    named = describe_zones(zones, fictional=True) if zones is None else zones
    verdicts, paths_done, named = _consume(rows, signer, remediator, out, named)
    elapsed = time.monotonic() - started
    if fmt != "text":
        sys.stdout.write(audit_document(fmt, out, paths_done, packs))
    if not quiet:
        typer.echo(_run_summary(run, verdicts, elapsed, named, out, settings, remediator), err=True)
    if signer is not None and signer.failed:
        typer.echo(f"mapgate audit: {signer.failed} verdict(s) could not be signed", err=True)
        raise typer.Exit(1)
    raise typer.Exit(fail_on_exit_code(verdicts, fail_on))


def _remediator(
    folder: Path | None, packs: list[str | Path] | None, zones: str | None, untrusted: bool
) -> BatchRemediator | None:
    """What ``--remediate-to`` asks for: a remediator with the audit's packs and zones."""
    if folder is None:
        return None
    return BatchRemediator(folder, list(packs) if packs else None, zones, untrusted)


def _run_summary(
    run: AuditRun,
    verdicts: Counter[str],
    elapsed: float,
    zones_named: str,
    out: Path,
    settings: Config,
    remediator: BatchRemediator | None,
) -> str:
    """What the run did, for stderr: counts, zones, where the results are, the config."""
    summary = (
        f"audited {run.total} datasets in {elapsed:.1f}s "
        f"({_summary(verdicts) or 'nothing found'}); "
        f"{len(run.discovery.ignored)} files ignored as not geodata\n"
        f"zones: {zones_named}\n"
        f"results: {out / JSONL}, {out / CSV}, {out / REPORT}\n{settings.describe()}"
    )
    if remediator is not None:
        summary += (f"\nremediated {remediator.made} datasets into {remediator.folder} "
                    f"({remediator.failed} failed)")  # fmt: skip
    return summary


def _consume(
    rows: Iterator[AuditResult],
    signer: AuditSigner | None,
    remediator: BatchRemediator | None,
    out: Path,
    zones_named: str,
) -> tuple[Counter[str], list[str], str]:
    """Run the audit to its end: the count of each verdict, the paths in order, and the
    zones source as the verdicts name it (fictional when they are the demo zones)."""
    verdicts: Counter[str] = Counter()
    paths_done: list[str] = []
    try:
        for row in rows:
            verdicts[row.verdict.value if row.verdict is not None else "error"] += 1
            paths_done.append(row.path)
            zones_named = _zones_named(row) or zones_named
            if signer is not None:
                signer.sign(row)
            if remediator is not None:
                remediator.run(row)
    except KeyboardInterrupt:
        typer.echo(f"\nmapgate audit: interrupted; rerun with --resume to finish ({out})", err=True)
        raise typer.Exit(130) from None
    except (OSError, WorkerStartError) as exc:  # the scheduler or the workers are unusable
        typer.echo(f"mapgate audit: stopped: {exc}; rows so far are in {out / JSONL}; "
                   "rerun with --resume", err=True)  # fmt: skip
        raise typer.Exit(1) from exc
    return verdicts, paths_done, zones_named


def audit_document(fmt: str, out: Path, paths: list[str], packs: list[str | Path] | None) -> str:
    """The run's SARIF, JUnit or annotations, from the full rows in ``results.jsonl``
    (the rows in memory carry only part of each verdict): the latest row of each path."""
    from compliance.outputs import Checked, render, rule_catalog
    from compliance.rules.packs import load_packs
    from compliance.verdict import Verdict

    latest = {row.path: row for row in read_rows(out / JSONL)}
    checked = []
    for path in dict.fromkeys(paths):
        row = latest.get(path)
        if row is None or row.document is None:
            reason = (row.error if row is not None else None) or "no verdict was recorded"
            checked.append(Checked(path, error=reason))
        else:
            checked.append(Checked(path, Verdict.model_validate(row.document)))
    return render(fmt, checked, rule_catalog(load_packs(packs)))


def _zones_named(row: AuditResult) -> str | None:
    """The zones source a verdict names, fictional when they are the demo zones."""
    zones = (row.document or {}).get("zones")
    if not isinstance(zones, dict) or not zones.get("source"):
        return None
    return describe_zones(str(zones["source"]), bool(zones.get("fictional")))


class AuditSigner:
    """Writes one attestation per checked dataset, named by its sha256 (the results' column)."""

    def __init__(self, key: Path, folder: Path) -> None:
        from compliance.cli.attest import load_signing_key

        self.key = load_signing_key(key)  # exits 2 before any check when it cannot sign
        self.folder = folder
        self.failed = 0

    def sign(self, row: AuditResult) -> None:
        if row.document is None or row.sha256 is None:
            return  # an error row: no verdict to sign
        from compliance.cli.attest import write_attestation
        from compliance.verdict import Verdict

        verdict = Verdict.model_validate(row.document)
        out = self.folder / f"{row.sha256}.intoto.json"
        problem = write_attestation(verdict, self.key, Path(row.path), out)
        if problem is not None:
            self.failed += 1
            print(f"mapgate audit: {row.path}: not signed: {problem}", file=sys.stderr, flush=True)


def main() -> None:
    """Run ``audit_command`` as a standalone command."""
    typer.run(audit_command)


if __name__ == "__main__":
    main()
