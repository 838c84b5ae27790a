"""The app serves with a PostgreSQL role that owns nothing: a whole consultation runs under it, and it
cannot change the records, nor lift the triggers that keep them append-only."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from consult import create_app
from consult import register_round_content
from consult.audit import models as audit_models
from consult.dossier import models as dossier_models
from consult.extensions import db
from consult.grants import APPEND_ONLY
from consult.grants import grant_statements
from consult.voting import models as voting_models
from tests.conftest import TEST_DATABASE_URL

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def test_every_append_only_table_is_only_appended_to():
    guarded = {statement.split(" ON ")[1].split()[0] for statement in audit_models.POSTGRESQL_TRIGGERS[1:]}
    guarded |= set(dossier_models.POSTGRESQL_TRIGGERS)
    guarded |= {statement.split(" ON ")[1].split()[0] for statement in voting_models.POSTGRESQL_TRIGGERS[1:]}
    assert guarded == set(APPEND_ONLY)
    statements = grant_statements("tongxin_app", ["ballot", "audit_entry", "owner", "alembic_version"])
    assert 'GRANT SELECT, INSERT, UPDATE (active) ON TABLE "ballot" TO "tongxin_app"' in statements
    assert 'GRANT SELECT, INSERT ON TABLE "audit_entry" TO "tongxin_app"' in statements
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "owner" TO "tongxin_app"' in statements
    assert 'GRANT SELECT ON TABLE "alembic_version" TO "tongxin_app"' in statements
    for wrong in ("Tongxin", "app; DROP TABLE ballot", 'a"b', ""):
        with pytest.raises(ValueError, match="role name"):
            grant_statements(wrong, ["ballot"])


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgres"), reason="DATABASE_URL does not name a PostgreSQL database"
)
def test_a_whole_consultation_runs_under_the_apps_role_which_cannot_change_the_records(
    scratch_database, tmp_path
):
    from consult.dossier.sample import run_consultation
    from consult.notify.mailer import get_mailer
    from consult.notify.services import send_pending
    from consult.retention.services import purge_compound
    from consult.voting.export import tally_data

    owner_url = scratch_database()
    role = f"tongxin_app_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(owner_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    migrator = create_app({"SQLALCHEMY_DATABASE_URI": owner_url, "TESTING": True})
    with migrator.app_context():
        upgrade(directory=MIGRATIONS)
        granted = migrator.test_cli_runner().invoke(args=["grant-app-role", role])
        assert granted.exit_code == 0, granted.output
        assert "it owns none of them" in granted.output
    app_url = make_url(owner_url).set(username=role, password=None).render_as_string(hide_password=False)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app_url,
            "TESTING": True,
            "MAIL_BACKEND": "memory",
            "SECRET_KEY": "test",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    try:
        with app.app_context():
            register_round_content()
            compound, staff = _compound_and_staff()
            done = run_consultation(
                compound,
                datetime.now(UTC) - timedelta(days=120),
                staff["worker"],
                staff["reviewer"],
                [staff["expert"], staff["expert2"]],
                turnout=1.0,
            )
            db.session.commit()
            vote = done.rounds[-1]
            assert tally_data(vote)["questions"]  # counted by the app's role
            assert send_pending(get_mailer(app), datetime.now(UTC)).sent  # the outbox claims and sends
            purged = purge_compound(compound, datetime.now(UTC), "cli:purge", datetime.now(UTC))
            db.session.commit()
            assert purged.owners  # and the purge masks and removes what it must
            for refused in (
                "UPDATE audit_entry SET actor = 'someone else'",
                "DELETE FROM audit_entry",
                "UPDATE ballot SET choice = 'no'",
                "DELETE FROM ballot",
                "TRUNCATE ballot",
                "ALTER TABLE audit_entry DISABLE TRIGGER ALL",
                "ALTER TABLE ballot DISABLE TRIGGER ballot_append_only",
                "DROP TABLE consensus_record CASCADE",
                "UPDATE alembic_version SET version_num = 'x'",
            ):
                with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
                    db.session.execute(text(refused))
                db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        with migrator.app_context():
            db.session.execute(text(f'DROP OWNED BY "{role}"'))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def _compound_and_staff():
    from consult.auth.models import Role
    from consult.auth.services import create_user
    from consult.compounds.services import create_compound
    from consult.compounds.services import ensure_district
    from consult.compounds.services import ensure_street
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows
    from tests.conftest import PASSWORD
    from tests.voting.conftest import ROSTER

    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "浣花小区", year_built=1995, plan_year=2023)
    staff = {
        "worker": create_user("worker@example.test", "李明", PASSWORD, Role.WORKER, street),
        "reviewer": create_user("reviewer@example.test", "区审", PASSWORD, Role.REVIEWER, None),
        "expert": create_user("expert@example.test", "王工", PASSWORD, Role.EXPERT, None),
        "expert2": create_user("expert2@example.test", "赵工", PASSWORD, Role.EXPERT, None),
    }
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return compound, staff
