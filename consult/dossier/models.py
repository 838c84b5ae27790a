"""The consensus record (一院一策): frozen, numbered versions of a compound's record and the district
review's decisions on them. Neither a version nor a decision ever changes: the database refuses it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL
from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.compounds.models import Compound
from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db


class DecisionKind(enum.StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


class ConsensusRecord(db.Model):
    """One submitted version of a compound's record: the canonical JSON snapshot and its SHA-256 digest.
    A later edit is a new version; this row never changes."""

    __tablename__ = "consensus_record"
    __table_args__ = (UniqueConstraint("compound_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    version: Mapped[int]
    #: canonical JSON (sorted keys, no whitespace, UTF-8); the digest is over exactly these bytes
    snapshot: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: the audit log's head hash when the record was submitted (also inside the snapshot)
    audit_head: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(100))

    compound: Mapped[Compound] = relationship()
    decision: Mapped[RecordDecision | None] = relationship(back_populates="record", uselist=False)


class RecordDecision(db.Model):
    """The district review's decision on one version: approved, or returned with reasons per section and
    the round to reopen. One decision per version (a returned record comes back as a new version)."""

    __tablename__ = "record_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("consensus_record.id"), unique=True)
    kind: Mapped[DecisionKind] = mapped_column(str_enum(DecisionKind))
    #: section key → the reviewer's reason (empty for an approval)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the round a return reopens (2 or 3)
    reopened_round: Mapped[int | None]
    #: the reasons are shown on the compound's public notice page
    show_residents: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(100))

    record: Mapped[ConsensusRecord] = relationship(back_populates="decision")


def _sqlite(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'a submitted record is frozen'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'a submitted record is frozen'); END",
    ]


POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION consensus_record_frozen() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'a submitted record is frozen'; END; $$ LANGUAGE plpgsql"
)


def _postgresql(table: str) -> list[str]:
    return [
        POSTGRESQL_FUNCTION,
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION consensus_record_frozen()",
    ]


#: The database itself refuses to change or remove a submitted version or a decision.
SQLITE_TRIGGERS = {table: _sqlite(table) for table in ("consensus_record", "record_decision")}
POSTGRESQL_TRIGGERS = {table: _postgresql(table) for table in ("consensus_record", "record_decision")}

for _model in (ConsensusRecord, RecordDecision):
    _table = _model.__table__
    for _statement in SQLITE_TRIGGERS[_table.name]:
        event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
    for _statement in POSTGRESQL_TRIGGERS[_table.name]:
        event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
