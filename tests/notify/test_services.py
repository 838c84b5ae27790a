"""The outbox as a service: enqueue with the event, unsubscribe, re-send, claims and leases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from jinja2 import ChoiceLoader
from jinja2 import DictLoader
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from consult.audit.models import AuditEntry
from consult.audit.services import record as audit
from consult.auth.models import Role
from consult.compounds.models import Owner
from consult.errors import NotFound
from consult.extensions import db
from consult.notify import services
from consult.notify.mailer import Email
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from consult.notify.services import NotResendable
from consult.notify.services import enqueue
from consult.notify.services import enqueue_to
from consult.notify.services import send_pending
from tests.conftest import TEST_DATABASE_URL
from tests.notify.conftest import T0
from tests.notify.conftest import queue_votes
from tests.notify.conftest import round_context
from tests.notify.conftest import vote_context


def count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))


def test_enqueue_stores_the_rendered_message_encrypted(app):
    message = enqueue("vote_received", " Zhang.Wei@Example.TEST ", "zh_CN", vote_context(7), now=T0)
    db.session.commit()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.kind is NoticeKind.VOTE_RECEIVED
    assert stored.to_address == "zhang.wei@example.test"
    assert stored.locale == "zh_CN"
    assert stored.status is OutboxStatus.PENDING
    assert stored.next_attempt_at == T0
    assert "浣花小区" in stored.subject
    assert "R-0007" in stored.text_body
    assert "R-0007" in stored.html_body
    assert stored.unsubscribe_url is None  # essential
    raw = db.session.execute(
        text("SELECT subject, text_body, html_body FROM outbox_message WHERE id = :id"), {"id": message.id}
    ).one()
    assert all(value.startswith("v1:") for value in raw)  # encrypted at rest
    assert not any("R-0007" in value or "浣花小区" in value for value in raw)


def test_addresses_are_stored_encrypted_and_found_by_their_digest(app):
    enqueue("vote_received", "zhang.wei@example.test", "zh_CN", vote_context(7), now=T0)
    enqueue("vote_received", "Zhang.Wei@example.test", "zh_CN", vote_context(8), now=T0)
    services.unsubscribe(" ZHANG.WEI@example.test")
    db.session.commit()
    stored = db.session.execute(
        text("SELECT to_address, address_digest FROM outbox_message ORDER BY id")
    ).all()
    unsubscribed = db.session.execute(text("SELECT address, address_digest FROM notify_unsubscribe")).one()
    addresses = [row.to_address for row in stored] + [unsubscribed.address]
    assert all(a.startswith("v1:") and "example" not in a for a in addresses)
    assert len(set(addresses)) == 3  # a fresh nonce each time: equal addresses cannot be matched up
    digests = {row.address_digest for row in stored} | {unsubscribed.address_digest}
    assert digests == {services.address_digest("zhang.wei@example.test")}  # one address, one digest
    assert services.is_unsubscribed("zhang.wei@EXAMPLE.test")
    assert not services.is_unsubscribed("li.na@example.test")
    again = enqueue(
        "vote_received", "ZHANG.wei@example.test", "zh_CN", vote_context(7), dedupe_key="r7", now=T0
    )
    db.session.commit()
    assert (
        enqueue(
            "vote_received", "zhang.wei@example.test", "zh_CN", vote_context(7), dedupe_key="r7", now=T0
        ).id
        == again.id
    )  # the dedupe key is found by the digest of the address


def test_a_queued_message_keeps_its_text_when_the_template_changes(app, memory_mailer):
    message = enqueue("vote_received", "a@example.test", "en", vote_context(), now=T0)
    db.session.commit()
    before = message.text_body
    changed = "{% extends 'email/_base.html' %}{% block text %}changed{% endblock %}"
    loaders = [DictLoader({"email/vote_received.html": changed}), app.jinja_env.loader]
    app.jinja_env.loader = ChoiceLoader(loaders)
    app.jinja_env.cache.clear()
    later = enqueue("vote_received", "b@example.test", "en", vote_context(), now=T0)
    assert later.text_body.startswith("changed")
    db.session.commit()
    send_pending(memory_mailer, T0)
    assert [e.text for e in memory_mailer.outbox if e.outbox_id == message.id] == [before]
    assert before.startswith("Your vote in round 3")


def test_a_rolled_back_event_leaves_no_message(app):
    audit("worker:1", "round.open", None, round=1)  # the event
    enqueue("round_opened", "a@example.test", "en", round_context())
    db.session.rollback()
    assert count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0

    audit("worker:1", "round.open", None, round=1)
    enqueue("round_opened", "a@example.test", "en", round_context())
    db.session.commit()
    assert count() == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_enqueue_refuses_bad_input(app):
    with pytest.raises(ValueError, match="not an e-mail address"):
        enqueue("vote_received", "nobody", "en", vote_context())
    with pytest.raises(ValueError, match="unexpected 'owner_name'"):
        enqueue("vote_received", "a@example.test", "en", vote_context(owner_name="张伟"))
    with pytest.raises(ValueError, match="path must be a path"):
        enqueue("round_opened", "a@example.test", "en", round_context(path="http://evil.example/"))
    with pytest.raises(ValueError, match="no_such_kind"):
        enqueue("no_such_kind", "a@example.test", "en", {})
    assert count() == 0


def test_an_unknown_locale_falls_back_to_the_default(app):
    assert enqueue("vote_received", "a@example.test", "fr", vote_context()).locale == "zh_CN"
    assert enqueue("vote_received", "b@example.test", None, vote_context()).locale == "zh_CN"


def test_enqueue_to_a_person_uses_their_address_and_language(app, compound, create_user):
    owner = Owner(compound=compound, name="张伟", email="zw@example.test", locale="en")
    silent = Owner(compound=compound, name="王芳", email=None)
    mistyped = Owner(compound=compound, name="刘洋", email="liu yang@example")
    db.session.add_all([owner, silent, mistyped])
    reviewer = create_user("rev@example.test", Role.REVIEWER)
    reviewer.locale = None
    context = {"compound": compound.name, "version": 1, "path": "/records/1"}
    to_owner = enqueue_to(owner, "record_approved", context)
    to_reviewer = enqueue_to(reviewer, "record_approved", context)
    assert enqueue_to(silent, "record_approved", context) is None
    assert enqueue_to(mistyped, "record_approved", context) is None  # logged, and the rest goes on
    db.session.commit()
    assert (to_owner.to_address, to_owner.locale) == ("zw@example.test", "en")
    assert (to_reviewer.to_address, to_reviewer.locale) == ("rev@example.test", "zh_CN")
    assert "张伟" not in to_owner.text_body + to_owner.html_body  # no names, not even their own


def test_unsubscribe_stops_non_essential_notices_only(app):
    pending = enqueue("round_opened", "a@example.test", "en", round_context())
    services.unsubscribe("  A@example.test")
    db.session.commit()
    assert services.is_unsubscribed("a@EXAMPLE.test")
    assert db.session.get(OutboxMessage, pending.id).status is OutboxStatus.CANCELLED
    for kind in ("round_opened", "round_closing"):
        assert enqueue(kind, "a@example.test", "en", round_context()) is None
    answered = {"compound": "浣花小区", "outcome": "adopted", "path": "/c/1"}
    assert enqueue("comment_answered", "a@example.test", "en", answered) is None
    receipt = enqueue("vote_received", "a@example.test", "en", vote_context())
    assert receipt is not None
    assert enqueue("round_opened", "b@example.test", "en", round_context()) is not None
    services.unsubscribe("a@example.test")  # twice is fine
    db.session.commit()
    assert count(OutboxMessage.status == OutboxStatus.PENDING) == 2
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["notify.unsubscribe"]


def test_dedupe_key_makes_a_repeated_enqueue_a_no_op(app):
    first = enqueue("round_closing", "a@example.test", "en", round_context(), dedupe_key="round:1:closing")
    again = enqueue("round_closing", "A@example.test", "en", round_context(), dedupe_key="round:1:closing")
    other = enqueue("round_closing", "b@example.test", "en", round_context(), dedupe_key="round:1:closing")
    db.session.commit()
    assert again.id == first.id
    assert other.id != first.id
    assert count() == 2


def test_send_pending_sends_what_is_due_and_records_it(app, memory_mailer):
    early, later = queue_votes(2)
    db.session.get(OutboxMessage, later).next_attempt_at = T0 + timedelta(hours=1)
    db.session.commit()
    report = send_pending(memory_mailer, T0, worker_id="w1")
    assert (report.claimed, report.sent) == (1, [early])
    [email] = memory_mailer.outbox
    assert isinstance(email, Email)
    assert (email.to, email.outbox_id) == ("owner0@example.test", early)
    sent = db.session.get(OutboxMessage, early)
    assert (sent.status, sent.attempts, sent.sent_at, sent.claimed_by) == (OutboxStatus.SENT, 1, T0, "w1")
    db.session.commit()
    assert send_pending(memory_mailer, T0).claimed == 0
    assert send_pending(memory_mailer, T0 + timedelta(hours=1)).sent == [later]


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgres"),
    reason="in-memory SQLite shares one connection; an SQLite file allows one writer at a time",
)
def test_send_pending_works_in_its_own_session(app, memory_mailer):
    [sent_id] = queue_votes(1)
    unfinished = enqueue("vote_received", "late@example.test", "en", vote_context(), now=T0)
    report = send_pending(memory_mailer, T0)
    assert report.sent == [sent_id]  # the caller's uncommitted message is neither sent nor committed
    db.session.rollback()
    assert db.session.get(OutboxMessage, unfinished.id) is None
    assert db.session.get(OutboxMessage, sent_id).status is OutboxStatus.SENT


class CrashingMailer:
    """Dies in the middle of a send, as a killed worker would (BaseException: nothing catches it)."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, email: Email) -> None:
        self.calls += 1
        raise KeyboardInterrupt


