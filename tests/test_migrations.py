"""The migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from consult import create_app
from consult.config import database_url
from consult.extensions import db


@pytest.fixture
def empty_database_url(scratch_database):
    """A brand-new empty database of the kind the suite runs on."""
    return scratch_database()


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(os.path.join(os.path.dirname(__file__), "..", "migrations")))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(db.inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert_audit_log_is_append_only(empty_database_url)
    assert_ballots_are_append_only(empty_database_url)
    assert_records_are_frozen(empty_database_url)
    assert {"compound", "dwelling", "owner", "occupant", "user_account", "alembic_version"} <= tables


def assert_audit_log_is_append_only(url: str) -> None:
    """The migration installs the triggers that refuse to change or remove an audit entry."""
    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_entry (at, actor, action, detail, prev_hash, hash)"
                " VALUES (CURRENT_TIMESTAMP, 'x', 'x', '{}', 'a', 'b')"
            )
        )
    for statement in ("UPDATE audit_entry SET actor = 'y'", "DELETE FROM audit_entry"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


def assert_ballots_are_append_only(url: str) -> None:
    """The migration installs the same ballot triggers as a new database gets from the models (whose
    behaviour tests/voting/test_services.py checks on both databases)."""
    from consult.voting.models import POSTGRESQL_TRIGGERS
    from consult.voting.models import SQLITE_TRIGGERS

    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found = (
                conn.execute(
                    text(
                        "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t"
                        " JOIN pg_class c ON c.oid = t.tgrelid"
                        " WHERE c.relname = 'ballot' AND NOT t.tgisinternal"
                    )
                )
                .scalars()
                .all()
            )
            function = conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname = 'ballot_append_only'")
            ).scalar_one()
            assert len(found) == 1
            assert "BEFORE DELETE OR UPDATE ON public.ballot" in found[0]
            assert function.strip() in POSTGRESQL_TRIGGERS[0]
        else:
            found = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ballot'")
            )
            assert sorted(found.scalars()) == sorted(SQLITE_TRIGGERS)
    engine.dispose()


def assert_records_are_frozen(url: str) -> None:
    """The migration installs the triggers that refuse to change or remove a record or a decision."""
    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO district (name) VALUES ('d')"))
        conn.execute(text("INSERT INTO street (district_id, name) VALUES (1, 's')"))
        conn.execute(
            text("INSERT INTO compound (street_id, name, created_at) VALUES (1, 'c', CURRENT_TIMESTAMP)")
        )
        conn.execute(
            text(
                "INSERT INTO consensus_record (compound_id, version, snapshot, digest, audit_head,"
                " submitted_at, submitted_by) VALUES (1, 1, '{}', 'd', 'h', CURRENT_TIMESTAMP, 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO record_decision (record_id, kind, reasons, show_residents, decided_at,"
                " decided_by) VALUES (1, 'approved', '{}', false, CURRENT_TIMESTAMP, 'x')"
            )
        )
    for statement in (
        "UPDATE consensus_record SET snapshot = 'changed'",
        "DELETE FROM consensus_record",
        "UPDATE record_decision SET kind = 'returned'",
        "DELETE FROM record_decision",
    ):
        with pytest.raises(DatabaseError, match="frozen"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


def test_addresses_queued_before_are_sealed_and_digested_by_the_migration(empty_database_url):
    """Outbox rows and unsubscribes written while addresses were plain are sealed, given their digests
    and found by them; and the downgrade gives the plain addresses back."""
    from flask_migrate import downgrade

    from consult.notify import services as notify

    migrations = str(os.path.join(os.path.dirname(__file__), "..", "migrations"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=migrations, revision="f1b3d5e7a9c2")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO outbox_message (kind, to_address, locale, subject, text_body, html_body,"
                    " dedupe_key, status, attempts, next_attempt_at, created_at) VALUES ('round_closing',"
                    " 'wf@example.test', 'zh_CN', 's', 't', 'h', 'round:1:closing', 'pending', 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO notify_unsubscribe (address, created_at)"
                    " VALUES ('zw@example.test', CURRENT_TIMESTAMP)"
                )
            )
        upgrade(directory=migrations)
        raw = db.session.execute(text("SELECT to_address, address_digest FROM outbox_message")).one()
        assert raw.to_address.startswith("v1:")
        assert "example" not in raw.to_address
        assert raw.address_digest == notify.address_digest("wf@example.test")
        assert notify.is_unsubscribed("zw@example.test")
        kept = notify.enqueue(
            "round_closing",
            "wf@example.test",
            "zh_CN",
            {"compound": "浣花小区", "round_number": 1, "closes_at": None, "path": "/rounds/1"},
            dedupe_key="round:1:closing",
        )
        assert kept is not None
        assert kept.to_address == "wf@example.test"
        assert kept.subject == "s"
        db.session.rollback()
        db.session.remove()

        downgrade(directory=migrations, revision="f1b3d5e7a9c2")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT to_address FROM outbox_message")).scalar() == "wf@example.test"
            assert conn.execute(text("SELECT address FROM notify_unsubscribe")).scalar() == "zw@example.test"
        db.engine.dispose()
