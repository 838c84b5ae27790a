"""A forgotten password: a link by e-mail, asked for by anyone or sent by an administrator, that sets a new
password once, within its time, and ends every session of the account."""

from __future__ import annotations

import json
import re
import time

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.auth.services import request_reset
from consult.auth.services import reset_password
from consult.auth.services import reset_token
from consult.auth.services import sign_out_everywhere
from consult.auth.services import user_for_reset
from consult.db import utcnow
from consult.extensions import db
from consult.logs import redact
from consult.notify.models import OutboxMessage
from tests.conftest import PASSWORD

NEW = "屋顶漏水请尽快修好了吗"


def sent_links() -> list[tuple[str, str]]:
    """(address, path of the link) of every new-password e-mail queued."""
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "password_reset").order_by(OutboxMessage.id)
    ).all()
    found = []
    for message in messages:
        link = re.search(r"https?://[^/\s]+(/auth/reset/[A-Za-z0-9_.\-]+)", message.text_body)
        assert link is not None, message.text_body
        assert link.group(0) in message.html_body
        found.append((message.to_address, link.group(1)))
    return found


def test_a_link_goes_to_the_accounts_own_address_and_works_once(app, worker):
    request_reset("  Worker@Example.test ", utcnow())
    db.session.commit()
    [(address, path)] = sent_links()
    assert address == "worker@example.test"
    token = path.rsplit("/", 1)[1]
    assert user_for_reset(token) == worker
    reset_password(worker, NEW)
    db.session.commit()
    assert user_for_reset(token) is None  # used: the password it was bound to is gone
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["user.reset_link_sent", "user.password_reset"]
    assert token not in " ".join(e.detail for e in db.session.scalars(select(AuditEntry)))


def test_no_link_for_an_unknown_address_or_a_disabled_account(app, worker, create_user):
    disabled = create_user("gone@example.test", Role.EXPERT)
    disabled.active = False
    db.session.commit()
    request_reset("nobody@example.test", utcnow())
    request_reset("gone@example.test", utcnow())
    request_reset("not an address", utcnow())
    db.session.commit()
    assert sent_links() == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing queued
    asked = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "user.reset_requested").order_by(AuditEntry.id)
    ).all()
    assert [json.loads(d)["email"] for d in asked] == [
        "nobody@example.test",
        "gone@example.test",
        "not an address",
    ]
    worker_token = reset_token(worker)
    worker.active = False
    db.session.commit()
    assert user_for_reset(worker_token) is None  # a link dies with the account


def test_a_link_expires_and_dies_when_the_sessions_end(app, worker, monkeypatch):
    fresh = reset_token(worker)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 61 * 60)
    old = reset_token(worker)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    assert user_for_reset(old) is None  # older than RESET_LINK_MINUTES (60)
    assert user_for_reset(fresh) == worker
    assert user_for_reset(fresh[:-2] + "xx") is None  # altered
    sign_out_everywhere(worker, "user:9")
    db.session.commit()
    assert user_for_reset(fresh) is None


def test_a_weak_password_is_refused_and_the_link_still_works(app, client, worker):
    token = reset_token(worker)
    page = client.post(f"/auth/reset/{token}", data={"new": "qwertyuiop", "again": "qwertyuiop"})
    assert page.status_code == 422
    assert "这是最常见的密码之一，请换一个。" in page.get_data(as_text=True)
    differ = client.post(f"/auth/reset/{token}", data={"new": NEW, "again": NEW + "!"})
    assert differ.status_code == 422
    assert "两次输入的密码不一样。" in differ.get_data(as_text=True)
    assert user_for_reset(token) == worker