class BrokenMailer:
    def send(self, email: Email) -> None:
        raise RuntimeError("bug in a backend")


def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(app, memory_mailer):
    [message_id] = queue_votes(1)
    with pytest.raises(KeyboardInterrupt):
        send_pending(CrashingMailer(), T0, lease=timedelta(minutes=5), worker_id="dead")
    db.session.rollback()
    stuck = db.session.get(OutboxMessage, message_id)
    assert (stuck.status, stuck.attempts, stuck.claimed_by) == (OutboxStatus.SENDING, 1, "dead")
    db.session.commit()
    assert send_pending(memory_mailer, T0 + timedelta(minutes=4)).claimed == 0  # lease still running
    report = send_pending(memory_mailer, T0 + timedelta(minutes=5, seconds=1), worker_id="alive")
    assert report.sent == [message_id]
    db.session.expire_all()
    assert (stuck.status, stuck.attempts, stuck.claimed_by) == (OutboxStatus.SENT, 2, "alive")


@pytest.mark.options(NOTIFY_MAX_ATTEMPTS=2)
def test_a_message_that_kills_every_worker_ends_failed(app, memory_mailer):
    [message_id] = queue_votes(1)
    now = T0
    for _attempt in range(2):
        with pytest.raises(KeyboardInterrupt):
            send_pending(CrashingMailer(), now, lease=timedelta(minutes=1))
        db.session.rollback()
        now += timedelta(minutes=2)
    report = send_pending(memory_mailer, now)
    assert report.failed == [message_id]
    assert memory_mailer.outbox == []
    message = db.session.get(OutboxMessage, message_id)
    assert message.status is OutboxStatus.FAILED
    assert "may have been delivered" in message.last_error


