"""Bring any input onto local disk once: hashed, size-checked, zips safely unpacked, cleaned up."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from compliance.errors import InputTooLarge, UnreadableDataset, UnsupportedFormat
from compliance.readers.archive import (
    ArchiveLimits,
    check_archive,
    is_resource_fork,
    is_zip,
    safe_extract,
)
from compliance.readers.background import helper_pool
from compliance.readers.dataset_parts import named_parts, parts_read
from compliance.readers.formats import READ_IN_PLACE, is_dataset_name

__all__ = [
    "InputLimits",
    "LocalInput",
    "dataset_digest",
    "dataset_files",
    "digest_ahead",
    "materialize",
    "unchecked_files",
]

_CHUNK = 1 << 20
_HASH_READ = 8 << 20
_MIN_READ = 1 << 16
# SHA-256 of this many bytes takes about as long as handing it to a helper thread and
# waiting for it (a warm check of a 100 KB GeoJSON: 0.3-0.9 ms less CPU inline).
_INLINE_HASH_BYTES = 512 << 10


@dataclass(frozen=True)
class InputLimits:
    """Bounds on what an input may cost before the check refuses it."""

    max_bytes: int | None = None
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    # Where uploads are spooled and archives unpacked (None: the system temp dir), so that
    # a service can keep them on a disk of its choosing, sized for its limits.
    tmp_dir: Path | None = None


@dataclass(frozen=True)
class LocalInput:
    """An input as a local path GDAL can open, with the identity of the original bytes.

    For a local path the hash is computed in a background thread while the data is read,
    since both are bound by the same disk and neither needs the other.
    """

    path: Path
    name: str
    _digest: Future[tuple[str, int]]
    uploaded: bool = False  # bytes or a file object, not a path the caller chose
    # The unpacked folder of an archive: every file in it leaves with the dataset.
    archive_root: Path | None = None

    @property
    def sha256(self) -> str:
        return self._digest.result()[0]

    @property
    def size(self) -> int:
        return self._digest.result()[1]


def _done(value: tuple[str, int]) -> Future[tuple[str, int]]:
    future: Future[tuple[str, int]] = Future()
    future.set_result(value)
    return future


def _hash_file(path: Path, limits: InputLimits) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb", buffering=0) as f:
        # Few, large reads into one buffer: after each read and each update the thread
        # waits for the GIL again, and while a command starts up its imports hold the GIL
        # for milliseconds at a time (1 MB reads made a 200 MB hash take half as long again).
        wanted = os.fstat(f.fileno()).st_size
        buffer = memoryview(bytearray(min(max(wanted, _MIN_READ), _HASH_READ)))
        while n := f.readinto(buffer):
            size += n
            digest.update(buffer[:n])
    _check_size(size, limits)
    return digest.hexdigest(), size


def _check_size(size: int, limits: InputLimits) -> None:
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise InputTooLarge(f"input is {size} bytes; the limit is {limits.max_bytes}")


def _hash_dataset_files(files: list[Path], limits: InputLimits) -> tuple[str, int]:
    """Hash a dataset: a single file as ``sha256sum`` would; a shapefile with its sidecars
    (or a folder) as one, from each file's name and hash, in name order."""
    if len(files) == 1:
        return _hash_file(files[0], limits)
    digest = hashlib.sha256()
    size = 0
    for f in sorted(files, key=lambda p: p.name):
        part, n = _hash_file(f, InputLimits())
        digest.update(f.name.encode() + b"\0" + part.encode())
        size += n
    _check_size(size, limits)
    return digest.hexdigest(), size


# What identifies a file's bytes without reading them: any write, truncation, rename over
# it or utime changes one of these (ctime cannot be set back by the writer).
_Identity = tuple[tuple[str, int, int, int, int, int], ...]


