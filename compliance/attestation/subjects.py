"""The subjects of a verdict's statement: the checked file, or an archive and its members.

Every digest is taken again from the bytes at hand and must agree with the digest the
check recorded: a file changed between its check and its signing is never attested.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import IO

from compliance.attestation.errors import CannotAttest
from compliance.attestation.statement import Subject
from compliance.errors import UnsafeArchive
from compliance.readers.archive import is_resource_fork, is_zip, member_path, unique_members
from compliance.readers.dataset_parts import parts_read
from compliance.readers.formats import READ_IN_PLACE
from compliance.readers.inputs import dataset_digest, dataset_files
from compliance.verdict import Verdict

__all__ = ["file_sha256", "subjects_for"]

_CHUNK = 1 << 20
_UNCHECKED = "MAPGATE-UNCHECKED-FILES"
_UNCHECKED_SHOWN = 100  # the finding names at most this many files


def _stream_sha256(f: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The hex sha256 of one file's bytes, as ``sha256sum`` prints it."""
    with path.open("rb") as f:
        return _stream_sha256(f)


def _unchecked(verdict: Verdict) -> set[str] | None:
    """The files the check named as not read; None when it may have named only some."""
    names: list[str] = []
    for finding in verdict.findings:
        if finding.rule_id == _UNCHECKED:
            names = [str(n) for n in finding.facts.get("unchecked_files", [])]
    return None if len(names) >= _UNCHECKED_SHOWN else set(names)


def _subject(name: str, sha256: str, **annotations: str) -> Subject:
    return Subject(name=name, digest={"sha256": sha256}, annotations=annotations or None)


def subjects_for(verdict: Verdict, path: Path | None = None) -> list[Subject]:
    """The statement's subjects for ``verdict``, checked against ``path`` when given.

    Without a path (a data frame, bytes already gone) the subject is the input the verdict
    names. A zip is itself a subject, and so is each member the check read; a folder is
    its files the check read, and a shapefile its ``.shp`` and the parts read with it
    (``dataset_parts``), each a subject. A file beside the dataset that merely shares its
    name is never one.

    Raises
    ------
    CannotAttest
        The bytes at ``path`` are not those the verdict was given.
    """
    if path is None:
        return [_subject(verdict.input.name, verdict.input.sha256)]
    if not path.exists():
        raise CannotAttest(f"{path}: no such file")
    # A KMZ, ODS or XLSX is a zip that a reader opens as one file: one subject.
    if path.is_file() and is_zip(path) and path.suffix.lower() not in READ_IN_PLACE:
        return _zip_subjects(verdict, path)
    if dataset_digest(path)[0] != verdict.input.sha256:
        raise CannotAttest(f"{path} changed since it was checked; check it again")
    files = dataset_files(path)
    if len(files) == 1 and path.is_file():
        return [_subject(verdict.input.name, verdict.input.sha256)]
    if path.is_file():  # the digest covers the parts named; the subjects, those read
        files = [path, *parts_read(path)]
    root = path if path.is_dir() else path.parent
    unchecked = _unchecked(verdict)
    if unchecked is None:
        raise CannotAttest(f"{path}: too many unchecked files to name the ones checked")
    members = sorted((f.relative_to(root).as_posix(), f) for f in files)
    return [
        _subject(name, file_sha256(f), dataset=verdict.input.name)
        for name, f in members
        if name not in unchecked and not is_resource_fork(name)
    ]


def _first(pair: tuple[str, zipfile.ZipInfo]) -> str:
    return pair[0]


def _zip_subjects(verdict: Verdict, path: Path) -> list[Subject]:
    """The archive, then each member the check read (the ones it named as unread left out),
    by the name it was unpacked to, as the check named the unread ones."""
    unchecked = _unchecked(verdict)
    members: list[Subject] = []
    with path.open("rb") as f:
        if unchecked is not None:
            with zipfile.ZipFile(f) as archive:
                try:
                    infos = unique_members(archive)
                except UnsafeArchive as exc:  # never checked: the check refuses it too
                    raise CannotAttest(f"{path.name}: {exc}") from exc
                for name, info in sorted(((member_path(i.filename), i) for i in infos), key=_first):
                    if info.is_dir() or is_resource_fork(name) or name in unchecked:
                        continue
                    with archive.open(info) as member:
                        members.append(_subject(name, _stream_sha256(member), archive=path.name))
        # Hashed after the members were read: a file rewritten meanwhile no longer matches.
        f.seek(0)
        whole = _stream_sha256(f)
    if whole != verdict.input.sha256:
        raise CannotAttest(f"{path} changed since it was checked; check it again")
    return [_subject(verdict.input.name, whole)] + members
