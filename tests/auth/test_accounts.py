"""Staff sessions end on the server: password change, disabling, sign-out everywhere, role change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

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


def test_admin_creates_an_account_and_changes_a_role(client, auth, admin, street, other_street, worker):
    auth.login(admin)
    response = client.post(
        "/auth/users",
        data={
            "email": "new@example.test",
            "name": "赵敏",
            "role": "worker",
            "street": str(street.id),
            "password": "long enough pw",
        },
    )
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
