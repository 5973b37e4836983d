"""The audit's results on disk: one row per dataset, appended as soon as it is known.

``results.jsonl`` is the record the audit trusts (``--resume`` reads it back);
``results.csv`` carries the same rows flattened for spreadsheets. Every row is written
with a single ``write`` of a whole line and flushed at once, so a killed run loses at
most the row being written; a torn last line (power cut) is cut off before appending.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from compliance.verdict import Effect

__all__ = [
    "CSV_COLUMNS", "AuditResult", "ResultsWriter", "ResumeIndex", "deciding_finding",
    "read_rows", "reason", "rewrite_csv", "slim", "stat_info",
]  # fmt: skip

JSONL = "results.jsonl"
CSV = "results.csv"
CSV_COLUMNS = [
    "path", "status", "verdict", "error", "sha256", "size", "packs", "rules", "bounds_wgs84",
    "fingerprint", "duration_ms", "finished_at", "reused_from",
    # Appended later: readers that go by position keep working.
    "conditions", "resolution_m", "scale_denominator", "reason",
]  # fmt: skip
_FROM_DOCUMENT = {
    "packs", "rules", "bounds_wgs84", "conditions", "resolution_m", "scale_denominator", "reason",
}  # fmt: skip
_CSV_FIELDS = set(CSV_COLUMNS) - _FROM_DOCUMENT
_FSYNC_EVERY_S = 1.0

Status = Literal["checked", "error", "skipped"]


class AuditResult(BaseModel):
    """One dataset's outcome in an audit.

    ``status`` is ``checked`` (a verdict was reached), ``error`` (the file could not be
    checked: ``error`` says why) or ``skipped`` (``--resume`` found it already done; the
    verdict is the stored one and no new row is written).
    """

    path: str
    members: list[str] = Field(default_factory=list, description="File names of the dataset.")
    status: Status
    verdict: Effect | None = None
    error: str | None = None
    sha256: str | None = None
    size: int | None = None
    stat: str | None = Field(
        default=None, description="Key over the members' names, sizes, times and inodes."
    )
    fingerprint: str
    duration_ms: float | None = None
    worker: str | None = Field(default=None, description="host:pid of the process that checked it.")
    finished_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    reused_from: str | None = Field(
        default=None, description="Same content already checked under this path."
    )
    document: dict[str, Any] | None = Field(default=None, description="The verdict JSON.")


def stat_info(members: Iterable[Path]) -> tuple[str | None, int]:
    """A short key over the members' names, sizes, times and inodes, and their total size in
    bytes (None and 0 when one is missing).

    Whoever delivers the files can set a modification time back after swapping the content,
    so the key also holds the inode and the change time, which only the kernel sets (as
    git's index does): a rewritten or replaced file no longer matches its stored row."""
    digest = hashlib.sha1(usedforsecurity=False)
    total = 0
    try:
        for m in sorted(members):
            st = m.stat()
            total += st.st_size
            digest.update(
                f"{m.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
                f"\0{st.st_dev}\0{st.st_ino}\n".encode()
            )
    except OSError:
        return None, 0
    return digest.hexdigest()[:20], total


_KEEP_POINTS = 64


def _thin_coords(coords: Any) -> Any:
    """GeoJSON coordinates with every ring or line cut to at most ``_KEEP_POINTS`` points."""
    if not isinstance(coords, list) or not coords or not isinstance(coords[0], list):
        return coords
    if coords[0] and not isinstance(coords[0][0], list):  # a ring or a line: positions
        step = -(-len(coords) // _KEEP_POINTS)
        return coords if step == 1 else coords[::step] + [coords[-1]]
    return [_thin_coords(c) for c in coords]


def slim(row: AuditResult) -> AuditResult:
    """The row with only the parts of its verdict that the CSV and the report read.

    Kept in memory for every dataset of a run (and for every row a resumed run reads
    back), so a whole verdict per file would not do for archives of 100,000 files.
    """
    doc = row.document
    if not doc:
        return row
    profile = doc.get("profile") or {}
    footprint = profile.get("footprint_wgs84")
    if isinstance(footprint, dict):
        footprint = {**footprint, "coordinates": _thin_coords(footprint.get("coordinates"))}
    small = {
        "packs": [{k: p.get(k) for k in ("name", "version", "outcome")}
                  for p in doc.get("packs") or []],
        "findings": [_slim_finding(f) for f in doc.get("findings") or []],
        "zones": {k: (doc.get("zones") or {}).get(k) for k in ("source", "fictional")},
        "conditions": [sys.intern(str(c)) for c in doc.get("conditions") or []],
        "profile": {
            **{k: profile.get(k) for k in _PROFILE_FACTS},
            "bounds_wgs84": profile.get("bounds_wgs84"), "footprint_wgs84": footprint,
        },
    }  # fmt: skip
    return row.model_copy(update={"document": small})


# The measured facts the report's detail view shows beside the findings.
_PROFILE_FACTS = (
    "kind", "format", "crs", "area_km2", "resolution_m", "scale_denominator", "scale_source",
    "feature_count",
)  # fmt: skip


def _slim_finding(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding as the report shows it. The texts come from a few rules and repeat on
    every file, so they are interned (one copy each in memory however many rows). The
    zone facts a rule read (counts, classes) are dropped: the report never showed them."""
    text = {k: sys.intern(v) if isinstance(v := finding.get(k), str) else v
            for k in ("rule_id", "pack", "effect", "message", "reference")}  # fmt: skip
    facts = {
        name: value for name, value in (finding.get("facts") or {}).items()
        if not (name == "zones" or name.startswith("zones."))
    }  # fmt: skip
    # held_by only where set: the report counts rules that fired, not rules held.
    held = {"held_by": finding["held_by"]} if finding.get("held_by") else {}
    return {**text, **held, "conditions": list(finding.get("conditions") or []), "facts": facts}


def deciding_finding(row: AuditResult) -> dict[str, Any] | None:
    """The finding that set the verdict: the first whose effect is the verdict's."""
    if row.verdict is None or not row.document:
        return None
    return next(
        (f for f in row.document.get("findings") or [] if f.get("effect") == row.verdict.value),
        None,
    )


def reason(row: AuditResult) -> str:
    """The main reason for a row's verdict, ``RULE-ID: message``; empty without one."""
    finding = deciding_finding(row)
    if finding is None:
        return ""
    message = finding.get("message")
    return f"{finding.get('rule_id')}: {message}" if message else str(finding.get("rule_id"))


def _cut_torn_tail(path: Path) -> None:
    """Drop a partial last line left by a crash, so appends start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        end = f.seek(0, os.SEEK_END)
        pos = end
        while pos > 0:
            start = max(0, pos - 65536)
            f.seek(start)
            chunk = f.read(pos - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            pos = start
        else:
            cut = 0
        if cut != end:
            f.truncate(cut)


def read_rows(path: Path) -> Iterator[AuditResult]:
    """Rows of a ``results.jsonl``; unparsable lines (a torn tail) are passed over."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                continue
            try:
                yield AuditResult.model_validate_json(line)
            except ValueError:
                continue


def _csv_row(row: AuditResult) -> list[str]:
    doc = row.document or {}
    packs = ";".join(f"{p.get('name')}={p.get('outcome') or 'n/a'}" for p in doc.get("packs") or [])
    rules = ";".join(
        sorted({str(f.get("rule_id")) for f in doc.get("findings") or [] if not f.get("held_by")})
    )
    profile = doc.get("profile") or {}
    bounds = profile.get("bounds_wgs84")
    values: dict[str, Any] = row.model_dump(mode="json", include=_CSV_FIELDS)
    values.update(
        packs=packs, rules=rules, bounds_wgs84=json.dumps(bounds) if bounds else "",
        conditions=";".join(str(c) for c in doc.get("conditions") or []),
        resolution_m=profile.get("resolution_m"),
        scale_denominator=profile.get("scale_denominator"),
        reason=reason(row),
    )  # fmt: skip
    return ["" if values.get(c) is None else str(values[c]) for c in CSV_COLUMNS]


def _csv_header(path: Path) -> list[str] | None:
    """The first row of a CSV file; None when there is no file or it is empty."""
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f), None)


def rewrite_csv(out: Path, rows: Iterable[AuditResult]) -> None:
    """Replace ``results.csv`` with ``rows`` (atomically: a temporary file renamed over it)."""
    tmp = out / (CSV + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_row(row) for row in rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out / CSV)


class ResultsWriter:
    """Append rows to ``results.jsonl`` and ``results.csv`` in ``out``, flushed per row."""

    def __init__(self, out: Path, *, append: bool) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = out / JSONL
        self.csv_path = out / CSV
        if append:
            _cut_torn_tail(self.jsonl_path)
            _cut_torn_tail(self.csv_path)
            if _csv_header(self.csv_path) not in (None, CSV_COLUMNS):
                # Written by an older version with fewer columns: appending would put rows
                # of another shape under its header, so it is rebuilt from the record.
                rewrite_csv(out, read_rows(self.jsonl_path))
        mode = "a" if append else "w"
        self._jsonl = self.jsonl_path.open(mode, encoding="utf-8")
        self._csv = self.csv_path.open(mode, encoding="utf-8", newline="")
        if self._csv.tell() == 0:
            self._write_csv(CSV_COLUMNS)
        self._last_sync = time.monotonic()

    def _write_csv(self, values: list[str]) -> None:
        buf = io.StringIO()
        csv.writer(buf).writerow(values)
        self._csv.write(buf.getvalue())
        self._csv.flush()

    def write(self, row: AuditResult) -> None:
        """Append one row to both files; fsync at most once a second."""
        self._jsonl.write(row.model_dump_json() + "\n")
        self._jsonl.flush()
        self._write_csv(_csv_row(row))
        if time.monotonic() - self._last_sync > _FSYNC_EVERY_S:
            self.sync()

    def sync(self) -> None:
        for f in (self._jsonl, self._csv):
            f.flush()
            os.fsync(f.fileno())
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if not self._jsonl.closed:
            self.sync()
            self._jsonl.close()
            self._csv.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ResumeIndex:
    """What a previous run finished, for one checker fingerprint.

    A dataset is done when a stored row has the same content hash and fingerprint. To
    avoid reading every file again, a row whose path and ``stat`` (names, sizes, mtimes)
    still match is trusted without hashing; the hashes of rows that no file matched that
    way are ``pending``: workers hash those candidates and skip the ones whose content was
    already checked under another path (a moved or touched file).
    """

    def __init__(self, rows: Iterable[AuditResult], fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.by_path: dict[str, AuditResult] = {}
        for row in rows:
            if row.fingerprint == fingerprint and row.status != "skipped":
                self.by_path[row.path] = slim(row)

    @classmethod
    def load(cls, out: Path, fingerprint: str) -> ResumeIndex:
        return cls(read_rows(out / JSONL), fingerprint)

    def full_rows(self, jsonl: Path, shas: set[str]) -> dict[str, AuditResult]:
        """The stored rows (whole verdicts) with these content hashes, read back from disk."""
        if not shas:
            return {}
        return {
            row.sha256: row for row in read_rows(jsonl)
            if row.sha256 in shas and row.fingerprint == self.fingerprint
            and row.status == "checked"
        }  # fmt: skip

    def done(self, path: str, stat: str | None) -> AuditResult | None:
        """The stored row for an unchanged file, or None."""
        row = self.by_path.get(path)
        if row is not None and stat is not None and row.stat == stat:
            return row
        return None

    def pending(self, matched: set[str]) -> dict[str, AuditResult]:
        """Stored rows by content hash, for rows whose path was not matched by stat."""
        return {
            row.sha256: row
            for path, row in self.by_path.items()
            if path not in matched and row.sha256 and row.status == "checked"
        }
