"""Appending to the audit log."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.db import utcnow
from consult.extensions import db

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: str, actor: str, action: str, compound_id: int | None, detail: str) -> str:
    """SHA-256 over a canonical JSON encoding of the entry and the previous hash."""
    canonical = json.dumps(
        [prev_hash, at, actor, action, compound_id, detail], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(actor: str, action: str, compound_id: int | None = None, **detail: Any) -> AuditEntry:
    """Append an entry to the log (flushes; the caller commits with the change it records)."""
    head = db.session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev = head or GENESIS
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
    return entry
