"""Shared fixtures. Tests run on SQLite by default, and on PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask import g
from flask_babel import force_locale
from flask_babel import refresh as refresh_locale
from sqlalchemy import create_engine
from sqlalchemy import delete
from sqlalchemy import text
from sqlalchemy.engine import make_url

from consult import create_app
from consult.auth.models import Role
from consult.auth.models import User
from consult.auth.services import create_user as create_account
from consult.compounds.models import Compound
from consult.compounds.models import Street
from consult.compounds.services import create_compound as make_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.config import database_url
from consult.extensions import db

TEST_DATABASE_URL = os.environ.get("DATABASE_URL") or "sqlite://"
PASSWORD = "correct horse battery"


def pytest_report_header() -> str:
    return f"database: {TEST_DATABASE_URL.split('@')[-1]}"


def app_config(**extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "WTF_CSRF_ENABLED": False,
        "MAIL_BACKEND": "memory",
        "SECRET_KEY": "test",
        "SERVER_NAME": None,
        **extra,
    }


def empty_database() -> None:
    """Remove every row so the next test starts clean. The audit log, the ballots and the consensus records
    refuse DELETE (their triggers), so PostgreSQL truncates (no row trigger fires) and SQLite lifts every
    trigger while it deletes."""
    db.session.rollback()
    tables = db.metadata.sorted_tables
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
    else:
        triggers = db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        triggers = triggers.all()
        for name, _sql in triggers:
            db.session.execute(text(f'DROP TRIGGER "{name}"'))
        for table in reversed(tables):
            db.session.execute(delete(table))
        for _name, sql in triggers:
            db.session.execute(text(sql))
    db.session.commit()


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    marker = request.node.get_closest_marker("options")
    app = create_app(app_config(**(marker.kwargs if marker else {})))

    def forget_cached_user() -> None:
        # Flask 3.1's test client reuses the test's app context, so Flask-Login's cached user, the
        # resident's cached invitation and Flask-Babel's cached locale would outlive their request.
        g.pop("_login_user", None)
        g.pop("resident_invitation", None)
        g.pop("csrf_token", None)
        refresh_locale()

    app.before_request_funcs.setdefault(None, []).insert(0, forget_cached_user)  # before the app's own

    with app.app_context():
        db.create_all()
        empty_database()
        yield app
        empty_database()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def street(app: Flask) -> Street:
    district = ensure_district("青羊区")
    street = ensure_street(district, "草堂街道")
    db.session.commit()
    return street


@pytest.fixture
def other_street(app: Flask) -> Street:
    district = ensure_district("青羊区")
    street = ensure_street(district, "少城街道")
    db.session.commit()
    return street


@pytest.fixture
def create_compound(street: Street):
    def _create(name: str = "浣花小区", street_: Street | None = None, **kw: Any) -> Compound:
        compound = make_compound(street_ or street, name, **kw)
        db.session.commit()
        return compound

    return _create


@pytest.fixture
def compound(create_compound) -> Compound:
    return create_compound("浣花小区", year_built=1995, plan_year=2023)


@pytest.fixture
def create_user(app: Flask):
    def _create(
        email: str = "worker@example.test",
        role: Role = Role.WORKER,
        street: Street | None = None,
        password: str = PASSWORD,
        name: str = "李明",
    ) -> User:
        user = create_account(email, name, password, role, street)
        db.session.commit()
        return user

    return _create


@pytest.fixture
def worker(create_user, street: Street) -> User:
    return create_user("worker@example.test", Role.WORKER, street)


class AuthActions:
    def __init__(self, client: Any) -> None:
        self._client = client

    def login(self, user: User | str, password: str = PASSWORD) -> Any:
        email = user if isinstance(user, str) else user.email
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client: Any) -> AuthActions:
    return AuthActions(client)


def dec(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def scratch_database(tmp_path):
    """Makes brand-new empty databases of the kind the suite runs on (an SQLite file, or a PostgreSQL
    database on the server of DATABASE_URL), and drops them afterwards."""
    made: list[str] = []
    server = os.environ.get("DATABASE_URL", "")
    admin = None
    if server.startswith("postgres"):
        url = make_url(database_url(server))
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def _make() -> str:
        if admin is None:
            return f"sqlite:///{tmp_path}/scratch{len(made)}.sqlite"
        name = f"tongxin_scratch_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(database_url(server)).set(database=name).render_as_string(hide_password=False)

    yield _make
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def english_messages(request: pytest.FixtureRequest) -> Iterator[None]:
    """For tests that compare messages in English (the default language is Chinese)."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")
    with force_locale("en"):
        yield
