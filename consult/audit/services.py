"""Appending to the audit log."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session

from consult.audit.models import AuditEntry
from consult.db import utcnow
from consult.extensions import db

GENESIS = "0" * 64
#: the committed entries, a line each (id, action, actor, compound, hash; never the detail, which may
#: name a staff member's address): shipped elsewhere with SYSLOG_ADDRESS, they let a copy of the
#: chain's heads outside the database show whether its entries were rewritten since
log = logging.getLogger("consult.audit")
_UNCOMMITTED = "audit_entries"


def entry_hash(prev_hash: str, at: str, actor: str, action: str, compound_id: int | None, detail: str) -> str:
    """SHA-256 over a canonical JSON encoding of the entry and the previous hash."""
    canonical = json.dumps(
        [prev_hash, at, actor, action, compound_id, detail], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: any fixed number: the PostgreSQL advisory lock that serialises appends to the chain
CHAIN_LOCK = 7_310_771


@cache
def _head_query() -> Select[Any]:
    """Built once: every audited action reads it."""
    return select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


def head_hash() -> str:
    """The hash of the latest entry (the genesis value for an empty log)."""
    return db.session.scalars(_head_query()).first() or GENESIS


def record(actor: str, action: str, compound_id: int | None = None, **detail: Any) -> AuditEntry:
    """Append an entry to the log (flushes; the caller commits with the change it records).

    On PostgreSQL a transaction-scoped advisory lock makes concurrent appends queue; on SQLite the
    database's single writer does. Either way the unique previous-hash column refuses a fork."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    head = head_hash()
    prev = head
    at = utcnow().replace(microsecond=0)
    body = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        compound_id=compound_id,
        detail=body,
        prev_hash=prev,
        hash=entry_hash(prev, at.isoformat(), actor, action, compound_id, body),
    )
    db.session.add(entry)
    db.session.flush()
    if log.isEnabledFor(logging.INFO):
        db.session.info.setdefault(_UNCOMMITTED, []).append(
            (entry.id, action, actor, compound_id, entry.hash)
        )
    return entry


def _log_committed(session: Session) -> None:
    for entry_id, action, actor, compound_id, digest in session.info.pop(_UNCOMMITTED, ()):
        log.info(
            "audit entry %s %s by %s, compound %s, hash %s", entry_id, action, actor, compound_id, digest
        )


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_UNCOMMITTED, None)


def log_committed_entries() -> None:
    """Log each audit entry once its transaction commits; those rolled back never (called at
    start-up; again changes nothing)."""
    for name, listener in (("after_commit", _log_committed), ("after_rollback", _forget)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


@dataclass(frozen=True)
class ChainCheck:
    """The result of recomputing the chain: how many entries are sound, and the first broken one."""

    entries: int
    head: str
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(batch: int = 5000) -> ChainCheck:
    """Recompute every entry's hash in order; name the first entry whose content or link does not match."""
    prev = GENESIS
    count = 0
    last_id = 0
    columns = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.compound_id,
        AuditEntry.detail,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    while True:
        # rows straight from the database, never objects the session may hold from before
        entries = db.session.execute(
            select(*columns).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            return ChainCheck(count, prev)
        for entry in entries:
            if entry.prev_hash != prev:
                return ChainCheck(count, prev, entry.id, "does not link to the entry before it")
            at = entry.at.replace(microsecond=0).isoformat()
            expected = entry_hash(prev, at, entry.actor, entry.action, entry.compound_id, entry.detail)
            if entry.hash != expected:
                return ChainCheck(count, prev, entry.id, "its content does not match its hash")
            prev = entry.hash
            count += 1
            last_id = entry.id
