"""Production start-up (wsgi.py) refuses a development secret or debug mode; requests are capped in
size; a new session starts at every sign-in; CI lints with ruff's security rules."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from consult.safety import plaintext_backends
from consult.safety import weak_secret

ROOT = Path(__file__).resolve().parents[2]


def start_wsgi(tmp_path: Path, code: str = "import wsgi", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG", "TWO_STEP_ROLES")}
    clean.update({"DATABASE_URL": f"sqlite:///{tmp_path}/w.sqlite", **env})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_a_development_secret_or_debug(tmp_path):
    refused = start_wsgi(tmp_path)
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr
    assert start_wsgi(tmp_path, SECRET_KEY="short").returncode != 0
    guessable = start_wsgi(tmp_path, SECRET_KEY="changeme-changeme")
    assert guessable.returncode != 0
    assert "easy to guess" in guessable.stderr
    debug = start_wsgi(tmp_path, SECRET_KEY="a-long-random-production-secret", FLASK_DEBUG="1")
    assert debug.returncode != 0
    assert "Debug" in debug.stderr
    started = start_wsgi(tmp_path, SECRET_KEY="a-long-random-production-secret")
    assert started.returncode == 0, started.stderr


SHOW_TWO_STEP = "import wsgi; print(','.join(wsgi.app.config['TWO_STEP_ROLES']) or '-')"


def test_served_in_production_every_staff_role_signs_in_in_two_steps_unless_told(tmp_path):
    secret = "a-long-random-production-secret"
    shown = {
        setting: start_wsgi(
            tmp_path, SHOW_TWO_STEP, SECRET_KEY=secret, **({"TWO_STEP_ROLES": setting} if setting else {})
        )
        for setting in (None, "none", "admin, worker")
    }
    assert {setting: started.stdout.strip() for setting, started in shown.items()} == {
        None: "worker,expert,reviewer,admin",
        "none": "-",
        "admin, worker": "admin,worker",
    }


def backends(database="sqlite:///x.sqlite", counters="memory://", mail="console", sendgrid=""):
    return {
        "SQLALCHEMY_DATABASE_URI": database,
        "RATELIMIT_STORAGE_URI": counters,
        "MAIL_BACKEND": mail,
        "SENDGRID_HOST": sendgrid,
    }


@pytest.mark.parametrize(
    "config",
    [
        backends(),
        backends("postgresql+psycopg://postgres@127.0.0.1:5432/tongxin", "redis://localhost:6379/0"),
        backends("postgresql+psycopg:///tongxin"),  # the Unix socket
        backends("postgresql+psycopg://u:pw@db.internal/tongxin?host=/run/postgresql"),
        backends("postgresql+psycopg://u:pw@db.internal/tongxin?sslmode=verify-full"),
        backends(counters="rediss://cache.internal:6380/0"),
        backends(mail="sendgrid", sendgrid="https://api.sendgrid.com"),
        backends(mail="sendgrid", sendgrid="http://127.0.0.1:8025"),  # the tests' stand-in
        backends(mail="console", sendgrid="http://mail.internal"),  # not used
    ],
)
def test_backends_on_this_machine_or_behind_verified_tls_pass(config):
    assert plaintext_backends(config) == []


def test_backends_over_the_network_without_verified_tls_are_named_without_their_passwords():
    found = plaintext_backends(
        backends(
            "postgresql+psycopg://tongxin:s3cret@db.internal:5432/tongxin?sslmode=require",
            "redis://:s3cret@cache.internal:6379/0",
            "sendgrid",
            "http://relay.internal",
        )
    )
    assert [entry.split(" (")[0] for entry in found] == [
        "the database at db.internal",
        "the rate-limit counters at cache.internal",
        "SendGrid at relay.internal",
    ]
    assert not any("s3cret" in entry for entry in found)
    by_query = backends("postgresql+psycopg://u@/tongxin?host=db.internal&sslmode=prefer")
    assert plaintext_backends(by_query)[0].startswith("the database at db.internal ")
    unchecked = backends(counters="rediss://cache.internal:6380/0?ssl_cert_reqs=none")
    assert plaintext_backends(unchecked) == ["the rate-limit counters at cache.internal (use rediss://)"]


def test_production_refuses_backends_over_the_network_without_tls_unless_allowed(tmp_path):
    secret = "a-long-random-production-secret"
    remote = "postgresql://tongxin:s3cret@db.invalid:5432/tongxin"
    refused = start_wsgi(tmp_path, SECRET_KEY=secret, DATABASE_URL=remote)
    assert refused.returncode != 0
    assert "the database at db.invalid" in refused.stderr
    assert "s3cret" not in refused.stderr
    allowed = start_wsgi(tmp_path, SECRET_KEY=secret, DATABASE_URL=remote, ALLOW_PLAINTEXT_BACKENDS="1")
    assert allowed.returncode == 0, allowed.stderr


def test_what_start_up_made_is_kept_out_of_the_collectors_sight(tmp_path):
    started = start_wsgi(
        tmp_path,
        "import gc, wsgi; print(gc.get_freeze_count())",
        SECRET_KEY="a-long-random-production-secret",
    )
    assert started.returncode == 0, started.stderr
    assert int(started.stdout) > 50_000  # the app's objects, frozen (a full collection skips them)


@pytest.mark.options(MAX_CONTENT_LENGTH=1024)
def test_a_request_larger_than_the_limit_is_refused(client):
    response = client.post("/auth/login", data={"email": "a@example.test", "password": "x" * 4096})
    assert response.status_code == 413


def test_staff_sign_in_starts_a_new_session(client, auth, worker):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.login(worker)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" in session


def test_the_code_exchange_starts_a_new_session(client, compound):
    from datetime import UTC
    from datetime import datetime

    from consult.extensions import db
    from consult.residents.services import card_people
    from consult.residents.services import issue_cards
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows

    apply_rows(compound, parse_roster("楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80,张伟\n".encode()), "t")
    [card] = issue_cards(card_people(compound), compound, "t", datetime.now(UTC))
    db.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"  # a display choice, kept
    client.get(f"/r/{card.token}")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["resident"]["id"] == card.invitation.id


def test_ci_lints_with_ruffs_security_rules():
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in ruff["select"]
    assert "make lint" in (ROOT / ".ci" / "run").read_text()
    assert "ruff check" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize(
    ("secret", "fit"),
    [
        ("dev", False),
        ("short", False),
        ("aaaaaaaaaaaaaaaaaaaa", False),
        ("password1234567890", False),
        ("0123456789abcdef", False),
        ("changeme-changeme", False),
        ("Kx9#mQ2vL8pR4tW7", True),  # 16 random characters
        ("a-long-random-production-secret", True),
        ("3f1c9e0b7a2d4c6e8f0a1b3c5d7e9f1a", True),  # as secrets.token_hex(16) makes them
    ],
)
def test_a_secret_key_must_be_long_and_hard_to_guess(secret, fit):
    assert (weak_secret(secret) is None) is fit
