"""The real SendGrid client against a local server that plays /v3/mail/send."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from consult.auth.models import Role
from consult.compounds.models import Owner
from consult.extensions import db
from consult.notify import services
from consult.notify.mailer import Email
from consult.notify.mailer import MailError
from consult.notify.mailer import SendGridMailer
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from consult.notify.services import enqueue_to
from consult.notify.services import send_pending
from tests.notify.conftest import API_KEY
from tests.notify.conftest import T0
from tests.notify.conftest import queue_votes
from tests.notify.conftest import round_context

SECOND = timedelta(seconds=1)


def status_of(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_sent_message_has_its_recipient_subject_and_language(
    app, compound, create_user, sendgrid, fake_sendgrid
):
    owner = Owner(compound=compound, name="张伟", email="zhang.wei@example.test", locale="zh_CN")
    db.session.add(owner)
    expert = create_user("li.ming@example.test", Role.EXPERT)
    expert.locale = "en"
    zh = enqueue_to(owner, "round_opened", round_context(compound=compound.name), now=T0)
    en = enqueue_to(expert, "round_opened", round_context(compound=compound.name), now=T0)
    db.session.commit()

    report = send_pending(sendgrid, T0)

    assert sorted(report.sent) == sorted([zh.id, en.id])
    requests = {int(r["json"]["custom_args"]["outbox_id"]): r for r in fake_sendgrid.requests}
    assert set(requests) == {zh.id, en.id}
    for message_id, address, lang, footer in (
        (zh.id, "zhang.wei@example.test", "zh-CN", "同心："),
        (en.id, "li.ming@example.test", "en", "Tongxin:"),
    ):
        request = requests[message_id]
        body = request["json"]
        assert request["path"] == "/v3/mail/send"
        assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
        assert body["from"] == {"email": app.config["MAIL_FROM"]}
        # one recipient, nobody else in copy
        assert body["personalizations"] == [{"to": [{"email": address}]}]
        stored = status_of(message_id)
        assert body["subject"] == stored.subject
        assert "浣花小区" in body["subject"]
        content = {c["type"]: c["value"] for c in body["content"]}
        assert content["text/plain"] == stored.text_body
        assert footer in content["text/plain"]
        assert f'<html lang="{lang}">' in content["text/html"]
        assert body["headers"]["List-Unsubscribe"] == f"<{stored.unsubscribe_url}>"
        assert stored.unsubscribe_url.startswith(app.config["BASE_URL"])
        assert "张伟" not in str(body)  # no names in notices
        assert (stored.status, stored.attempts, stored.sent_at) == (OutboxStatus.SENT, 1, T0)
    assert "2025年3月1日" in requests[zh.id]["json"]["content"][0]["value"]
    assert "March 1, 2025" in requests[en.id]["json"]["content"][0]["value"]


def test_essential_notices_carry_no_unsubscribe_header(app, sendgrid, fake_sendgrid):
    queue_votes(1)
    send_pending(sendgrid, T0)
    [request] = fake_sendgrid.requests
    assert "headers" not in request["json"]
    assert "R-0000" in request["json"]["content"][0]["value"]


def test_a_500_and_a_429_are_retried_with_backoff_then_succeed(app, sendgrid, fake_sendgrid):
    fake_sendgrid.script(500, (429, {"Retry-After": "90"}))
    [message_id] = queue_votes(1)

    first = send_pending(sendgrid, T0)
    assert first.retrying == [message_id]
    message = status_of(message_id)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.next_attempt_at == T0 + 30 * SECOND  # NOTIFY_BACKOFF_BASE_SECONDS
    assert "500" in message.last_error

    assert send_pending(sendgrid, T0 + 29 * SECOND).claimed == 0  # not yet due

    t1 = T0 + 30 * SECOND
    assert send_pending(sendgrid, t1).retrying == [message_id]
    message = status_of(message_id)
    assert message.attempts == 2
    assert message.next_attempt_at == t1 + 90 * SECOND  # Retry-After beats the 60 s backoff
    assert "429" in message.last_error

    t2 = t1 + 90 * SECOND
    assert send_pending(sendgrid, t2).sent == [message_id]
    message = status_of(message_id)
    assert (message.status, message.attempts, message.sent_at, message.last_error) == (
        OutboxStatus.SENT,
        3,
        t2,
        None,
    )
    assert [r["status"] for r in fake_sendgrid.requests] == [500, 429, 202]
    assert fake_sendgrid.outbox_ids(status=None) == [message_id] * 3


@pytest.mark.options(NOTIFY_MAX_ATTEMPTS=3, NOTIFY_BACKOFF_BASE_SECONDS=10)
def test_permanent_failure_after_the_configured_tries_then_resend(app, sendgrid, fake_sendgrid):
    fake_sendgrid.script(503, 500, 502)
    [message_id] = queue_votes(1)
    now = T0
    for wait in (10, 20):
        assert send_pending(sendgrid, now).retrying == [message_id]
        now += wait * SECOND
    assert send_pending(sendgrid, now).failed == [message_id]
    message = status_of(message_id)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)
    assert "502" in message.last_error
    assert send_pending(sendgrid, now + timedelta(days=1)).claimed == 0  # failed stays failed

    services.resend(message_id, now=now, actor="user:1")
    db.session.commit()
    assert send_pending(sendgrid, now).sent == [message_id]
    assert status_of(message_id).status is OutboxStatus.SENT
    assert fake_sendgrid.outbox_ids() == [message_id]
    assert len(fake_sendgrid.requests) == 4


def test_a_refused_message_fails_at_once(app, sendgrid, fake_sendgrid):
    fake_sendgrid.script(400)
    [message_id] = queue_votes(1)
    assert send_pending(sendgrid, T0).failed == [message_id]
    message = status_of(message_id)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "400" in message.last_error


def test_an_unreachable_service_is_retried(app):
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailer = SendGridMailer(API_KEY, "noreply@tongxin.local", host=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(MailError, match="unreachable") as caught:
        mailer.send(Email(to="a@example.test", subject="s", text="t"))
    assert caught.value.retryable
    assert caught.value.status is None


def test_the_mailer_maps_statuses_to_errors(fake_sendgrid):
    mailer = SendGridMailer(API_KEY, "noreply@tongxin.local", host=fake_sendgrid.url)
    fake_sendgrid.script((429, {"Retry-After": "7"}), 413)
    with pytest.raises(MailError) as limited:
        mailer.send(Email(to="a@example.test", subject="s", text="t"))
    assert (limited.value.status, limited.value.retryable, limited.value.retry_after) == (
        429,
        True,
        7 * SECOND,
    )
    with pytest.raises(MailError) as refused:
        mailer.send(Email(to="a@example.test", subject="s", text="t"))
    assert (refused.value.status, refused.value.retryable) == (413, False)
    mailer.send(Email(to="a@example.test", subject="s", text="t", outbox_id=5))
    assert fake_sendgrid.outbox_ids() == [5]
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        SendGridMailer("", "noreply@tongxin.local")


class _Elsewhere(BaseHTTPRequestHandler):
    """A server a redirect could point at: it records whatever reaches it."""

    def _record(self) -> None:
        self.server.seen.append((self.command, self.path, dict(self.headers.items())))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_answer_never_followed(app, sendgrid, fake_sendgrid, status):
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), _Elsewhere)
    elsewhere.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=elsewhere.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        target = f"http://127.0.0.1:{elsewhere.server_address[1]}/collect"
        fake_sendgrid.script((status, {"Location": target}))
        [message_id] = queue_votes(1)
        report = send_pending(sendgrid, T0)
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
        thread.join(5)
    assert elsewhere.seen == []  # neither the message nor the API key went anywhere else
    assert len(fake_sendgrid.requests) == 1
    assert report.retrying == [message_id]  # a misconfiguration, perhaps being mended
    message = status_of(message_id)
    assert message.status is OutboxStatus.PENDING
    assert message.last_error.startswith(f"SendGrid answered {status}")


def test_what_is_sent_to_sendgrid_reaches_no_log(app, sendgrid, fake_sendgrid, caplog):
    caplog.set_level(logging.DEBUG)  # the most a deployment could ask of the root logger
    [message_id] = queue_votes(1)
    assert send_pending(sendgrid, T0).sent == [message_id]
    written = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert API_KEY not in written
    assert "owner0@example.test" not in written
