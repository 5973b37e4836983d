"""Batch audits: check every map dataset under some folders, in parallel, resumably.

``audit()`` is the library entry point (it yields one ``AuditResult`` per dataset as
each finishes); ``AuditRun`` is the same with the plan exposed (total, ignored files)
for the ``mapgate audit`` command's progress display.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from compliance.batch.dask_cluster import run_dask
from compliance.batch.local_pool import run_pool, warm_up_pool
from compliance.batch.results import (
    JSONL,
    AuditResult,
    ResultsWriter,
    ResumeIndex,
    slim,
    stat_info,
)  # fmt: skip
from compliance.batch.tasks import CheckerSpec, Task, run_bounded, run_inline, usable_cpus
from compliance.isolation.pool import CheckLimits
from compliance.readers.discover import Dataset, Discovery, discover

__all__ = ["DEFAULT_MEMORY_MB", "DEFAULT_TIMEOUT_S", "REPORT", "AuditRun", "audit"]

DEFAULT_TIMEOUT_S = 600.0  # one dataset's check
DEFAULT_MEMORY_MB = 4096  # what one dataset's check may add to its warm worker

REPORT = "report.html"


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    return usable_cpus()


class AuditRun:
    """One audit: discovery and resume bookkeeping up front, then results as they finish.

    Parameters are those of :func:`audit`. ``prepare()`` builds the Checker (validating
    packs and zones before any worker starts), walks the paths and reads back a previous
    run; iterating runs the checks.
    """

    def __init__(
        self,
        paths: str | Path | Iterable[str | Path],
        *,
        packs: list[str | Path] | None = None,
        zones: str | Path | None = None,
        recursive: bool = True,
        manifest: str | Path | None = None,
        workers: int | None = None,
        scheduler: Any = None,
        resume: bool = False,
        out: str | Path | None = None,
        timeout: float | None = DEFAULT_TIMEOUT_S,
        untrusted: bool = False,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
    ) -> None:
        if resume and out is None:
            raise ValueError("resume=True needs out=, the folder holding results.jsonl")
        self.paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
        self.spec = CheckerSpec(
            packs=tuple(str(p) for p in packs) if packs is not None else None,
            zones=str(zones) if zones is not None else None,
            untrusted=untrusted,
        )
        self.recursive = recursive
        self.manifest = Path(manifest) if manifest is not None else None
        self.workers = default_workers() if workers is None else workers
        self.scheduler = scheduler
        self.resume = resume
        self.out = Path(out) if out is not None else None
        self.timeout = timeout if timeout else None
        self.limits = CheckLimits(timeout_s=self.timeout, memory_mb=memory_mb or None)
        self.fingerprint = ""
        self.discovery = Discovery()
        self.done: list[AuditResult] = []
        self.todo: list[Task] = []
        self.pending: dict[str, AuditResult] = {}
        self.counts: Counter[str] = Counter()
        # Every dataset's latest row, slimmed (see ``slim``): what the CSV and report show.
        self.summary: dict[str, AuditResult] = {}
        self._checker: Any = None

    @property
    def total(self) -> int:
        """Datasets in this audit, including those a resumed run skips."""
        return len(self.done) + len(self.todo)

    def prepare(self) -> AuditRun:
        """Build the Checker, discover the datasets and split them into done and to-do."""
        if self._checker is not None:
            return self
        if self.scheduler is None and self.workers > 0:
            warm_up_pool()
        self._checker = self.spec.build()
        self.fingerprint = self._checker.fingerprint
        exclude = [self.out] if self.out is not None else []
        self.discovery = discover(self.paths, recursive=self.recursive, manifest=self.manifest,
                                  exclude=exclude, untrusted=self.spec.untrusted)  # fmt: skip
        index = ResumeIndex.load(self.out, self.fingerprint) if self.resume and self.out else None
        matched: set[str] = set()
        for ds in self.discovery.datasets:
            task = _task(ds)
            row = index.done(task.path, task.stat) if index else None
            if row is None:
                self.todo.append(task)
            else:
                matched.add(task.path)
                self.done.append(row.model_copy(update={"status": "skipped"}))
        if index is not None and self.out is not None:
            shas = set(index.pending(matched))
            self.pending = index.full_rows(self.out / JSONL, shas)
        return self

    def _execute(self, tasks: list[Task]) -> Iterator[AuditResult]:
        pending = frozenset(self.pending)
        if self.scheduler is not None:
            yield from self._on_dask(tasks, pending)
        elif self.workers <= 0 and not (self.limits.timeout_s or self.limits.memory_mb):
            yield from run_inline(tasks, self._checker, self.fingerprint, pending)
        elif self.workers <= 0:
            yield from run_bounded(tasks, self.spec, self.limits, self.fingerprint, pending)
        else:
            workers = max(1, min(self.workers, len(tasks)))
            yield from run_pool(tasks, self.spec, self.fingerprint, pending, workers,
                                timeout=self.timeout, memory_mb=self.limits.memory_mb)  # fmt: skip

    def _on_dask(self, tasks: list[Task], pending: frozenset[str]) -> Iterator[AuditResult]:
        if not isinstance(self.scheduler, str):
            yield from run_dask(tasks, self.scheduler, self.spec, self.fingerprint, pending,
                                self.limits)  # fmt: skip
            return
        from distributed import Client

        with Client(self.scheduler) as client:
            yield from run_dask(tasks, client, self.spec, self.fingerprint, pending, self.limits)

    def _reuse(self, row: AuditResult) -> AuditResult:
        """A worker found this content already checked under another path: reuse that row."""
        old = self.pending[row.sha256 or ""]
        return old.model_copy(update={
            "path": row.path, "members": row.members, "stat": row.stat, "status": "checked",
            "reused_from": old.reused_from or old.path, "finished_at": row.finished_at,
        })  # fmt: skip

    def __iter__(self) -> Iterator[AuditResult]:
        self.prepare()
        writer = ResultsWriter(self.out, append=self.resume) if self.out is not None else None
        try:
            for row in self.done:
                self._count(row)
                yield row
            if self.todo:
                for row in self._execute(self.todo):
                    if row.status == "skipped":
                        row = self._reuse(row)
                    if writer is not None:
                        writer.write(row)
                    self._count(row)
                    yield row
        finally:
            if writer is not None:
                writer.close()
        if self.out is not None:
            self.finish()

    def _count(self, row: AuditResult) -> None:
        self.counts[row.verdict.value if row.verdict is not None else row.status] += 1
        if self.out is not None:
            self.summary[row.path] = slim(row)

    def finish(self) -> Path:
        """Rewrite ``results.csv`` (one row per dataset of this run) and write the report."""
        from compliance.batch.report import write_report
        from compliance.batch.results import rewrite_csv

        assert self.out is not None
        rows = list(self.summary.values())
        rewrite_csv(self.out, rows)
        meta = {
            "fingerprint": self.fingerprint,
            "packs": list(self.spec.packs or []),
            "zones": self.spec.zones,
            "ignored": len(self.discovery.ignored),
        }
        return write_report(self.out / REPORT, rows, meta)


def _task(ds: Dataset) -> Task:
    # Absolute, not symlink-resolved: resolving costs syscalls per file and per member.
    path = os.path.abspath(ds.path)
    members = tuple(os.path.abspath(m) for m in ds.members)
    stat, size = stat_info(ds.members)
    return Task(path=path, members=members, stat=stat, problem=ds.problem, size=size)


def audit(
    paths: str | Path | Iterable[str | Path],
    *,
    packs: list[str | Path] | None = None,
    zones: str | Path | None = None,
    recursive: bool = True,
    manifest: str | Path | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    out: str | Path | None = None,
    timeout: float | None = None,
    untrusted: bool = False,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> Iterator[AuditResult]:
    """Check every map dataset under ``paths``; yield one result per dataset as it finishes.

    Parameters
    ----------
    paths
        Files and folders. Folders are walked and their files recognised by content;
        a Shapefile and its sidecars are one dataset.
    packs, zones
        As for ``Checker``; loaded once per worker process.
    recursive
        Walk sub-folders.
    manifest
        A CSV file whose ``path`` column lists more files or folders.
    workers
        Local worker processes (default: one per CPU); ``0`` checks in this process.
    scheduler
        A ``dask.distributed`` scheduler address (``"tcp://host:8786"``) or ``Client``:
        the checks then run on that cluster and ``workers`` is ignored.
    resume
        Skip datasets ``out/results.jsonl`` already holds with the same content hash and
        the same packs and zones (checker fingerprint). Needs ``out``.
    out
        Folder for ``results.jsonl``, ``results.csv`` (written as results arrive) and
        ``report.html`` (written at the end). Without ``resume`` existing results there
        are replaced. ``None`` writes nothing.
    timeout
        Seconds one dataset's check may take before its worker process is killed and
        the dataset becomes an ``error`` row (default 600; ``0`` waits forever). Bounds
        every mode: the local pool, ``workers=0`` (one worker process, one file at a
        time) and Dask (each Dask worker thread checks in a worker process of its own).
    memory_mb
        Memory (MB) one dataset's check may add to its warm worker process (default
        4096; ``0`` or ``None``: no limit). A check over it fails and becomes an
        ``error`` row. With ``timeout=0`` and no memory limit, ``workers=0`` checks in
        this process and Dask in its worker threads, unbounded.
    untrusted
        The files are a third party's: read each as an upload is (``Checker.check``), so
        that none can make the audit read other files or call addresses. Formats that
        name other files (VRT, a GDALG pipeline, a PDS label...) become ``error`` rows.

    Yields
    ------
    AuditResult
        ``checked``, ``error`` (the reason in ``error``) or ``skipped`` (done by an
        earlier run; the stored verdict).

    Raises
    ------
    ComplianceError
        Packs or zones are unusable; raised before any dataset is checked.
    """
    run = AuditRun(
        paths, packs=packs, zones=zones, recursive=recursive, manifest=manifest,
        workers=workers, scheduler=scheduler, resume=resume, out=out,
        timeout=DEFAULT_TIMEOUT_S if timeout is None else timeout, untrusted=untrusted,
        memory_mb=memory_mb,
    )  # fmt: skip
    return iter(run.prepare())
