"""The audit log is append-only in the database, chained by hashes, and checkable afterwards."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.exc import IntegrityError

from consult.audit.models import AuditEntry
from consult.audit.services import GENESIS
from consult.audit.services import head_hash
from consult.audit.services import record
from consult.audit.services import verify_chain
from consult.extensions import db


@pytest.fixture
def entries(app):
    made = [record("user:1", "test.event", None, n=n) for n in range(5)]
    db.session.commit()
    return made


def test_entries_chain_from_the_genesis(entries):
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert head_hash() == entries[-1].hash
    check = verify_chain()
    assert (check.ok, check.entries, check.head) == (True, 5, entries[-1].hash)


@pytest.mark.parametrize("statement", ["UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"])
def test_the_database_refuses_to_change_or_remove_an_entry(entries, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == 5


def test_a_fork_of_the_chain_is_refused(entries):
    twin = AuditEntry(actor="x", action="x", detail="{}", prev_hash=entries[1].prev_hash, hash="f" * 64)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def tamper(statement: str, **params: object) -> None:
    """What someone with direct access to the database might do: lift the protection, then edit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change"))
    else:
        db.session.execute(text("DROP TRIGGER audit_entry_no_update"))
    db.session.execute(text(statement), params)


def test_tampering_is_found_at_the_tampered_entry(entries, runner):
    target = entries[2].id
    tamper("UPDATE audit_entry SET detail = :detail WHERE id = :id", detail='{"n":99}', id=target)
    check = verify_chain()
    assert (check.ok, check.broken_id, check.entries) == (False, target, 2)
    assert "content" in check.problem
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"Broken at entry {target}" in result.output
    db.session.rollback()  # on PostgreSQL this also restores the trigger


def test_a_removed_entry_breaks_the_link_after_it(entries):
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change"))
    else:
        db.session.execute(text("DROP TRIGGER audit_entry_no_delete"))
    db.session.execute(text(f"DELETE FROM audit_entry WHERE id = {entries[1].id}"))
    check = verify_chain()
    assert (check.broken_id, check.problem) == (entries[2].id, "does not link to the entry before it")
    db.session.rollback()


def test_verify_command_on_a_sound_log(entries, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "5 entries, chain intact" in result.output
