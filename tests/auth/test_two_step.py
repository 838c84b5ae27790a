"""Two-step sign-in: a code from an authenticator app (TOTP, RFC 6238) after the password, turned on and
off by the person, turned off by an administrator when a phone is lost."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from consult.audit.models import AuditEntry
from consult.auth.models import RecoveryCode
from consult.auth.models import Role
from consult.auth.models import User
from consult.auth.rules import RECOVERY_CODES
from consult.auth.rules import accepted_step
from consult.auth.rules import new_recovery_code
from consult.auth.rules import otpauth_uri
from consult.auth.rules import recovery_digest
from consult.auth.rules import time_step
from consult.auth.rules import totp_code
from consult.auth.services import WrongCode
from consult.auth.services import reset_two_step
from consult.auth.services import second_step
from consult.auth.services import turn_on_two_step
from consult.extensions import db
from consult.residents.services import code_key
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


def code_now(secret: str, ahead: int = 0, now: float | None = None) -> str:
    return totp_code(secret, time_step(time.time() if now is None else now) + ahead)


def wrong_code(secret: str) -> str:
    """A code that is none of the window's."""
    window = {code_now(secret, ahead) for ahead in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in window)


def turn_on(client, user) -> str:
    """Turn two-step sign-in on through its page (signed in); the secret."""
    return turn_on_with_codes(client, user)[0]


def turn_on_with_codes(client, user) -> tuple[str, list[str]]:
    """Turn two-step sign-in on through its page (signed in); the secret and the recovery codes shown."""
    page = client.get("/auth/two-step").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
    assert 'role="img"' in page  # the QR code, for screen readers too
    response = client.post("/auth/two-step", data={"code": code_now(secret)})
    assert response.status_code == 200
    return secret, shown_codes(response.get_data(as_text=True))


def shown_codes(page: str) -> list[str]:
    """The recovery codes a page shows (the page that shows them once)."""
    assert "恢复码" in page
    return re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)


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
    now = time.time()  # one instant, so both codes are of one time step
    turn_on_two_step(worker, RFC_SECRET, code_now(RFC_SECRET, now=now), now)
    with pytest.raises(WrongCode):
        second_step(worker, code_now(RFC_SECRET, now=now), now)  # the code used to turn it on


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


# --- recovery codes


def test_a_recovery_code_is_ten_unambiguous_letters_and_is_read_as_typed():
    code, key = new_recovery_code(), b"k" * 32
    assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code)
    assert not set(code) & set("01ilo")
    digest = recovery_digest(key, code)
    assert digest is not None
    assert len(digest) == 64
    assert digest != recovery_digest(b"another key" * 3, code)  # keyed: the table alone does not tell
    assert recovery_digest(key, code.upper()) == digest  # any case
    assert recovery_digest(key, f" {code[:5]} {code[6:]} ") == digest  # spaces for the dash
    assert recovery_digest(key, code.replace("-", "")) == digest
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.replace("-", ""))  # as a Chinese IME types
    assert recovery_digest(key, full_width) == digest
    for wrong in ("123456", code[:-1], code + "a", "0" + code[1:], ""):
        assert recovery_digest(key, wrong) is None
    assert len({new_recovery_code() for _n in range(200)}) == 200


def test_turning_it_on_shows_ten_recovery_codes_once_and_keeps_only_digests(app, client, auth, worker):
    auth.login(worker)
    _secret, codes = turn_on_with_codes(client, worker)
    assert len(codes) == RECOVERY_CODES == len(set(codes))
    stored = db.session.scalars(select(RecoveryCode.digest).where(RecoveryCode.user_id == worker.id)).all()
    assert sorted(stored) == sorted(recovery_digest(code_key(), code) for code in codes)
    page = client.get("/auth/two-step").get_data(as_text=True)
    assert shown_codes(page) == []  # never shown again
    assert "还剩 10 个恢复码" in page


def test_a_recovery_code_signs_in_once_in_place_of_the_apps_code(app, client, auth, worker):
    auth.login(worker)
    _secret, codes = turn_on_with_codes(client, worker)
    auth.logout()
    auth.login(worker)
    signed_in = client.post("/auth/code", data={"code": codes[3].upper().replace("-", " ")})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].endswith("/compounds/")
    page = client.get("/compounds/").get_data(as_text=True)
    assert "还剩 9 个" in page  # the warning that a code was spent
    used = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.recovery_code_used")).one()
    assert json.loads(used.detail) == {"user_id": worker.id, "left": 9}
    auth.logout()

    auth.login(worker)
    again = client.post("/auth/code", data={"code": codes[3]})
    assert again.status_code == 422  # spent
    assert "恢复码不对" in again.get_data(as_text=True)
    assert client.post("/auth/code", data={"code": codes[4]}).status_code == 302


def test_new_recovery_codes_need_the_apps_code_and_end_the_old_ones(app, client, auth, worker):
    auth.login(worker)
    secret, old = turn_on_with_codes(client, worker)
    refused = client.post("/auth/two-step/recovery-codes", data={"renew-code": wrong_code(secret)})
    assert refused.status_code == 422
    assert shown_codes(refused.get_data(as_text=True)) == []
    renewed = client.post("/auth/two-step/recovery-codes", data={"renew-code": code_now(secret, ahead=1)})
    assert renewed.status_code == 200
    new = shown_codes(renewed.get_data(as_text=True))
    assert len(new) == RECOVERY_CODES
    assert not set(new) & set(old)
    auth.logout()
    auth.login(worker)
    assert client.post("/auth/code", data={"code": old[0]}).status_code == 422
    assert client.post("/auth/code", data={"code": new[0]}).status_code == 302
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("user.recovery%")).order_by(AuditEntry.id)
    ).all()
    assert actions == ["user.recovery_codes_renewed", "user.recovery_code_used"]


def test_turning_it_off_either_way_drops_the_recovery_codes(app, client, auth, worker, create_user):
    auth.login(worker)
    secret = turn_on(client, worker)
    assert client.post("/auth/two-step", data={"code": code_now(secret, ahead=1)}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    turn_on(client, worker)
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == RECOVERY_CODES
    reset_two_step(worker, "user:0")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_whether_it_is_on_is_known_without_decrypting_the_secret(app, worker):
    turn_on_two_step(worker, RFC_SECRET, code_now(RFC_SECRET), time.time())
    db.session.commit()
    worker_id = worker.id
    db.session.expunge_all()
    loaded = db.session.get(User, worker_id)
    assert loaded.two_step_on is True
    assert "totp_secret" not in loaded.__dict__  # not read, so not decrypted
    assert loaded.totp_secret == RFC_SECRET  # read when a code is checked
