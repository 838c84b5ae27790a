"""The admin's outbox page with re-send, and the unsubscribe page."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.extensions import db
from consult.logs import redact
from consult.notify.emails import unsubscribe_token
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from consult.notify.services import enqueue
from consult.notify.services import is_unsubscribed
from tests.notify.conftest import T0
from tests.notify.conftest import round_context
from tests.notify.conftest import vote_context


@pytest.fixture(autouse=True)
def english_pages(client):
    """These tests read the admin pages in English (the default is Chinese)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def admin(create_user):
    return create_user("admin@example.test", Role.ADMIN)


@pytest.fixture
def messages(app):
    """One message in each state the page shows."""
    made = {}
    for n, status in enumerate(
        (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.FAILED)
    ):
        message = enqueue("vote_received", f"owner{n}@example.test", "en", vote_context(n), now=T0)
        message.status = status
        if status is OutboxStatus.FAILED:
            message.attempts = 8
            message.last_error = "SendGrid answered 500: boom"
            message.last_attempt_at = T0
        if status is OutboxStatus.SENT:
            message.attempts = 1
            message.sent_at = T0
        made[status] = message
    db.session.commit()
    return made


def html_of(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_admin_sees_pending_sent_and_failed(client, auth, admin, messages):
    auth.login(admin)
    pending = html_of(client.get("/notify/outbox"))
    assert "owner0@example.test" in pending
    assert "owner1@example.test" in pending  # being sent counts as pending
    assert "owner2@example.test" not in pending
    assert "Waiting (2)" in pending
    assert "Sent (1)" in pending
    assert "Sending failed (1)" in pending
    sent = html_of(client.get("/notify/outbox?status=sent"))
    assert "owner2@example.test" in sent
    assert "Send again" in sent
    failed = html_of(client.get("/notify/outbox?status=failed"))
    assert "owner3@example.test" in failed
    assert "SendGrid answered 500: boom" in failed
    assert f'action="/notify/outbox/{messages[OutboxStatus.FAILED].id}/resend"' in failed
    assert 'name="csrf_token"' in failed
    assert "style=" not in failed
    assert "<script" not in failed
    assert client.get("/notify/outbox?status=bogus").status_code == 404
    detail = html_of(client.get(f"/notify/outbox/{messages[OutboxStatus.FAILED].id}"))
    assert messages[OutboxStatus.FAILED].subject in detail
    assert "R-0003" not in detail  # no body: a vote receipt is for its owner only
    assert client.get("/notify/outbox/99999").status_code == 404


def test_admin_resends_a_failed_message(client, auth, admin, messages):
    failed = messages[OutboxStatus.FAILED]
    auth.login(admin)
    response = client.post(f"/notify/outbox/{failed.id}/resend")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/notify/outbox?status=pending")
    db.session.rollback()
    message = db.session.get(OutboxMessage, failed.id)
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.PENDING, 0, None)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "notify.resend")).one()
    assert entry.actor == f"user:{admin.id}"
    page = html_of(client.get(response.headers["Location"]))
    assert f"Message {failed.id} will be sent again." in page


def test_a_queued_message_cannot_be_resent(client, auth, admin, messages):
    pending = messages[OutboxStatus.PENDING]
    auth.login(admin)
    response = client.post(f"/notify/outbox/{pending.id}/resend", follow_redirects=True)
    assert "already waiting to be sent" in html_of(response)
    assert client.post("/notify/outbox/99999/resend").status_code == 404


def test_only_admins_see_the_outbox(client, auth, create_user, worker, messages):
    failed = messages[OutboxStatus.FAILED]
    assert client.get("/notify/outbox").status_code == 302  # to sign in
    auth.login(worker)
    assert client.get("/notify/outbox").status_code == 403
    assert client.get(f"/notify/outbox/{failed.id}").status_code == 403
    assert client.post(f"/notify/outbox/{failed.id}/resend").status_code == 403
    db.session.rollback()
    assert db.session.get(OutboxMessage, failed.id).status is OutboxStatus.FAILED
    auth.logout()
    auth.login(create_user("reviewer@example.test", Role.REVIEWER))
    assert client.get("/notify/outbox").status_code == 403


def unsubscribe_path(message: OutboxMessage) -> str:
    return re.sub(r"^https?://[^/]+", "", message.unsubscribe_url)


def test_the_unsubscribe_link_asks_first_then_stops_non_essential_notices(client, app):
    notice = enqueue("round_opened", "resident@example.test", "en", round_context())
    db.session.commit()
    path = unsubscribe_path(notice)
    assert path.startswith("/notify/unsubscribe/")

    page = html_of(client.get(path))
    assert "r***@example.test" in page
    assert "resident@example.test" not in page
    assert f'<form method="post" action="{path}">' in page
    db.session.rollback()
    assert not is_unsubscribed("resident@example.test")  # a GET changes nothing

    response = client.post(path)
    assert response.status_code == 302
    db.session.rollback()
    assert is_unsubscribed("resident@example.test")
    done = html_of(client.get(path))
    assert "You will no longer get these notices." in done
    assert '<form method="post" action="/notify' not in done
    assert enqueue("round_opened", "resident@example.test", "en", round_context()) is None
    assert enqueue("vote_received", "resident@example.test", "en", vote_context()) is not None


def test_the_unsubscribe_page_speaks_the_language_of_the_messages(client, app):
    html = html_of(client.get(f"/notify/unsubscribe/{unsubscribe_token('a@example.test', 'zh_CN')}"))
    assert '<html lang="zh-CN">' in html
    html = html_of(client.get(f"/notify/unsubscribe/{unsubscribe_token('a@example.test', 'en')}"))
    assert '<html lang="en">' in html


def test_a_forged_unsubscribe_link_is_not_found(client, app):
    assert client.get("/notify/unsubscribe/WyJhQGV4YW1wbGUudGVzdCIsImVuIl0.forged").status_code == 404
    assert client.post("/notify/unsubscribe/nonsense").status_code == 404
    db.session.rollback()
    assert not is_unsubscribed("a@example.test")


def test_an_unsubscribe_link_expires(client, app, monkeypatch):
    fresh = unsubscribe_token("a@example.test", "en")
    made = time.time() - (app.config["UNSUBSCRIBE_LINK_DAYS"] + 1) * 86400
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: made)
        old = unsubscribe_token("a@example.test", "en")
    assert client.get(f"/notify/unsubscribe/{fresh}").status_code == 200
    assert client.get(f"/notify/unsubscribe/{old}").status_code == 404
    assert client.post(f"/notify/unsubscribe/{old}").status_code == 404
    db.session.rollback()
    assert not is_unsubscribed("a@example.test")


def test_unsubscribe_links_are_redacted_from_request_logs(app):
    token = unsubscribe_token("a@example.test", "en")
    line = f'127.0.0.1 - - "GET /notify/unsubscribe/{token} HTTP/1.1" 200 -'
    assert redact(line) == '127.0.0.1 - - "GET /notify/unsubscribe/[redacted] HTTP/1.1" 200 -'


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_posts_without_a_csrf_token_are_refused(client, messages):
    failed = messages[OutboxStatus.FAILED]
    assert client.post(f"/notify/outbox/{failed.id}/resend").status_code == 400
    token = unsubscribe_token("a@example.test", "en")
    assert client.post(f"/notify/unsubscribe/{token}").status_code == 400
    page = html_of(client.get(f"/notify/unsubscribe/{token}"))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/notify/unsubscribe/{token}", data={"csrf_token": csrf}).status_code == 302
    db.session.rollback()
    assert is_unsubscribed("a@example.test")
