"""Notices: enqueue them with their event, send them from a worker, re-send, unsubscribe.

``enqueue`` runs inside the caller's transaction and only flushes: the notice commits or rolls back with
the event that causes it. ``send_pending`` is the worker's side and owns its transactions (see there).

Settings (``app.config``, with these defaults when absent):

NOTIFY_MAX_ATTEMPTS             8     tries before a message is marked failed
NOTIFY_BACKOFF_BASE_SECONDS     30    wait after the first failure; doubles after each further one
NOTIFY_BACKOFF_CAP_SECONDS      3600  longest wait between tries
NOTIFY_LEASE_SECONDS            300   how long a worker's claim lasts; then another worker may take over
NOTIFY_BATCH_SIZE               20    messages a worker claims at a time
NOTIFY_POLL_SECONDS             5     how long ``flask outbox run`` sleeps when nothing is due
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from consult.audit.services import record as audit
from consult.db import utcnow
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.extensions import db
from consult.notify import rules
from consult.notify.emails import absolute_url
from consult.notify.emails import render_email
from consult.notify.emails import unsubscribe_url
from consult.notify.mailer import Email
from consult.notify.mailer import Mailer
from consult.notify.mailer import MailError
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from consult.notify.models import Unsubscribe
from consult.residents.rules import keyed_hash
from consult.residents.services import code_key

log = logging.getLogger(__name__)

DEFAULTS: Mapping[str, int] = {
    "NOTIFY_MAX_ATTEMPTS": 8,
    "NOTIFY_BACKOFF_BASE_SECONDS": 30,
    "NOTIFY_BACKOFF_CAP_SECONDS": 3600,
    "NOTIFY_LEASE_SECONDS": 300,
    "NOTIFY_BATCH_SIZE": 20,
    "NOTIFY_POLL_SECONDS": 5,
}

SUBJECT_MAX = 400
ERROR_MAX = 500


def setting(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])


def retry_policy() -> rules.RetryPolicy:
    return rules.RetryPolicy(
        max_attempts=int(setting("NOTIFY_MAX_ATTEMPTS")),
        base=timedelta(seconds=float(setting("NOTIFY_BACKOFF_BASE_SECONDS"))),
        cap=timedelta(seconds=float(setting("NOTIFY_BACKOFF_CAP_SECONDS"))),
    )


class InvalidAddress(ValueError):
    """Not something that could be an e-mail address."""


class NotResendable(ConsultError):
    """The message is still queued, or its address has unsubscribed from its kind."""


class Recipient(Protocol):
    """An Owner, Occupant or User: anyone with an e-mail address and a language."""

    @property
    def email(self) -> str | None: ...

    @property
    def locale(self) -> str | None: ...


# --- enqueueing (inside the caller's transaction) -----------------------------------------------------


def address_digest(address: str) -> str:
    """The keyed digest an address is found by (HMAC-SHA256 under the codes' key, of the normalised
    address): outbox messages and unsubscribes keep their addresses encrypted, which no query can
    compare."""
    return keyed_hash(code_key(), "address", rules.normalise_address(address))


def is_unsubscribed(address: str) -> bool:
    return _unsubscribed(address_digest(address))


def _unsubscribed(digest: str) -> bool:
    return db.session.scalar(select(Unsubscribe.id).where(Unsubscribe.address_digest == digest)) is not None


def _locale(locale: str | None) -> str:
    if locale in current_app.config["LANGUAGES"]:
        return locale  # type: ignore[return-value]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def enqueue(
    kind: NoticeKind | str,
    to_address: str,
    locale: str | None,
    context: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a notice to one address, rendered now in ``locale``; flushes, the caller commits.

    Returns None when the address unsubscribed and the kind is not essential. With ``dedupe_key``, a
    notice already queued under the same key for the same address is returned instead of a second one.
    ``context`` holds the keys in ``rules.CONTEXT_KEYS``; a ``path`` becomes a link under BASE_URL.
    Raises ValueError on an unknown kind or a bad context (caller bugs), and InvalidAddress (a ValueError)
    on an implausible address.
    """
    return _queued(prepare(kind, to_address, locale, context, dedupe_key=dedupe_key, now=now))


