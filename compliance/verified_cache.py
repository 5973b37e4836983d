"""Entries kept on disk between processes, read back only when verified.

Some of what a check prepares costs more to rebuild than to read: a pack's territory cut
into tiles (0.05-0.1 s a run, see ``compliance.zones.territory``), a rule pack's YAML
parsed (PyYAML's import and parse, 15 ms a ``mapgate check``). Each entry is stored under
a key the caller derives from the source's content hash (and whatever else changes the
result), so a changed source is never served stale. An entry weakens the gate if anyone
could alter it (a territory with a tile missing lets data there leave unchecked; a pack
with a rule missing lets anything leave), so an entry is read only when all of these hold,
and is otherwise rebuilt as if there were none:

* the cache folder and the entry belong to this user and no one else may write them;
* the entry carries an HMAC-SHA256 of its kind, key and content under a secret made at
  random for this cache folder (readable by this user alone): an entry copied from
  elsewhere, or edited by anyone without the secret, fails;
* its content decodes (the caller checks that).

Where: ``$MAPGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mapgate``, else ``~/.cache/mapgate``.
``MAPGATE_CACHE_DIR=none`` (or ``off``, or empty) turns the cache off. A cache that cannot
be written is left alone: the check goes on without it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "load_entry", "store_entry"]

_MAGIC = b"mapgate-entry-1\n"
_SECRET = "secret"
_DIGEST = hashlib.sha256().digest_size
_OFF = {"", "none", "off"}


def cache_dir() -> Path | None:
    """Where verified entries are kept, or None when the cache is off."""
    chosen = os.environ.get("MAPGATE_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in _OFF else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mapgate"


def _private(path: Path, *, secret: bool = False) -> bool:
    """Whether ``path`` is this user's and no one else may change (or, for the secret,
    read) it; links are not followed."""
    try:
        info = path.lstat()
    except OSError:
        return False
    if info.st_uid != os.getuid() or stat.S_ISLNK(info.st_mode):
        return False
    others = 0o077 if secret else 0o022
    return not info.st_mode & others


def _folder(create: bool) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    if create:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return None
    return folder if _private(folder) else None


def _secret(folder: Path, create: bool) -> bytes | None:
    path = folder / _SECRET
    if create and not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        except OSError:
            return None
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
    if not _private(path, secret=True):
        return None
    try:
        value = path.read_bytes()
    except OSError:
        return None
    return value if len(value) == 32 else None


def _entry(folder: Path, kind: str, key: str) -> Path:
    return folder / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()}.bin"


def _mac(secret: bytes, kind: str, key: str, payload: bytes) -> bytes:
    signed = hmac.new(secret, digestmod=hashlib.sha256)
    for part in (kind.encode(), key.encode()):
        signed.update(len(part).to_bytes(8, "big") + part)
    signed.update(payload)
    return signed.digest()


def load_entry(kind: str, key: str) -> bytes | None:
    """The bytes stored under (``kind``, ``key``), or None when there are none that can be
    verified (see the module's docstring)."""
    folder = _folder(create=False)
    secret = _secret(folder, create=False) if folder is not None else None
    if folder is None or secret is None:
        return None
    path = _entry(folder, kind, key)
    if not _private(path):
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + _DIGEST
    if not data.startswith(_MAGIC) or len(data) < head:
        return None
    mac, payload = data[len(_MAGIC) : head], data[head:]
    if not hmac.compare_digest(mac, _mac(secret, kind, key, payload)):
        return None
    return payload


def store_entry(kind: str, key: str, payload: bytes) -> None:
    """Keep ``payload`` under (``kind``, ``key``) for later processes; silently does
    nothing when the cache is off or cannot be written."""
    folder = _folder(create=True)
    secret = _secret(folder, create=True) if folder is not None else None
    if folder is None or secret is None:
        return
    data = _MAGIC + _mac(secret, kind, key, payload) + payload
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".entry-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(temporary, _entry(folder, kind, key))  # readers see all or nothing
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return
