"""Audit store: every verdict, who asked and when, in SQLite (default) or PostgreSQL."""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    event,
    or_,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

__all__ = [
    "BadCursor",
    "BadQuery",
    "Signer",
    "StoredVerdict",
    "VerdictStore",
    "attestations",
    "decode_cursor",
    "encode_cursor",
    "engine_for",
    "metadata",
    "remediations",
    "stopped_checks",
    "verdicts",
]

metadata = MetaData()
verdicts = Table(
    "mapgate_verdicts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("checked_at", DateTime(), nullable=False, index=True),
    Column("stored_at", DateTime(), nullable=False),
    Column("caller", String(100), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("verdict", String(32), nullable=False, index=True),
    Column("input_name", Text, nullable=False),
    Column("input_sha256", String(64), nullable=False, index=True),
    Column("input_size", Integer, nullable=False),
    Column("packs", Text, nullable=False),
    Column("engine", String(100), nullable=False),
    Column("document", Text, nullable=False),
)

# Signed verdicts live in a table of their own: stores made before signing existed keep
# working unchanged, and a verdict stored unsigned simply has no row here.
attestations = Table(
    "mapgate_attestations",
    metadata,
    Column("id", String(64), primary_key=True),  # the verdict's id
    Column("key_id", String(64), nullable=False, index=True),
    Column("signed_at", DateTime(), nullable=False),
    Column("envelope", Text, nullable=False),
)

# Checks stopped before a verdict (time or memory limit, a crash, shutdown): what was
# uploaded, by whom, and why it got no verdict. A table of its own, so stores made before
# it keep working (``create_all`` adds it) and every verdict row stays a verdict.
stopped_checks = Table(
    "mapgate_stopped_checks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("stopped_at", DateTime(), nullable=False, index=True),
    Column("caller", String(100), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("input_name", Text, nullable=False),
    Column("input_size", Integer, nullable=False),
    Column("reason", String(20), nullable=False),
    Column("message", Text, nullable=False),
)

# A remediation links the verdict of an upload to the verdict of the derivative made from it
# (both rows in mapgate_verdicts); a table of its own, so older stores gain it unchanged.
remediations = Table(
    "mapgate_remediations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(), nullable=False, index=True),
    Column("expires_at", DateTime(), nullable=False),
    Column("caller", String(100), nullable=False, index=True),
    Column("original_id", String(64), nullable=False, index=True),
    Column("derivative_id", String(64), nullable=False, index=True),
    Column("output_name", Text, nullable=False),
    Column("output_sha256", String(64), nullable=False),
    Column("document", Text, nullable=False),
)

# Signs a verdict: (envelope JSON, key id), or None when the service has no signing key.
Signer = Callable[[Any], "tuple[str, str] | None"]


class BadQuery(ValueError):
    """A listing query the store cannot run, such as a time out of the calendar's range."""


class BadCursor(BadQuery):
    """A listing cursor that this store did not hand out."""


@dataclass(frozen=True)
class StoredVerdict:
    """One row of the audit trail."""

    id: str
    checked_at: datetime
    caller: str
    role: str
    verdict: str
    input_name: str
    input_sha256: str
    input_size: int
    packs: list[dict[str, str]]
    engine: str
    document: str


def _utc_naive(moment: datetime) -> datetime:
    """Times are stored as naive UTC in both databases."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def encode_cursor(checked_at: datetime, id_: str) -> str:
    raw = json.dumps([checked_at.isoformat(), id_]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, id_ = json.loads(raw)
        return _utc_naive(datetime.fromisoformat(moment)), str(id_)
    except (ValueError, TypeError, OverflowError, binascii.Error) as exc:
        # OverflowError: a time whose zone pushes it past year 9999 or before year 1.
        raise BadCursor(f"invalid cursor {cursor[:100]!r}") from exc


def engine_for(url: str) -> Engine:
    """A SQLAlchemy engine; SQLite gets WAL, a busy timeout and full sync on commit."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def _create_schema(engine: Engine, attempts: int = 10) -> None:
    """Create the tables unless they exist. Service workers start at once and each creates
    the schema: one can find the table missing, lose the race to create it, and fail to
    start ("table mapgate_verdicts already exists"). Asking again then finds it."""
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class VerdictStore:
    """Writes and reads verdicts; each ``save`` is committed before it returns."""

    def __init__(self, url: str, signer: Signer | None = None) -> None:
        self.engine = engine_for(url)
        self.backend = self.engine.dialect.name
        # Called with each verdict before it is stored; its envelope is stored with it, in
        # the same transaction, so no verdict of a signing service is ever kept unsigned.
        self.signer = signer
        _create_schema(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def save(self, verdict: Any, document: str, caller: str, role: str) -> None:
        """Store one ``compliance.Verdict`` and the JSON that was returned for it."""
        packs = [{"name": p.name, "version": p.version, "sha256": p.sha256} for p in verdict.packs]
        row = {
            "id": verdict.id,
            "checked_at": _utc_naive(verdict.checked_at),
            "stored_at": _utc_naive(datetime.now(UTC)),
            "caller": caller,
            "role": role,
            "verdict": str(verdict.verdict),
            "input_name": verdict.input.name,
            "input_sha256": verdict.input.sha256,
            "input_size": verdict.input.size,
            "packs": json.dumps(packs),
            "engine": verdict.engine,
            "document": document,
        }
        signed = self.signer(verdict) if self.signer is not None else None
        with self.engine.begin() as conn:
            # The statement and its parameters apart: SQLAlchemy then compiles the insert
            # once, where ``.values(**row)`` built and keyed a new statement every time.
            conn.execute(verdicts.insert(), row)
            if signed is not None:
                envelope, key_id = signed
                conn.execute(
                    attestations.insert(),
                    {"id": verdict.id, "key_id": key_id, "signed_at": row["stored_at"],
                     "envelope": envelope},
                )  # fmt: skip

    def save_remediation(
        self, id_: str, report: Any, document: str, caller: str, role: str, expires_at: datetime
    ) -> None:
        """Store a remediation: the original's verdict, the derivative's, and their link
        (``report`` a ``RemediationReport``, ``document`` its whole JSON)."""
        for verdict in (report.original, report.verdict):
            self.save(verdict, verdict.model_dump_json(), caller, role)
        row = {
            "id": id_,
            "created_at": _utc_naive(datetime.now(UTC)),
            "expires_at": _utc_naive(expires_at),
            "caller": caller,
            "original_id": report.original.id,
            "derivative_id": report.verdict.id,
            "output_name": report.output.path.rsplit("/", 1)[-1],
            "output_sha256": report.output.sha256,
            "document": document,
        }
        with self.engine.begin() as conn:
            conn.execute(remediations.insert(), row)

    def remediation(self, id_: str, *, caller: str | None = None) -> dict[str, Any] | None:
        """The stored remediation ``id_``; with ``caller``, only if that caller made it."""
        query = select(remediations).where(remediations.c.id == id_)
        if caller is not None:
            query = query.where(remediations.c.caller == caller)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def save_stopped(
        self, caller: str, role: str, name: str, size: int, reason: str, message: str
    ) -> str:
        """Record a check that was stopped before it reached a verdict; returns its id."""
        id_ = str(uuid.uuid4())
        row = {
            "id": id_,
            "stopped_at": _utc_naive(datetime.now(UTC)),
            "caller": caller,
            "role": role,
            "input_name": name,
            "input_size": size,
            "reason": reason,
            "message": message,
        }
        with self.engine.begin() as conn:
            conn.execute(stopped_checks.insert(), row)
        return id_

    def stopped(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recently stopped checks, newest first."""
        query = select(stopped_checks).order_by(stopped_checks.c.stopped_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def attestation(self, id_: str, *, caller: str | None = None) -> str | None:
        """The envelope stored for verdict ``id_``; with ``caller``, only if that caller made it."""
        query = select(attestations.c.envelope).join(verdicts, verdicts.c.id == attestations.c.id)
        query = query.where(attestations.c.id == id_)
        if caller is not None:
            query = query.where(verdicts.c.caller == caller)
        with self.engine.connect() as conn:
            envelope = conn.execute(query).scalar_one_or_none()
        return str(envelope) if envelope is not None else None

    def get(self, id_: str, *, caller: str | None = None) -> StoredVerdict | None:
        """The stored verdict ``id_``; with ``caller``, only if that caller made it."""
        query = select(verdicts).where(verdicts.c.id == id_)
        if caller is not None:
            query = query.where(verdicts.c.caller == caller)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _row(row) if row else None

    def page(
        self,
        *,
        caller: str | None = None,
        verdict: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[StoredVerdict], str | None]:
        """Newest first; returns one page and the cursor of the next (None at the end)."""
        query = select(verdicts)
        if caller is not None:
            query = query.where(verdicts.c.caller == caller)
        if verdict is not None:
            query = query.where(verdicts.c.verdict == verdict)
        if since is not None:
            try:
                since = _utc_naive(since)
            except OverflowError:
                raise BadQuery(f"since {since.isoformat()} is out of range in UTC") from None
            query = query.where(verdicts.c.checked_at >= since)
        if cursor is not None:
            at, id_ = decode_cursor(cursor)
            query = query.where(
                or_(
                    verdicts.c.checked_at < at,
                    and_(verdicts.c.checked_at == at, verdicts.c.id < id_),
                )
            )
        query = query.order_by(verdicts.c.checked_at.desc(), verdicts.c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(query).mappings()]
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last.checked_at, last.id)


def _row(row: Any) -> StoredVerdict:
    return StoredVerdict(
        id=row["id"],
        checked_at=row["checked_at"],
        caller=row["caller"],
        role=row["role"],
        verdict=row["verdict"],
        input_name=row["input_name"],
        input_sha256=row["input_sha256"],
        input_size=row["input_size"],
        packs=json.loads(row["packs"]),
        engine=row["engine"],
        document=row["document"],
    )
