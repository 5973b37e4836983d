"""``mapgate audit --remediate-to DIR``: a derivative for every audited dataset whose
verdict names a condition mapgate can apply, named by the dataset's sha256 (the results'
``sha256`` column), with one line per dataset in ``DIR/remediations.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compliance.batch.results import AuditResult
from compliance.rules.conditions import CONDITIONS

__all__ = ["LOG", "BatchRemediator", "derivative_path", "needs_remediation"]

LOG = "remediations.jsonl"
_SUFFIX = {"vector": ".gpkg", "raster": ".tif"}


def needs_remediation(document: dict[str, Any] | None) -> bool:
    """The verdict names a condition mapgate can apply to data of its kind."""
    if not document:
        return False
    kind = (document.get("profile") or {}).get("kind")
    return any(
        kind in CONDITIONS[c].applies_to
        for c in document.get("conditions") or []
        if c in CONDITIONS
    )


def derivative_path(folder: Path, row: AuditResult) -> Path:
    """Where the derivative of an audited dataset goes: ``<sha256>.remediated.gpkg`` (or .tif)."""
    kind = ((row.document or {}).get("profile") or {}).get("kind", "vector")
    return folder / f"{row.sha256}.remediated{_SUFFIX.get(kind, '.gpkg')}"


class BatchRemediator:
    """Remediates audited datasets one by one, in this process, with a checker of the
    audit's packs and zones; a dataset already remediated (same sha256) is not done again."""

    def __init__(
        self,
        folder: Path,
        packs: list[str | Path] | None,
        zones: str | Path | None,
        untrusted: bool = False,
    ) -> None:
        from compliance.checker import Checker

        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.checker = Checker(packs=packs, zones=zones, untrusted=untrusted)
        self.made = self.failed = 0

    def run(self, row: AuditResult) -> dict[str, Any] | None:
        """Remediate one audited dataset if it needs it; the line logged for it, else None."""
        if row.sha256 is None or not needs_remediation(row.document):
            return None
        out = derivative_path(self.folder, row)
        line: dict[str, Any] = {"path": row.path, "sha256": row.sha256, "output": out.name}
        if out.exists():
            return None  # done by an earlier run: the name is the content's
        try:
            report = self.checker.remediate(Path(row.path), out)
        except Exception as exc:  # one dataset's failure is its own line, never the audit's end
            self.failed += 1
            line["error"] = f"{type(exc).__name__}: {exc}"
        else:
            self.made += 1
            line |= {
                "output_sha256": report.output.sha256,
                "original": report.original.verdict.value,
                "verdict": report.verdict.verdict.value,
                "conditions": report.verdict.conditions,
                "actions": {a.condition: a.status for a in report.actions},
            }
        with (self.folder / LOG).open("a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")
        return line
