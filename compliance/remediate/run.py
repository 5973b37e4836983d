"""check -> plan -> apply each action -> write the derivative -> re-check it -> report."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, get_args

from compliance.readers.dataset import open_dataset
from compliance.readers.inputs import InputLimits, LocalInput, dataset_files, materialize
from compliance.readers.sources import VectorSource
from compliance.remediate.actions import ActionContext, ActionResult, MaskMode, Placement
from compliance.remediate.errors import OutputExists, RemediationError
from compliance.remediate.plan import PlannedCondition, plan
from compliance.remediate.registry import action_for
from compliance.remediate.report import ActionReport, OutputInfo, RemediationReport
from compliance.remediate.vector_io import rewrite
from compliance.rules.conditions import CONDITIONS, DataKind
from compliance.verdict import InputInfo, Verdict
from compliance.zones.zone_set import ZoneSet

__all__ = ["RemediationChecker", "derivative_name", "remediate"]

_SUFFIXES: dict[str, tuple[str, ...]] = {"vector": (".gpkg",), "raster": (".tif", ".tiff")}


class RemediationChecker(Protocol):
    """What a remediation needs of a checker (``compliance.checker.Checker``)."""

    zones: ZoneSet
    limits: InputLimits
    untrusted: bool

    def check(
        self,
        source: Any,
        *,
        name: str | None = None,
        packs: list[str] | None = None,
        untrusted: bool = False,
        placed_copy_of: InputInfo | None = None,
    ) -> Verdict: ...


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), path.stat().st_size


def derivative_name(name: str, kind: DataKind) -> str:
    """The file name a derivative of ``name`` gets in an output folder."""
    return f"{Path(name).stem or 'dataset'}.remediated{_SUFFIXES[kind][0]}"


def _refuse_output(out: Path, local: LocalInput, source: object, force: bool) -> None:
    inputs = {p.resolve() for p in dataset_files(local.path)}
    if isinstance(source, str | Path):
        inputs.add(Path(source).resolve())
    if out.resolve() in inputs:
        raise OutputExists(f"{out.name}: the output would overwrite the input")
    if out.exists() and not force:
        raise OutputExists(f"{out.name} exists; give another output or force to replace it")


def _unapplied(planned: PlannedCondition, kind: DataKind) -> str | None:
    """Why mapgate cannot meet a planned condition on this data; None when it can try."""
    known = CONDITIONS.get(planned.name)
    if known is None or not known.applicable:
        return "no change to the data can meet it"
    if action_for(planned.name, kind) is None:
        return f"mapgate cannot apply it to {kind} data"
    if planned.missing:
        return f"no rule gave its parameter(s) {planned.missing}"
    return None


def _apply(ctx: ActionContext) -> ActionResult:
    function = action_for(ctx.condition, ctx.kind)
    assert function is not None
    try:
        return function(ctx)
    except Exception as exc:  # GDAL, GEOS and PROJ raise many types; the re-check still judges
        return ActionResult("cannot_apply", f"failed: {type(exc).__name__}: {exc}")


@contextmanager
def _scratch(near: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=".mapgate-remediate-", dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _actions(
    original: Verdict,
    local: LocalInput,
    kind: DataKind,
    zones: ZoneSet,
    mask_mode: MaskMode,
    scratch: Path,
) -> tuple[list[ActionReport], Path, Placement | None]:
    """Apply the plan; the reports, the last dataset written (or the input) and its placement."""
    reports, current, placement = [], local.path, None
    for step, planned in enumerate(plan(original)):
        why = _unapplied(planned, kind)
        if why is None:
            ctx = ActionContext(
                condition=planned.name,
                kind=kind,
                source=current,
                target=scratch / f"step{step}-{planned.name}{_SUFFIXES[kind][0]}",
                original=local.path,
                profile=original.profile,
                zones=zones,
                parameters=dict(planned.parameters),
                mask_mode=mask_mode,
                scratch=scratch,
            )
            result = _apply(ctx)
            if result.wrote:
                current = ctx.target
            placement = result.placement or placement
        else:
            result = ActionResult("cannot_apply", why)
        reports.append(
            ActionReport(
                condition=planned.name,
                status=result.status,
                reason=result.reason,
                parameters=planned.parameters,
                rules=planned.rules,
                changes=result.changes,
            )
        )
    return reports, current, placement


def _write(current: Path, local: LocalInput, kind: DataKind, out: Path, scratch: Path) -> list[str]:
    """Put the derivative at ``out`` whole or not at all; an unchanged input is copied (its
    features through the vector writer, a raster's main file alone: no sidecar rides along).
    The geometry columns the copy leaves out (see ``vector_io.Rewritten``)."""
    staged = scratch / f"derivative{_SUFFIXES[kind][0]}"
    left_out: list[str] = []
    if current == local.path and kind == "vector":
        left_out = rewrite(current, staged, lambda _layer, table: table).geometry_fields_dropped
    else:
        shutil.copyfile(current, staged)
    os.replace(staged, out)
    return left_out


def remediate(
    checker: RemediationChecker,
    source: str | Path | bytes | BinaryIO,
    out: str | Path,
    *,
    mask_mode: MaskMode = "cut",
    force: bool = False,
    name: str | None = None,
    packs: list[str] | None = None,
    untrusted: bool = False,
) -> RemediationReport:
    """See ``Checker.remediate``."""
    if mask_mode not in get_args(MaskMode):
        raise RemediationError(f"mask mode must be one of {get_args(MaskMode)}, not {mask_mode!r}")
    out = Path(out)
    if not out.parent.is_dir():
        raise RemediationError(f"{out.name}: its folder does not exist")
    if not isinstance(source, str | Path | bytes):
        source = source.read()  # read once: the check and the actions both need it
    untrusted = untrusted or checker.untrusted
    original = checker.check(source, name=name, packs=packs, untrusted=untrusted)
    with materialize(source, name=name, limits=checker.limits, untrusted=untrusted) as local:
        opened = open_dataset(local.path, local.name, uploaded=local.uploaded)
        kind: DataKind = opened.kind  # type: ignore[assignment]
        if isinstance(opened, VectorSource):
            opened.close()
        if out.is_dir():
            out = out / derivative_name(local.name, kind)
        _refuse_output(out, local, source, force)
        if out.suffix.lower() not in _SUFFIXES[kind]:
            raise RemediationError(
                f"{out.name}: a {kind} derivative is written as {' or '.join(_SUFFIXES[kind])}"
            )
        with _scratch(out.parent) as scratch:
            reports, current, placement = _actions(
                original, local, kind, checker.zones, mask_mode, scratch
            )
            left_out = _write(current, local, kind, out, scratch)
            sha256, size = _sha256(out)
            identity = InputInfo(name=out.name, sha256=sha256, size=size)
            note = None
            if placement is None:
                verdict = checker.check(out, packs=packs)
            else:
                placed = scratch / f"placed{_SUFFIXES[kind][0]}"
                placement.restore(out, placed)
                verdict = checker.check(placed, packs=packs, placed_copy_of=identity)
                note = (
                    "the derivative carries no coordinates; it was re-checked where the original "
                    "lies (the remediation knows the offset, the derivative does not)"
                )
    return RemediationReport(
        original=original,
        verdict=verdict,
        actions=reports,
        output=OutputInfo(path=str(out), sha256=sha256, size=size),
        placement=note,
        left_out=left_out,
    )
