"""``flask notify test`` and ``flask outbox run --once|status`` through Flask's test runner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from tests.notify.conftest import queue_votes
from tests.notify.conftest import use_sendgrid


def test_notify_test_sends_through_the_memory_backend(app, memory_mailer):
    result = app.test_cli_runner().invoke(args=["notify", "test", "Ops@Example.test", "--locale", "en"])
    assert result.exit_code == 0, result.output
    assert "Sent a test message to ops@example.test through memory." in result.output
    [email] = memory_mailer.outbox
    assert email.to == "ops@example.test"
    assert email.subject == "Test message from Tongxin"
    assert "notices from Tongxin reach this address" in email.text
    assert email.outbox_id is None


def test_notify_test_sends_through_sendgrid(app, fake_sendgrid):
    use_sendgrid(app, fake_sendgrid)
    result = app.test_cli_runner().invoke(args=["notify", "test", "ops@example.test"])
    assert result.exit_code == 0, result.output
    [request] = fake_sendgrid.requests
    assert request["json"]["personalizations"] == [{"to": [{"email": "ops@example.test"}]}]
    assert '<html lang="zh-CN">' in request["json"]["content"][1]["value"]  # the default language


def test_notify_test_reports_a_failure(app, fake_sendgrid):
    use_sendgrid(app, fake_sendgrid)
    fake_sendgrid.script(401)
    result = app.test_cli_runner().invoke(args=["notify", "test", "ops@example.test"])
    assert result.exit_code == 1
    assert "was not sent: SendGrid answered 401" in result.output


def test_notify_test_checks_its_arguments(app, memory_mailer):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["notify", "test", "not-an-address"]).exit_code == 2
    assert runner.invoke(args=["notify", "test", "a@example.test", "--locale", "fr"]).exit_code == 2
    assert memory_mailer.outbox == []


def test_outbox_run_once_drains_the_outbox(app, memory_mailer):
    ids = queue_votes(5)
    result = app.test_cli_runner().invoke(args=["outbox", "run", "--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "stopped: sent 5, retrying 0, failed 0" in result.output
    assert sorted(e.outbox_id for e in memory_mailer.outbox) == ids
    db.session.expire_all()
    assert {db.session.get(OutboxMessage, i).status for i in ids} == {OutboxStatus.SENT}


def test_outbox_status_counts(app, memory_mailer):
    queue_votes(3)
    output = app.test_cli_runner().invoke(args=["outbox", "status"]).output
    assert "pending           3" in output
    assert "sent              0" in output


def test_outbox_purge(app, memory_mailer):
    queue_votes(2)
    app.test_cli_runner().invoke(args=["outbox", "run", "--once"])
    result = app.test_cli_runner().invoke(args=["outbox", "purge", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 messages older than 30 days." in result.output  # queued at T0, long ago
    assert db.session.scalars(select(OutboxMessage)).all() == []


@pytest.mark.options(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY="")
def test_a_missing_api_key_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 1
    assert "Error: SENDGRID_API_KEY is not set" in result.output
