"""Two-step sign-in: a code from an authenticator app (TOTP, RFC 6238) after the password, turned on and
off by the person, turned off by an administrator when a phone is lost."""

from __future__ import annotations

import base64
import re
import time

import pytest
from sqlalchemy import select
from sqlalchemy import text

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.auth.rules import accepted_step
from consult.auth.rules import otpauth_uri
from consult.auth.rules import time_step
from consult.auth.rules import totp_code
from consult.auth.services import WrongCode
from consult.auth.services import second_step
from consult.auth.services import turn_on_two_step
from consult.extensions import db
from tests.conftest import PASSWORD

#: RFC 6238's SHA-1 secret, "12345678901234567890", in base32
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("seconds", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_codes_are_those_of_rfc_6238(seconds, code):
    """The RFC's test values, in their last six digits (the apps show six)."""
    assert totp_code(RFC_SECRET, time_step(seconds)) == code


def test_a_code_is_accepted_in_its_window_and_once():
    now = 1_700_000_000.0
    step = time_step(now)
    assert accepted_step(RFC_SECRET, totp_code(RFC_SECRET, step), now, None) == step
    assert accepted_step(RFC_SECRET, totp_code(RFC_SECRET, step - 1), now, None) == step - 1  # just changed
    assert accepted_step(RFC_SECRET, totp_code(RFC_SECRET, step + 1), now, None) == step + 1  # a fast clock
    assert accepted_step(RFC_SECRET, totp_code(RFC_SECRET, step - 2), now, None) is None
    assert accepted_step(RFC_SECRET, totp_code(RFC_SECRET, step), now, step) is None  # used already
    spaced = f" {totp_code(RFC_SECRET, step)[:3]} {totp_code(RFC_SECRET, step)[3:]}"
    assert accepted_step(RFC_SECRET, spaced, now, None) == step  # as some apps show it
    for wrong in ("", "12345", "abcdef", "1234567"):
        assert accepted_step(RFC_SECRET, wrong, now, None) is None


def test_the_apps_qr_code_names_the_secret_the_account_and_tongxin():
    uri = otpauth_uri("JBSWY3DPEHPK3PXP", "li@example.test")
    assert uri == (
        "otpauth://totp/Tongxin%3Ali%40example.test?secret=JBSWY3DPEHPK3PXP&issuer=Tongxin&digits=6&period=30"
    )


def code_now(secret: str, ahead: int = 0) -> str:
    return totp_code(secret, time_step(time.time()) + ahead)


def wrong_code(secret: str) -> str:
    """A code that is none of the window's."""
    window = {code_now(secret, ahead) for ahead in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in window)


def turn_on(client, user) -> str:
    """Turn two-step sign-in on through its page (signed in); the secret."""
    page = client.get("/auth/two-step").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
    assert 'role="img"' in page  # the QR code, for screen readers too
    response = client.post("/auth/two-step", data={"code": code_now(secret)})
    assert response.status_code == 302
    return secret


def test_turned_on_a_sign_in_needs_the_apps_code_after_the_password(app, client, auth, worker):
    elsewhere = app.test_client()
    elsewhere.post("/auth/login", data={"email": worker.email, "password": PASSWORD})
    auth.login(worker)
    secret = turn_on(client, worker)
    assert client.get("/compounds/").status_code == 200  # this session goes on
    assert elsewhere.get("/compounds/").status_code == 302  # opened with the password alone: ended
    stored = db.session.execute(
        text("SELECT totp_secret FROM user_account WHERE id = :id"), {"id": worker.id}
    )
    assert secret not in stored.scalar_one()  # encrypted at rest
    auth.logout()

    password_only = auth.login(worker)
    assert password_only.headers["Location"].endswith("/auth/code")
    assert client.get("/compounds/").status_code == 302  # not signed in yet
    wrong = client.post("/auth/code", data={"code": wrong_code(secret)})
    assert wrong.status_code == 422
    assert "验证码不对" in wrong.get_data(as_text=True)
    signed_in = client.post("/auth/code", data={"code": code_now(secret, ahead=1)})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].endswith("/compounds/")
    assert client.get("/compounds/").status_code == 200
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["user.two_step_failed", "user.login"]

    auth.logout()
    auth.login(worker)
    replay = client.post("/auth/code", data={"code": code_now(secret, ahead=1)})
    assert replay.status_code == 422  # a code works once


