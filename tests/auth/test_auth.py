from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.models import StaffSession
from consult.auth.models import User
from consult.auth.rules import PasswordProblem
from consult.auth.rules import common_passwords
from consult.auth.rules import guess_score
from consult.auth.rules import password_problem
from consult.auth.services import AccountError
from consult.auth.services import authenticate
from consult.auth.services import create_user
from consult.auth.services import password_matches
from consult.extensions import db
from consult.safety import local_target
from tests.conftest import PASSWORD


def test_password_is_hashed_with_argon2(worker):
    assert worker.password_hash.startswith("$argon2id$")
    assert PASSWORD not in worker.password_hash


def test_authenticate(worker):
    assert authenticate("WORKER@example.test ", PASSWORD) == worker
    assert authenticate(worker.email, "wrong password") is None
    assert authenticate("nobody@example.test", PASSWORD) is None


def test_disabled_user_cannot_sign_in(worker):
    worker.active = False
    db.session.commit()
    assert authenticate(worker.email, PASSWORD) is None


def test_login_and_logout(client, auth, worker):
    response = auth.login(worker)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/compounds/")
    assert client.get("/compounds/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/compounds/").status_code == 302


def test_wrong_password_shows_error(client, auth, worker):
    response = auth.login(worker, "not the password")
    assert response.status_code == 200
    assert "E-mail or password is wrong." in response.get_data(as_text=True) or "邮箱或密码不对" in (
        response.get_data(as_text=True)
    )
    assert client.get("/compounds/").status_code == 302


def test_logout_ends_the_session_on_the_server(app, client, auth, worker):
    elsewhere = app.test_client()
    elsewhere.post("/auth/login", data={"email": worker.email, "password": PASSWORD})
    auth.login(worker)
    with client.session_transaction() as session:
        saved = dict(session)
    auth.logout()
    with client.session_transaction() as session:  # replay the old cookie's content
        session.update(saved)
    assert client.get("/compounds/").status_code == 302
    ended = db.session.scalars(select(StaffSession).where(StaffSession.key == saved["staff_session"])).one()
    assert ended.ended_at is not None
    assert elsewhere.get("/compounds/").status_code == 200  # the session on another device goes on


def test_next_only_redirects_to_local_paths(client, worker):
    response = client.post(
        "/auth/login?next=https://evil.example/x", data={"email": worker.email, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/compounds/")
    assert local_target("/compounds/1", "/") == "/compounds/1"
    for bad in ("//evil.example", "https://evil.example", "javascript:alert(1)", "/\\evil", "relative"):
        assert local_target(bad, "/") == "/"


def test_create_user_rules(app, street):
    with pytest.raises(AccountError):
        create_user("w@example.test", "W", PASSWORD, Role.WORKER)  # a worker needs a street
    with pytest.raises(AccountError):
        create_user("r@example.test", "R", PASSWORD, Role.REVIEWER, street)
    with pytest.raises(AccountError):
        create_user("s@example.test", "S", "short", Role.ADMIN)
    create_user("a@example.test", "A", PASSWORD, Role.ADMIN)
    with pytest.raises(AccountError):
        create_user("A@example.test", "A2", PASSWORD, Role.ADMIN)
    db.session.commit()
    assert db.session.scalars(select(User.email)).all() == ["a@example.test"]


def test_common_and_personal_passwords_are_refused():
    assert password_problem("short") == PasswordProblem.TOO_SHORT
    assert password_problem("Password123") == PasswordProblem.COMMON  # capitals make it no rarer
    assert password_problem("woaini1314") == PasswordProblem.COMMON
    assert password_problem("zzzzzzzzzzzz") == PasswordProblem.COMMON
    assert len(common_passwords()) >= 100
    assert password_problem("liming-2026-spring", "liming@example.test") == PasswordProblem.PERSONAL
    assert (
        password_problem("我是李明的登录密码不告诉你", "lm@example.test", "李明") == PasswordProblem.PERSONAL
    )
    assert password_problem(PASSWORD, "worker@example.test", "李明") is None


@pytest.mark.parametrize(
    "password",
    ["Password2024!", "iloveyou2024", "beijing20080808", "Asdfghjkl;'", "starwars-2025"],
)
def test_passwords_easy_to_guess_are_refused(password):
    """A keyboard row, common words with a year or a date: long enough, and not on the list, but guessed
    within about 10^8 tries."""
    assert password_problem(password) == PasswordProblem.GUESSABLE


@pytest.mark.parametrize("password", [PASSWORD, "tongxin-demo", "huanhua-xiaoqu-7", "我家楼道的灯坏了三天"])
def test_passwords_hard_to_guess_pass(password):
    assert guess_score(password) >= 3
    assert password_problem(password) is None


def test_accounts_refuse_weak_passwords(app, client, auth, street, english_messages):
    with pytest.raises(AccountError, match="most common"):
        create_user("a@example.test", "A", "qwertyuiop", Role.ADMIN)
    with pytest.raises(AccountError, match="e-mail address or the name"):
        create_user("wangfang@example.test", "王芳", "wangfang-2026!", Role.ADMIN)
    db.session.rollback()
    user = create_user("a@example.test", "A", PASSWORD, Role.ADMIN)
    db.session.commit()
    auth.login(user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.post(
        "/auth/password", data={"current": PASSWORD, "new": "password123", "again": "password123"}
    )
    assert "one of the most common" in page.get_data(as_text=True)
    db.session.refresh(user)
    assert password_matches(user, PASSWORD)
