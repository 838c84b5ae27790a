"""Notices: the transactional outbox and the addresses that asked for no more non-essential notices.

Addresses are stored encrypted, with a keyed digest beside them to find rows by address: the same
address always has the same digest, which tells nothing without the key."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consult.compounds.models import str_enum
from consult.crypto import EncryptedString
from consult.crypto import EncryptedText
from consult.db import utcnow
from consult.extensions import db


class NoticeKind(enum.StrEnum):
    """What a notice is about; each has its template ``templates/email/<value>.html``."""

    ROUND_OPENED = "round_opened"
    ROUND_CLOSING = "round_closing"
    COMMENT_ANSWERED = "comment_answered"
    VOTE_RECEIVED = "vote_received"
    PANEL_INVITATION = "panel_invitation"
    PANEL_REOPENED = "panel_reopened"
    RECORD_RETURNED = "record_returned"
    RECORD_APPROVED = "record_approved"
    PASSWORD_RESET = "password_reset"  # noqa: S105  a kind of notice, not a password


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (``next_attempt_at``)
    SENDING = "sending"  # claimed by a worker until ``claimed_until``
    SENT = "sent"  # the mail service accepted it
    FAILED = "failed"  # given up: refused, or out of attempts; an admin may re-send it
    CANCELLED = "cancelled"  # the recipient unsubscribed before it went out


class OutboxMessage(db.Model):
    """One notice to one address, rendered when the event happened, sent later by a worker.

    Written in the same transaction as its event, so the two commit or roll back together.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_status_due", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key", "address_digest"),
        Index("ix_outbox_message_address_digest", "address_digest"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind))
    #: normalised (trimmed, lower case), encrypted at rest
    to_address: Mapped[str] = mapped_column(EncryptedString)
    #: the address's keyed digest (``services.address_digest``): how messages are found by address
    address_digest: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10))
    #: the message as rendered, encrypted at rest (its links and receipt codes are nobody else's)
    subject: Mapped[str] = mapped_column(EncryptedText)
    text_body: Mapped[str] = mapped_column(EncryptedText)
    html_body: Mapped[str] = mapped_column(EncryptedText)
    #: set on non-essential notices; also sent as the List-Unsubscribe header
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    #: a caller's key that makes enqueueing the same notice twice a no-op (e.g. "round:12:closing")
    dedupe_key: Mapped[str | None] = mapped_column(String(100))

    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING)
    #: send attempts started (counted before each call to the mail service)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the worker that claimed (or last claimed) it, e.g. "host:pid"
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    #: changes on every claim, so a worker that lost its claim cannot overwrite the next one's result
    claim_token: Mapped[str | None] = mapped_column(String(32))
    #: the claim's lease: after this, another worker may take the message over
    claimed_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Unsubscribe(db.Model):
    """An address that asked for no more non-essential notices."""

    __tablename__ = "notify_unsubscribe"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: normalised (trimmed, lower case), encrypted at rest
    address: Mapped[str] = mapped_column(EncryptedString)
    #: the address's keyed digest (``services.address_digest``): how an address is looked up
    address_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