def test_the_whole_journey_through_the_pages(app, client, auth, worker):
    elsewhere = app.test_client()
    elsewhere.post("/auth/login", data={"email": worker.email, "password": PASSWORD})
    assert elsewhere.get("/compounds/").status_code == 200
    login = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/reset"' in login
    asked = client.post("/auth/reset", data={"email": worker.email}, follow_redirects=True)
    unknown = client.post("/auth/reset", data={"email": "nobody@example.test"}, follow_redirects=True)
    said = "如果有工作人员账号使用这个邮箱，设置新密码的链接已经发往该邮箱。"
    assert said in asked.get_data(as_text=True)
    assert said in unknown.get_data(as_text=True)  # the same answer: no address is confirmed
    [(_address, path)] = sent_links()
    form = client.get(path)
    assert form.status_code == 200
    assert worker.email in form.get_data(as_text=True)
    done = client.post(path, data={"new": NEW, "again": NEW})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/auth/login")
    assert elsewhere.get("/compounds/").status_code == 302  # every session of the account ended
    assert auth.login(worker).status_code == 200  # the old password no longer works
    assert auth.login(worker, NEW).status_code == 302
    auth.logout()
    again = client.get(path, follow_redirects=True)
    assert "这个链接已过期或已使用。请重新申请。" in again.get_data(as_text=True)


@pytest.mark.options(RESET_LIMIT="2 per minute")
def test_asking_for_links_is_limited_per_client(app, client, worker):
    for _n in range(2):
        assert client.post("/auth/reset", data={"email": worker.email}).status_code == 302
    assert client.post("/auth/reset", data={"email": worker.email}).status_code == 429
    assert len(sent_links()) == 2


def test_an_administrator_sends_a_link_from_the_accounts_page(app, client, auth, worker, create_user):
    admin = create_user("admin@example.test", Role.ADMIN)
    auth.login(admin)
    users = client.get("/auth/users").get_data(as_text=True)
    assert f"/auth/users/{worker.id}/reset-link" in users
    sent = client.post(f"/auth/users/{worker.id}/reset-link", follow_redirects=True)
    assert "设置新密码的链接已发往 worker@example.test。" in sent.get_data(as_text=True)
    assert [address for address, _path in sent_links()] == ["worker@example.test"]
    worker.active = False
    db.session.commit()
    refused = client.post(f"/auth/users/{worker.id}/reset-link", follow_redirects=True)
    assert "没有发送链接：账号已停用" in refused.get_data(as_text=True)
    assert len(sent_links()) == 1


def test_the_links_token_is_kept_out_of_request_logs():
    assert (
        redact("GET /auth/reset/WzEsImFiYyJd.aBcD.eFg-h_1 HTTP/1.1") == "GET /auth/reset/[redacted] HTTP/1.1"
    )
    assert redact("POST /auth/reset HTTP/1.1") == "POST /auth/reset HTTP/1.1"


def test_an_account_made_without_a_password_gets_a_link_to_choose_one(client, auth, create_user, street):
    admin = create_user("admin@example.test", Role.ADMIN)
    auth.login(admin)
    created = client.post(
        "/auth/users",
        data={"email": "new@example.test", "name": "赵敏", "role": "worker", "street": str(street.id)},
        follow_redirects=True,
    )
    assert "账号已创建。设置密码的链接已发往 new@example.test。" in created.get_data(as_text=True)
    [(address, path)] = sent_links()
    assert address == "new@example.test"
    auth.logout()
    assert client.post(path, data={"new": NEW, "again": NEW}).status_code == 302
    assert auth.login("new@example.test", NEW).status_code == 302


def test_the_link_goes_out_and_is_kept_nowhere_once_sent(app, worker):
    from consult.notify.mailer import get_mailer
    from consult.notify.rules import WIPED
    from consult.notify.services import NotResendable
    from consult.notify.services import resend
    from consult.notify.services import send_pending

    request_reset(worker.email, utcnow())
    db.session.commit()
    [(_address, path)] = sent_links()
    mailer = get_mailer(app)
    assert send_pending(mailer, utcnow()).sent != []
    [email] = [e for e in mailer.outbox if e.to == worker.email]
    assert path in email.text
    assert path in email.html
    db.session.expire_all()
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "password_reset")).one()
    assert (message.status.value, message.text_body, message.html_body) == ("sent", WIPED, WIPED)
    with pytest.raises(NotResendable):
        resend(message.id)
    assert user_for_reset(path.rsplit("/", 1)[1]) == worker  # the link itself still works, once