def _queued(message: OutboxMessage | None) -> OutboxMessage | None:
    if message is not None and message.id is None:
        db.session.add(message)
        db.session.flush()
    return message


def prepare(
    kind: NoticeKind | str,
    to_address: str,
    locale: str | None,
    context: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """``enqueue`` without adding the new notice to the session: the caller adds it (and so may render
    a notice before taking a lock, and queue it inside). A notice already queued under ``dedupe_key`` is
    returned as it is."""
    kind = NoticeKind(kind)
    address = rules.normalise_address(to_address)
    if not rules.is_plausible_address(address):
        raise InvalidAddress(f"not an e-mail address: {to_address!r}")
    problems = rules.context_problems(kind.value, context)
    if problems:
        raise ValueError(f"bad context for {kind.value}: {', '.join(problems)}")
    essential = rules.is_essential(kind.value)
    digest = address_digest(address)
    if not essential and _unsubscribed(digest):
        return None
    if dedupe_key is not None:
        existing = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.address_digest == digest
            )
        )
        if existing is not None:
            return existing
    locale = _locale(locale)
    link = None if essential else unsubscribe_url(address, locale)
    variables = {key: value for key, value in context.items() if key != "path"}
    variables["url"] = absolute_url(context["path"]) if context.get("path") else None
    variables["unsubscribe_url"] = link
    rendered = render_email(kind.value, locale, variables)
    subject = rendered.subject
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    now = now or utcnow()
    message = OutboxMessage(
        kind=kind,
        to_address=address,
        address_digest=digest,
        locale=locale,
        subject=subject,
        text_body=rendered.text,
        html_body=rendered.html,
        unsubscribe_url=link,
        dedupe_key=dedupe_key,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    return message


def enqueue_to(
    recipient: Recipient,
    kind: NoticeKind | str,
    context: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """``enqueue`` to an Owner, Occupant or User in their own language.

    None when they left no address, or one that cannot be an address (logged: one bad address in a
    roster must not stop the event that notifies everyone else), or unsubscribed.
    """
    return _queued(prepare_to(recipient, kind, context, dedupe_key=dedupe_key, now=now))


def prepare_to(
    recipient: Recipient,
    kind: NoticeKind | str,
    context: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """``enqueue_to`` without adding the new notice to the session (see ``prepare``)."""
    if not recipient.email or not recipient.email.strip():
        return None
    try:
        return prepare(kind, recipient.email, recipient.locale, context, dedupe_key=dedupe_key, now=now)
    except InvalidAddress:
        log.warning(
            "no %s notice for %s %s: unusable e-mail address",
            kind,
            type(recipient).__name__,
            getattr(recipient, "id", "?"),
        )
        return None


def refresh_address_digests() -> int:
    """Compute every stored address's digest again, under the current codes' key (``flask reencrypt``
    runs it after a key changed); in the caller's transaction. Returns how many digests changed."""
    changed = 0
    for model, column in ((OutboxMessage, OutboxMessage.to_address), (Unsubscribe, Unsubscribe.address)):
        for row_id, address, digest in db.session.execute(
            select(model.id, column, model.address_digest)
        ).all():
            fresh = address_digest(address)
            if fresh != digest:
                db.session.execute(update(model).where(model.id == row_id).values(address_digest=fresh))
                changed += 1
    return changed


# --- unsubscribe and re-send (inside the caller's transaction) ----------------------------------------


def unsubscribe(address: str, *, now: datetime | None = None) -> Unsubscribe:
    """Stop non-essential notices to ``address`` and cancel those still waiting; flushes."""
    normalised = rules.normalise_address(address)
    digest = address_digest(normalised)
    entry = db.session.scalar(select(Unsubscribe).where(Unsubscribe.address_digest == digest))
    if entry is not None:
        return entry
    entry = Unsubscribe(address=normalised, address_digest=digest, created_at=now or utcnow())
    db.session.add(entry)
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.address_digest == digest,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.kind.not_in([NoticeKind(k) for k in rules.ESSENTIAL_KINDS]),
        )
        .values(status=OutboxStatus.CANCELLED, last_error="unsubscribed")
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    audit("resident", "notify.unsubscribe", None, unsubscribe_id=entry.id)
    return entry


def resend(message_id: int, *, now: datetime | None = None, actor: str = "system") -> OutboxMessage:
    """Queue a failed, cancelled or sent message again, with a fresh count of attempts; flushes."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_("There is no such message."))
    if message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        raise NotResendable(_("This message is already waiting to be sent."))
    if not rules.is_essential(message.kind.value) and is_unsubscribed(message.to_address):
        raise NotResendable(_("This address has unsubscribed from notices of this kind."))
    if rules.is_wiped_once_sent(message.kind.value) and message.status is OutboxStatus.SENT:
        raise NotResendable(_("Its link was wiped once it was sent: send a new one instead."))
    previous = message.status
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    message.claim_token = None
    message.claimed_until = None
    message.last_error = None
    db.session.flush()
    audit(actor, "notify.resend", None, message_id=message.id, kind=message.kind.value, was=previous.value)
    return message


# --- the worker ----------------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What one ``send_pending`` call did, by outbox id."""

    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: claims another worker took over before this one got to them
    lost: list[int] = field(default_factory=list)
    #: claimed but handed back untried because the worker was told to stop
    released: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    to_address: str
    subject: str
    text_body: str
    html_body: str
    unsubscribe_url: str | None
    attempts: int
    kind: NoticeKind


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(
    session: Session, now: datetime, batch: int, worker_id: str, token: str, lease: timedelta
) -> list[_Claimed]:
    """Take up to ``batch`` due messages: pending ones whose time has come, and claimed ones whose
    worker's lease ran out (it died or hung). PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so
    concurrent workers pass each other's rows by; SQLite: one UPDATE … WHERE id IN (SELECT … LIMIT),
    atomic because SQLite runs one writer at a time.
    """
    M = OutboxMessage
    due = or_(
        and_(M.status == OutboxStatus.PENDING, M.next_attempt_at <= now),
        and_(M.status == OutboxStatus.SENDING, M.claimed_until < now),
    )
    pick = select(M.id).where(due).order_by(M.next_attempt_at, M.id).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        ids: Sequence[int] | Any = session.scalars(pick.with_for_update(skip_locked=True)).all()
        if not ids:
            return []
    else:
        ids = pick
    rows = session.execute(
        update(M)
        .where(M.id.in_(ids), due)
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker_id[:100],
            claim_token=token,
            claimed_until=now + lease,
        )
        .returning(
            M.id, M.to_address, M.subject, M.text_body, M.html_body, M.unsubscribe_url, M.attempts, M.kind
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((_Claimed(*row) for row in rows), key=lambda c: c.id)


def _mine(message_id: int, token: str) -> Any:
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.claim_token == token,
        OutboxMessage.status == OutboxStatus.SENDING,
    )


def _update_claimed(session: Session, message_id: int, token: str, **values: Any) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(_mine(message_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def send_pending(
    mailer: Mailer,
    now: datetime,
    *,
    batch: int | None = None,
    worker_id: str | None = None,
    lease: timedelta | None = None,
    stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Claim due messages and send them, one at a time; returns what happened.

    ``stop`` is asked before each message: when it says so, the rest of the batch is handed back at
    once rather than after the lease (a worker told to shut down).

    This is the worker's loop, not a use-case inside a request: it works in a session of its own (so
    it never commits, or sees, the caller's unfinished work) and commits there: the claim, then for each
    message the start of the attempt (before the mail service is called) and its result. A worker that
    dies leaves at most the message it was sending in doubt: after the lease another worker sends that
    one again (delivery is at least once) and takes over the rest of the batch.
    """
    policy = retry_policy()
    batch = batch or int(setting("NOTIFY_BATCH_SIZE"))
    lease = lease or timedelta(seconds=float(setting("NOTIFY_LEASE_SECONDS")))
    worker_id = worker_id or default_worker_id()
    token = secrets.token_hex(16)
    report = SendReport()
    with Session(db.engine) as session:
        claimed = _claim(session, now, batch, worker_id, token, lease)
        session.commit()
        report.claimed = len(claimed)
        for index, message in enumerate(claimed):
            if stop is not None and stop():
                _release(session, [m.id for m in claimed[index:]], token, report)
                session.commit()
                break
            _send_one(session, mailer, message, now, token, policy, report)
            session.commit()
    return report


def _release(session: Session, ids: list[int], token: str, report: SendReport) -> None:
    """Hand claimed messages back untried: pending again, at once claimable by another worker."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.claim_token == token,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(status=OutboxStatus.PENDING, claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    report.released = result.rowcount  # type: ignore[attr-defined]


def _send_one(
    session: Session,
    mailer: Mailer,
    message: _Claimed,
    now: datetime,
    token: str,
    policy: rules.RetryPolicy,
    report: SendReport,
) -> None:
    if message.attempts >= policy.max_attempts:
        # its last attempt was cut short by a worker that died: it may have gone out; don't retry
        if _update_claimed(
            session,
            message.id,
            token,
            status=OutboxStatus.FAILED,
            claimed_until=None,
            last_error="the worker stopped during the last attempt; it may have been delivered",
        ):
            report.failed.append(message.id)
        return
    attempt = message.attempts + 1
    started = _update_claimed(session, message.id, token, attempts=attempt, last_attempt_at=now)
    session.commit()
    if not started:
        report.lost.append(message.id)
        return
    try:
        mailer.send(
            Email(
                to=message.to_address,
                subject=message.subject,
                text=message.text_body,
                html=message.html_body,
                outbox_id=message.id,
                unsubscribe_url=message.unsubscribe_url,
            )
        )
    except Exception as error:  # any failure of a backend must not stop the batch
        if isinstance(error, MailError):
            failure = error
        else:
            log.exception("mailer failed on outbox message %s", message.id)
            failure = MailError(f"{type(error).__name__}: {error}")
        wait = rules.retry_after(
            attempt, policy, retryable=failure.retryable, server_wait=failure.retry_after
        )
        error_text = str(failure)[:ERROR_MAX]
        if wait is None:
            done = _update_claimed(
                session,
                message.id,
                token,
                status=OutboxStatus.FAILED,
                claimed_until=None,
                last_error=error_text,
            )
            (report.failed if done else report.lost).append(message.id)
        else:
            done = _update_claimed(
                session,
                message.id,
                token,
                status=OutboxStatus.PENDING,
                claimed_until=None,
                next_attempt_at=now + wait,
                last_error=error_text,
            )
            (report.retrying if done else report.lost).append(message.id)
        return
    sent: dict[str, Any] = {"status": OutboxStatus.SENT, "claimed_until": None, "sent_at": now}
    sent["last_error"] = None
    if rules.is_wiped_once_sent(message.kind.value):  # a live link is kept nowhere once it has gone out
        sent.update(text_body=rules.WIPED, html_body=rules.WIPED)
    done = _update_claimed(session, message.id, token, **sent)
    (report.sent if done else report.lost).append(message.id)


def purge(before: datetime) -> int:
    """Delete sent and cancelled messages created before ``before`` (they hold addresses); flushes."""
    result = db.session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.CANCELLED]),
            OutboxMessage.created_at < before,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount  # type: ignore[attr-defined]


# --- reading -------------------------------------------------------------------------------------------


def status_counts() -> dict[OutboxStatus, int]:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): n for status, n in rows})
    return counts


def outbox_query(status: OutboxStatus) -> Any:
    """Messages of one status (pending includes those being sent), the most relevant first."""
    M = OutboxMessage
    if status == OutboxStatus.PENDING:
        query = select(M).where(M.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    else:
        query = select(M).where(M.status == status)
    if status == OutboxStatus.PENDING:
        return query.order_by(M.next_attempt_at, M.id)
    if status == OutboxStatus.SENT:
        return query.order_by(M.sent_at.desc(), M.id.desc())
    return query.order_by(M.last_attempt_at.desc().nulls_last(), M.id.desc())
