"""Declarative base with a naming convention, and time helpers."""

import fcntl
import os
import sqlite3
from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy import MetaData
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Session
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, aware, in UTC. Pass the function itself as a column default."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: how long an SQLite writer waits for the write lock before giving up
SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_setup(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite, per connection: check foreign keys (and cascade deletes), wait for the write lock instead
    of failing at once (concurrent ballots), and let readers run beside a writer (WAL)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database stays "memory"
    except sqlite3.OperationalError:  # another connection is switching the journal mode right now
        pass
    finally:
        cursor.close()


_WRITER_LOCK = "sqlite_writer_lock"


def queue_for_writing(session: Session) -> bool:
    """SQLite: wait in line for the database's writer lock file before this transaction's first write, so
    that concurrent writers wake the moment the one before them ends instead of polling the busy handler
    (whose sleeps grow to 100 ms). Held until the transaction ends. True when held; False on other
    databases, for an in-memory database, and once the connection is already writing (its order is
    set)."""
    if _WRITER_LOCK in session.info:
        return True
    bind = session.get_bind()
    database = bind.url.database if bind.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    raw = session.connection().connection.dbapi_connection
    if raw is None or raw.in_transaction:
        return False
    fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a dead holder's lock is released by the kernel
    session.info[_WRITER_LOCK] = fd
    return True


@event.listens_for(Session, "after_transaction_end")
def _leave_queue(session: Session, transaction: Any) -> None:
    if transaction.parent is None and _WRITER_LOCK in session.info:
        os.close(session.info.pop(_WRITER_LOCK))


class Base(DeclarativeBase):
    """Every model's base: one metadata with a naming convention, aware UTC timestamps."""

    registry = registry(
        metadata=MetaData(
            naming_convention={
                "ix": "ix_%(column_0_label)s",
                "uq": "uq_%(table_name)s_%(column_0_N_name)s",
                "ck": "ck_%(table_name)s_%(constraint_name)s",
                "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                "pk": "pk_%(table_name)s",
            }
        ),
        type_annotation_map={datetime: UTCDateTime()},
    )