def test_an_unexpected_backend_error_is_retried_not_fatal(app):
    ids = queue_votes(2)
    report = send_pending(BrokenMailer(), T0)
    assert report.retrying == ids
    message = db.session.get(OutboxMessage, ids[0])
    assert message.status is OutboxStatus.PENDING
    assert message.last_error == "RuntimeError: bug in a backend"
    assert message.next_attempt_at == T0 + timedelta(seconds=30)


def test_resend(app, memory_mailer):
    [message_id] = queue_votes(1)
    with pytest.raises(NotResendable):
        services.resend(message_id)
    db.session.rollback()
    send_pending(memory_mailer, T0)
    resent = services.resend(message_id, now=T0 + timedelta(days=1), actor="user:1")
    db.session.commit()
    assert (resent.status, resent.attempts) == (OutboxStatus.PENDING, 0)
    assert send_pending(memory_mailer, T0 + timedelta(days=1)).sent == [message_id]
    assert [e.outbox_id for e in memory_mailer.outbox] == [message_id, message_id]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "notify.resend")).one()
    assert entry.actor == "user:1"
    with pytest.raises(NotFound):
        services.resend(10_000)


def test_a_cancelled_message_is_not_resent_to_an_unsubscribed_address(app):
    message = enqueue("round_opened", "a@example.test", "en", round_context())
    services.unsubscribe("a@example.test")
    db.session.commit()
    with force_locale("en"), pytest.raises(NotResendable, match="unsubscribed"):
        services.resend(message.id)


def test_a_worker_told_to_stop_hands_the_rest_of_its_batch_back(app, memory_mailer):
    ids = queue_votes(4)
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 2

    report = send_pending(memory_mailer, T0, batch=4, stop=stop)
    assert (report.claimed, report.sent, report.released) == (4, ids[:2], 2)
    db.session.expire_all()
    waiting = [db.session.get(OutboxMessage, i) for i in ids[2:]]
    assert {(m.status, m.attempts, m.claimed_until) for m in waiting} == {(OutboxStatus.PENDING, 0, None)}
    db.session.commit()
    assert send_pending(memory_mailer, T0).sent == ids[2:]  # at once, no lease to wait for


def test_purge_deletes_old_sent_and_cancelled_messages_only(app, memory_mailer):
    old_sent, old_failed = queue_votes(2, now=T0)
    old_cancelled = enqueue("round_opened", "gone@example.test", "en", round_context(), now=T0).id
    services.unsubscribe("gone@example.test")
    db.session.commit()
    db.session.get(OutboxMessage, old_failed).status = OutboxStatus.FAILED
    db.session.commit()
    send_pending(memory_mailer, T0)
    [recent] = queue_votes(1, now=T0 + timedelta(days=100))
    send_pending(memory_mailer, T0 + timedelta(days=100))
    assert services.purge(T0 + timedelta(days=10)) == 2
    db.session.commit()
    remaining = set(db.session.scalars(select(OutboxMessage.id)).all())
    assert remaining == {old_failed, recent}
    assert old_sent not in remaining
    assert old_cancelled not in remaining
