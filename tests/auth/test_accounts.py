"""Staff sessions end on the server: password change, disabling, sign-out everywhere, role change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.auth.models import User
from consult.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def admin(create_user):
    return create_user("admin@example.test", Role.ADMIN)


def second_client(app):
    other = app.test_client()
    other.post("/auth/login", data={"email": "worker@example.test", "password": PASSWORD})
    assert other.get("/compounds/").status_code == 200
    return other


def test_changing_the_password_ends_the_other_sessions(app, client, auth, worker):
    elsewhere = second_client(app)
    auth.login(worker)
    response = client.post(
        "/auth/password",
        data={"current": PASSWORD, "new": "a brand new secret", "again": "a brand new secret"},
    )
    assert response.status_code == 302
    assert client.get("/compounds/").status_code == 200  # this session goes on
    assert elsewhere.get("/compounds/").status_code == 302  # the other one has ended
    assert auth.login(worker, "a brand new secret").status_code == 302


def test_a_wrong_current_password_changes_nothing(client, auth, worker):
    auth.login(worker)
    before = worker.password_hash
    response = client.post(
        "/auth/password", data={"current": "wrong one!!", "new": "x" * 12, "again": "x" * 12}
    )
    assert response.status_code == 200
    db.session.refresh(worker)
    assert worker.password_hash == before


def test_admin_disables_and_signs_out(app, client, auth, admin, worker):
    elsewhere = second_client(app)
    auth.login(admin)
    client.post(f"/auth/users/{worker.id}/sign-out")
    assert elsewhere.get("/compounds/").status_code == 302
    elsewhere = second_client(app)
    client.post(f"/auth/users/{worker.id}/disable")
    assert elsewhere.get("/compounds/").status_code == 302
    assert (
        elsewhere.post("/auth/login", data={"email": worker.email, "password": PASSWORD}).status_code == 200
    )
    client.post(f"/auth/users/{worker.id}/enable")
    assert second_client(app).get("/compounds/").status_code == 200


def create_worker_with_a_password(client, street):
    """An administrator (signed in on ``client``) creates new@example.test, typing its first password."""
    return client.post(
        "/auth/users",
        data={
            "email": "new@example.test",
            "name": "赵敏",
            "role": "worker",
            "street": str(street.id),
            "password": "long enough pw",
        },
    )


def test_admin_creates_an_account_and_changes_a_role(client, auth, admin, street, other_street, worker):
    auth.login(admin)
    response = create_worker_with_a_password(client, street)
    assert response.status_code == 302
    created = db.session.scalars(select(User).where(User.email == "new@example.test")).one()
    assert (created.role, created.street_id) == (Role.WORKER, street.id)
    client.post(f"/auth/users/{worker.id}/role", data={"role": "worker", "street": str(other_street.id)})
    db.session.refresh(worker)
    assert worker.street_id == other_street.id
    refused = client.post(f"/auth/users/{worker.id}/role", data={"role": "worker", "street": ""})
    assert refused.status_code == 302
    db.session.refresh(worker)
    assert worker.street_id == other_street.id  # a worker without a street is refused


def test_only_admins_manage_accounts(client, auth, worker):
    auth.login(worker)
    assert client.get("/auth/users").status_code == 403
    assert client.post(f"/auth/users/{worker.id}/disable").status_code == 403


def test_admin_cannot_disable_themselves(client, auth, admin):
    auth.login(admin)
    client.post(f"/auth/users/{admin.id}/disable")
    db.session.refresh(admin)
    assert admin.active


@pytest.mark.options(LOGIN_LIMIT="3 per minute")
def test_wrong_passwords_are_cut_off_per_client(client, auth, worker):
    for _attempt in range(3):
        assert auth.login(worker, "not the password").status_code == 200
    assert auth.login(worker).status_code == 429  # even the right password waits now
    other = client.post(
        "/auth/login",
        data={"email": worker.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 302


@pytest.mark.options(LOGIN_LIMIT="3 per minute")
def test_signing_in_costs_nothing_against_the_limit(client, auth, worker):
    for _attempt in range(5):
        assert auth.login(worker).status_code == 302
        auth.logout()


def test_an_idle_staff_session_ends(client, auth, worker):
    auth.login(worker)
    with client.session_transaction() as session:
        session["staff_seen"] -= 31 * 60
    response = client.get("/compounds/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    assert client.get("/compounds/").status_code == 302


def test_a_staff_session_ends_after_its_lifetime_however_busy(client, auth, worker):
    auth.login(worker)
    with client.session_transaction() as session:
        session["staff_since"] -= 13 * 3600
    assert client.get("/compounds/").status_code == 302


def test_an_active_staff_session_goes_on(client, auth, worker):
    auth.login(worker)
    with client.session_transaction() as session:
        session["staff_seen"] -= 20 * 60
    assert client.get("/compounds/").status_code == 200


def test_an_admin_signs_out_everyone_at_once(app, create_user, street):
    admin = create_user("admin@example.test", Role.ADMIN, None, name="管理员")
    worker = create_user("w@example.test", Role.WORKER, street)
    reviewer = create_user("r@example.test", Role.REVIEWER, None)
    clients = {}
    for user in (admin, worker, reviewer):
        clients[user.email] = app.test_client()
        clients[user.email].post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert clients[user.email].get("/compounds/").status_code == 200
    other_admin_device = app.test_client()
    other_admin_device.post("/auth/login", data={"email": admin.email, "password": PASSWORD})

    response = clients[admin.email].post("/auth/users/sign-out-everyone")
    assert response.status_code == 302
    assert clients[admin.email].get("/compounds/").status_code == 200  # the one who asked goes on
    for email in (worker.email, reviewer.email):
        assert clients[email].get("/compounds/").status_code == 302
    assert other_admin_device.get("/compounds/").status_code == 302
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.signed_out_everyone")
    ).one()
    assert entry.actor == f"user:{admin.id}"
    assert clients[worker.email].post("/auth/users/sign-out-everyone").status_code in (302, 403)


def test_a_first_password_an_administrator_gave_is_changed_before_anything_else(
    app, client, auth, admin, street
):
    auth.login(admin)
    create_worker_with_a_password(client, street)
    assert "首次密码尚未修改" in client.get("/auth/users").get_data(as_text=True)
    auth.logout()
    created = db.session.scalars(select(User).where(User.email == "new@example.test")).one()
    assert created.password_change_due is True

    signed_in = client.post("/auth/login", data={"email": "new@example.test", "password": "long enough pw"})
    assert signed_in.status_code == 302
    for path in ("/compounds/", "/auth/two-step", "/district/"):
        assert client.get(path).headers["Location"].endswith("/auth/password"), path
    page = client.get("/auth/password", follow_redirects=False)
    assert page.status_code == 200
    changed = client.post(
        "/auth/password",
        data={"current": "long enough pw", "new": "a password of my own", "again": "a password of my own"},
    )
    assert changed.status_code == 302
    assert client.get("/compounds/").status_code == 200
    db.session.refresh(created)
    assert created.password_change_due is False


def test_a_password_chosen_by_its_owner_need_not_be_changed(app):
    from consult.auth.services import create_user as create_account

    by_cli = create_account("cli@example.test", "钱七", "long enough pw", Role.ADMIN)
    assert by_cli.password_change_due is False


@pytest.mark.options(TWO_STEP_ROLES=["worker"])
def test_a_given_password_is_changed_first_then_two_step_sign_in_is_turned_on(client, auth, street):
    from consult.auth.services import create_user as create_account

    create_account("due@example.test", "孙八", "long enough pw", Role.WORKER, street, change_due=True)
    db.session.commit()
    client.post("/auth/login", data={"email": "due@example.test", "password": "long enough pw"})
    assert client.get("/compounds/").headers["Location"].endswith("/auth/password")
    assert client.get("/auth/password").status_code == 200  # no loop between the two first steps
    client.post(
        "/auth/password",
        data={"current": "long enough pw", "new": "a password of my own", "again": "a password of my own"},
    )
    assert client.get("/compounds/").headers["Location"].endswith("/auth/two-step")
    assert client.get("/auth/two-step").status_code == 200


def test_a_first_password_unused_for_longer_than_allowed_no_longer_signs_in(app, client, street):
    from datetime import timedelta

    from consult.auth.services import create_user as create_account
    from consult.auth.services import reset_password
    from consult.db import utcnow

    user = create_account("late@example.test", "周九", "long enough pw", Role.WORKER, street, change_due=True)
    user.created_at = utcnow() - timedelta(days=app.config["FIRST_PASSWORD_DAYS"], hours=1)
    db.session.commit()
    refused = client.post("/auth/login", data={"email": "late@example.test", "password": "long enough pw"})
    assert refused.status_code == 200  # the form again, with the reason
    assert "不再有效" in refused.get_data(as_text=True)
    assert client.get("/compounds/").status_code == 302  # not signed in
    expired = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first()
    assert expired == "user.first_password_expired"

    reset_password(user, "a password of my own")  # what the new-password link does
    db.session.commit()
    signed_in = client.post(
        "/auth/login", data={"email": "late@example.test", "password": "a password of my own"}
    )
    assert signed_in.headers["Location"].endswith("/compounds/")
