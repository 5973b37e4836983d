"""Safe extraction of zip archives: no escaping paths, no links, bounded count and size."""

from __future__ import annotations

import os
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from compliance.errors import UnsafeArchive

__all__ = [
    "ArchiveLimits",
    "check_archive",
    "is_resource_fork",
    "is_zip",
    "member_path",
    "safe_extract",
    "unique_members",
]

_ZIP_MAGIC = b"PK\x03\x04"
_NESTED_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".kmz")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 1000
    max_total_bytes: int = 2 * 1024**3
    # Deflate tops out near 1032:1, so a member past this ratio and past the floor is forged.
    max_ratio: float = 1100.0
    ratio_floor_bytes: int = 64 * 1024**2


def is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == _ZIP_MAGIC
    except OSError:
        return False


def is_resource_fork(relative: str) -> bool:
    """Whether a path inside an archive (``/``-separated) is macOS's resource-fork litter
    (``._*``, ``__MACOSX/``): no reader opens it, and it holds no map data."""
    parts = relative.split("/")
    return parts[-1].startswith("._") or "__MACOSX" in parts


def member_path(name: str) -> str:
    """Where a member is written in the unpacked folder, ``/``-separated: backslashes are
    separators, and ``.`` and empty path parts (``a/./b``, ``a//b``) are dropped."""
    return "/".join(PurePosixPath(name.replace("\\", "/")).parts)


def _same_name_key(relative: str) -> str:
    # Names a receiver's file system may take as one: case-insensitive (Windows, macOS),
    # Unicode-normalising (macOS).
    return unicodedata.normalize("NFC", relative).casefold()


def unique_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's members, refused when two of them would be written to one file.

    Extraction keeps the last of two members named alike, other tools the first, and
    some both: the check would read one while the other leaves with the archive.

    Raises
    ------
    UnsafeArchive
        Two members' names are the same, or a file's name is another member's folder, once
        letter case, Unicode normalisation, backslashes, ``.`` and ``//`` are set aside.
    """
    members = zf.infolist()
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    for info in members:
        key = _same_name_key(member_path(info.filename))
        parts = key.split("/")
        for i in range(1, len(parts)):
            folders.setdefault("/".join(parts[:i]), info.filename)
        if info.is_dir():
            folders.setdefault(key, info.filename)
            continue
        if key in files:
            raise UnsafeArchive(_repeated(files[key], info.filename))
        files[key] = info.filename
    for key, name in files.items():
        if key in folders:
            raise UnsafeArchive(_repeated(name, folders[key]))
    return members


def _repeated(first: str, second: str) -> str:
    same = (
        f"two members named {first!r}"
        if first == second
        else f"members {first!r} and {second!r}, one name once letter case, '\\', './' and "
        "'//' are set aside"
    )
    return f"zip holds {same}: unpacked, one would hide the other from the check; refused"


def _safe_member_path(name: str, dest: Path) -> Path:
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise UnsafeArchive(f"zip member {name!r} would be written outside the archive folder")
    target = (dest / Path(*posix.parts)).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise UnsafeArchive(f"zip member {name!r} would be written outside the archive folder")
    return target


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def safe_extract(archive: Path, dest: Path, limits: ArchiveLimits | None = None) -> list[Path]:
    """Extract ``archive`` into ``dest`` and return the extracted files.

    Sizes are enforced on the bytes actually written, not on what the directory declares,
    so a forged header cannot smuggle a bomb through.

    Raises
    ------
    UnsafeArchive
        On traversal, links, nested archives, too many members or too many bytes.
    """
    return _walk(archive, limits or ArchiveLimits(), dest)


def check_archive(archive: Path, limits: ArchiveLimits | None = None) -> None:
    """Hold an archive that GDAL reads in place (a KMZ) to the limits of an extracted one:
    every member is inflated once, counted and dropped.

    Raises
    ------
    UnsafeArchive
        On links, nested archives, encryption, too many members or too many bytes.
    """
    _walk(archive, limits or ArchiveLimits(), None)


def _walk(archive: Path, limits: ArchiveLimits, dest: Path | None) -> list[Path]:
    """Inflate every member within the limits, into ``dest`` when given."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchive(f"not a readable zip archive: {exc}") from exc
    written: list[Path] = []
    total = 0
    with zf:
        members = unique_members(zf)
        if len(members) > limits.max_members:
            raise UnsafeArchive(
                f"zip holds {len(members)} members; the limit is {limits.max_members}"
            )
        for info in members:
            if info.is_dir():
                continue
            if _is_link(info):
                raise UnsafeArchive(f"zip member {info.filename!r} is a link; links are refused")
            if info.filename.lower().endswith(_NESTED_SUFFIXES):
                raise UnsafeArchive(
                    f"zip member {info.filename!r} is an archive; nesting is refused"
                )
            if info.flag_bits & 0x1:
                raise UnsafeArchive(f"zip member {info.filename!r} is encrypted")
            target = _safe_member_path(info.filename, dest) if dest is not None else None
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
            member_bytes = 0
            budget = max(limits.max_ratio * info.compress_size, limits.ratio_floor_bytes)
            try:
                with zf.open(info) as src, _sink(target) as out:
                    while chunk := src.read(_CHUNK):
                        member_bytes += len(chunk)
                        total += len(chunk)
                        if total > limits.max_total_bytes:
                            raise UnsafeArchive(
                                f"zip expands past {limits.max_total_bytes} bytes; refused"
                            )
                        if member_bytes > budget:
                            raise UnsafeArchive(
                                f"zip member {info.filename!r} expands more than "
                                f"{limits.max_ratio:.0f}x; refused as a zip bomb"
                            )
                        out.write(chunk)
            except (
                zipfile.BadZipFile,
                EOFError,
                NotImplementedError,
                ValueError,
                zlib.error,  # a damaged deflate stream
                OSError,  # a member offset past the file's end: seeking there fails
            ) as exc:
                raise UnsafeArchive(
                    f"zip member {info.filename!r} cannot be extracted: {exc}"
                ) from exc
            if target is not None:
                written.append(target)
    return written


def _sink(target: Path | None) -> IO[bytes]:
    return target.open("wb") if target is not None else open(os.devnull, "wb")  # noqa: SIM115