def test_without_a_right_password_the_code_page_sends_back_to_sign_in(client, auth, worker):
    assert client.get("/auth/code").headers["Location"].endswith("/auth/login")
    auth.login(worker, "not the password")
    assert client.post("/auth/code", data={"code": "123456"}).headers["Location"].endswith("/auth/login")


def test_the_pending_sign_in_lasts_five_minutes(app, client, auth, worker, monkeypatch):
    turn_on_two_step(worker, RFC_SECRET, code_now(RFC_SECRET), time.time())
    db.session.commit()
    auth.login(worker)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post("/auth/code", data={"code": code_now(RFC_SECRET)})  # right, but too late
    assert response.headers["Location"].endswith("/auth/login")


@pytest.mark.options(LOGIN_LIMIT="2 per minute")
def test_wrong_codes_are_limited_per_client(client, auth, worker):
    turn_on_two_step(worker, RFC_SECRET, code_now(RFC_SECRET), time.time())
    db.session.commit()
    auth.login(worker)
    wrong = wrong_code(RFC_SECRET)
    for _n in range(2):
        assert client.post("/auth/code", data={"code": wrong}).status_code == 422
    assert client.post("/auth/code", data={"code": code_now(RFC_SECRET)}).status_code == 429


def test_turning_it_off_needs_a_code_and_an_administrator_may_turn_it_off(
    app, client, auth, worker, create_user
):
    auth.login(worker)
    secret = turn_on(client, worker)
    refused = client.post("/auth/two-step", data={"code": "12"})
    assert refused.status_code == 422
    off = client.post("/auth/two-step", data={"code": code_now(secret, ahead=1)})
    assert off.status_code == 302
    db.session.refresh(worker)
    assert worker.totp_secret is None
    secret = turn_on(client, worker)
    auth.logout()

    admin = create_user("admin@example.test", Role.ADMIN)
    auth.login(admin)
    users = client.get("/auth/users").get_data(as_text=True)
    assert f"/auth/users/{worker.id}/two-step-off" in users
    assert client.post(f"/auth/users/{worker.id}/two-step-off").status_code == 302
    db.session.refresh(worker)
    assert worker.totp_secret is None
    auth.logout()
    assert auth.login(worker).headers["Location"].endswith("/compounds/")  # the password alone again
    query = select(AuditEntry.action).where(AuditEntry.action.like("user.two_step%")).order_by(AuditEntry.id)
    actions = db.session.scalars(query)
    assert list(actions) == [
        "user.two_step_on",
        "user.two_step_off",
        "user.two_step_on",
        "user.two_step_reset",
    ]


def test_a_code_for_the_wrong_secret_turns_nothing_on(app, worker):
    with pytest.raises(WrongCode):
        turn_on_two_step(worker, RFC_SECRET, wrong_code(RFC_SECRET), time.time())
    db.session.rollback()
    assert worker.totp_secret is None
    turn_on_two_step(worker, RFC_SECRET, code_now(RFC_SECRET), time.time())
    with pytest.raises(WrongCode):
        second_step(worker, code_now(RFC_SECRET), time.time())  # the code used to turn it on


@pytest.mark.options(TWO_STEP_ROLES=["admin"])
def test_a_role_that_must_use_it_turns_it_on_before_anything_else(client, auth, worker, create_user):
    admin = create_user("admin@example.test", Role.ADMIN)
    auth.login(admin)
    for path in ("/compounds/", "/auth/users", "/auth/password"):
        assert client.get(path).headers["Location"].endswith("/auth/two-step"), path
    assert client.get("/auth/two-step").status_code == 200
    turn_on(client, admin)
    assert client.get("/auth/users").status_code == 200
    auth.logout()
    auth.login(worker)  # a role that need not
    assert client.get("/compounds/").status_code == 200