def _identity(files: list[Path]) -> _Identity:
    out = []
    for f in files:
        st = f.stat()
        out.append((str(f), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


_AHEAD: dict[str, tuple[_Identity, Future[tuple[str, int, _Identity]]]] = {}


def _hash_ahead(files: list[Path]) -> tuple[str, int, _Identity]:
    sha, size = _hash_dataset_files(files, InputLimits())
    return sha, size, _identity(files)


def digest_ahead(path: str | Path) -> None:
    """Start hashing a local dataset now, for the check that will open it later.

    A command knows its input before it has loaded GDAL and the measuring stack: hashing
    on another core meanwhile takes the hash off the read's time. The check uses the
    result only if the files are the same ones, unchanged, from before the hash began
    until the check opened them (device, inode, size, mtime and ctime); otherwise it
    hashes again.
    """
    path = Path(path)
    try:
        if not path.is_file():
            return
        files = dataset_files(path)
        before = _identity(files)
    except OSError:
        return
    _AHEAD[os.path.abspath(path)] = (before, helper_pool().submit(_hash_ahead, files))


def _digest_from_ahead(
    path: Path, files: list[Path], limits: InputLimits
) -> Future[tuple[str, int]] | None:
    """The hash started by ``digest_ahead`` for these very files, confirmed unchanged when
    it finishes; None when there is none or the files changed before the check began."""
    ahead = _AHEAD.pop(os.path.abspath(path), None)
    if ahead is None:
        return None
    before, running = ahead
    now = _identity(files)
    if now != before:
        return None
    confirmed: Future[tuple[str, int]] = Future()

    def confirm(done: Future[tuple[str, int, _Identity]]) -> None:
        try:
            sha, size, after = done.result()
            if after != now:  # changed while being hashed: hash what is there now
                sha, size = _hash_dataset_files(files, InputLimits())
            _check_size(size, limits)
            confirmed.set_result((sha, size))
        except BaseException as exc:  # the check's digest raises what hashing raised
            confirmed.set_exception(exc)

    running.add_done_callback(confirm)
    return confirmed


def dataset_files(path: Path) -> list[Path]:
    """Every file a dataset path stands for: a folder's files, or a shapefile with the parts
    the table names for it (see ``dataset_parts``), found by name alone: the digest is
    taken before GDAL is loaded. Any other file is hashed alone, as ``sha256sum`` would."""
    if path.is_dir():
        return [p for p in path.rglob("*") if p.is_file()]
    if path.suffix.lower() != ".shp":
        return [path]
    return sorted([path, *named_parts(path)])


def _spool(data: bytes | BinaryIO, dest: Path, limits: InputLimits) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        if isinstance(data, bytes | bytearray | memoryview):
            chunks: Iterator[bytes] = iter([bytes(data)])
        else:
            chunks = iter(lambda: data.read(_CHUNK), b"")
        for chunk in chunks:
            size += len(chunk)
            _check_size(size, limits)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _dataset_in_folder(folder: Path, archive_name: str) -> Path:
    # The dataset by the same table as ``discover``'s; a File Geodatabase's own tables are
    # the folder's, not datasets beside it.
    candidates = sorted(
        p
        for p in folder.rglob("*")
        if is_dataset_name(p)
        and not p.name.startswith("._")
        and "__MACOSX" not in p.parts
        and not any(part.lower().endswith(".gdb") for part in p.relative_to(folder).parts[:-1])
    )
    if not candidates:
        raise UnsupportedFormat(f"{archive_name}: the archive holds no map dataset")
    shapefiles = [p for p in candidates if p.suffix.lower() == ".shp"]
    if len(candidates) == 1:
        return candidates[0]
    if (
        shapefiles
        and len(shapefiles) == len(candidates)
        and len({p.parent for p in shapefiles}) == 1
    ):
        # Several shapefiles in one folder open as one multi-layer source, so every layer is checked.
        return shapefiles[0].parent
    names = ", ".join(p.relative_to(folder).as_posix() for p in candidates[:5])
    raise UnsupportedFormat(
        f"{archive_name}: the archive holds several datasets ({names}); check them one at a time "
        "or with `mapgate audit`"
    )


def unchecked_files(folder: Path, dataset: Path) -> tuple[str, ...]:
    """The files under ``folder`` (an unpacked archive, or a folder of shapefiles) that the
    check of ``dataset`` does not read.

    They leave the country with the rest, so a verdict on the whole must name them.
    Only a dataset's parts read with it (``dataset_parts``: a shapefile's ``.dbf``, a
    raster's world file or the ``.ovr`` GDAL opened) are its own: a file that merely shares
    its name (``roads.csv``, ``ortho.ovr``) is not. macOS resource forks (``._*``,
    ``__MACOSX``) hold no data a reader opens.
    """
    # Several shapefiles of a folder are read as one multi-layer source.
    datasets = (
        [p for p in dataset.iterdir() if p.suffix.lower() == ".shp"]
        if dataset.is_dir()
        else [dataset]
    )
    listing = {p.name for p in datasets[0].parent.iterdir()} if datasets else set()
    own = {f for d in datasets for f in (d, *parts_read(d, listing))}
    return tuple(
        sorted(
            relative
            for f in folder.rglob("*")
            if f.is_file()
            and f not in own
            and not is_resource_fork(relative := f.relative_to(folder).as_posix())
        )
    )


@contextmanager
def materialize(
    source: str | Path | bytes | BinaryIO,
    name: str | None = None,
    limits: InputLimits | None = None,
    background_hash: bool = True,
    untrusted: bool = False,
) -> Iterator[LocalInput]:
    """Yield ``source`` as a local, openable path; remove every temporary file on exit.

    A local file is hashed in a background thread while it is read, unless
    ``background_hash`` is off (then it is hashed first). Bytes and file objects are
    uploads; so is a path when ``untrusted`` (a service's spooled upload).

    Raises
    ------
    UnreadableDataset
        The path does not exist, or the input breaks a limit.
    """
    limits = limits or InputLimits()
    scratch = _Scratch(limits.tmp_dir)
    archive_root: Path | None = None
    try:
        if isinstance(source, str | Path):
            path = Path(source)
            if not path.exists():
                raise UnreadableDataset(f"{path}: no such file")
            display = name or path.name
            files = dataset_files(path)
            # The size limit is enforced before anything is read; the hash follows in the
            # background, unless the files are small enough to hash in less time than it
            # takes to hand the work over (below that, a thread only adds switches).
            total = sum(f.stat().st_size for f in files)
            _check_size(total, limits)
            digest = _digest_from_ahead(path, files, limits) if background_hash else None
            if digest is None and background_hash and total > _INLINE_HASH_BYTES:
                digest = helper_pool().submit(_hash_dataset_files, files, limits)
            elif digest is None:
                digest = _done(_hash_dataset_files(files, limits))
        else:
            display = Path(name).name if name else "upload"
            path = scratch.folder() / ("input" + (Path(display).suffix.lower() or ".bin"))
            digest = _done(_spool(source, path, limits))
        zipped = path.is_file() and is_zip(path)
        if zipped and path.suffix.lower() in READ_IN_PLACE:
            # GDAL reads these archives itself: they answer to the same limits all the same.
            check_archive(path, limits.archive)
        elif zipped:
            unpacked = scratch.folder() / "unpacked"
            unpacked.mkdir()
            safe_extract(path, unpacked, limits.archive)
            path = _dataset_in_folder(unpacked, display)
            archive_root = unpacked
        local = LocalInput(
            path=path,
            name=display,
            _digest=digest,
            uploaded=untrusted or not isinstance(source, str | Path),
            archive_root=archive_root,
        )
        try:
            yield local
        finally:
            digest.exception()  # wait: never leave a thread reading a file about to be removed
    finally:
        scratch.remove()


class _Scratch:
    """A private temporary folder, made only when an input needs one (an upload to spool,
    an archive to unpack): a local file is read where it lies."""

    def __init__(self, parent: Path | None = None) -> None:
        self._parent = parent
        self._path: Path | None = None

    def folder(self) -> Path:
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="mapgate-", dir=self._parent))
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)


def dataset_digest(path: Path) -> tuple[str, int]:
    """The sha256 and size a check reports as ``input`` for a local dataset path.

    Batch audits use it to recognise work already done without opening the data.
    """
    files = dataset_files(path)
    return _hash_dataset_files(files, InputLimits())
