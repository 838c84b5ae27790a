"""Staff accounts: community workers, experts, district reviewers and admins."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import column_property
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.compounds.models import Street
from consult.compounds.models import str_enum
from consult.crypto import EncryptedString
from consult.db import utcnow
from consult.extensions import db


class Role(enum.StrEnum):
    WORKER = "worker"  # 社区工作者: runs the rounds of their street's compounds
    EXPERT = "expert"  # 专家: scores schemes on assigned panels
    REVIEWER = "reviewer"  # 区更新局: sees every compound, decides on records
    ADMIN = "admin"  # users and settings


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    """A staff account. Residents have no account: they come in by a personal code."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    #: the password was given by an administrator: its owner chooses their own before any other page
    password_change_due: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    #: changes on logout and password change, which ends every session of this user at once
    session_token: Mapped[str] = mapped_column(String(40), default=new_session_token)
    #: two-step sign-in: the secret shared with the person's authenticator app (None: password alone),
    #: read (and decrypted) only when a code is checked, and the last time step whose code was accepted
    #: (a code works once)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString, deferred=True)
    totp_last_step: Mapped[int | None]
    #: whether two-step sign-in is on, without reading the secret (as loaded: a change shows after commit)
    two_step_on: Mapped[bool] = column_property(totp_secret.is_not(None))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    street: Mapped[Street | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: a session is bound to the current token
        return f"{self.id}.{self.session_token}"


class RecoveryCode(db.Model):
    """A one-time recovery code (恢复码) of a person with two-step sign-in: typed in place of the app's
    code when the phone is lost. Only its keyed digest is kept (``auth.rules.recovery_digest``);
    ``used_at`` is set when it is spent."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "digest"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class StaffSession(db.Model):
    """One signed-in session of a staff account (a browser on a device): listed to its owner, who may end
    it from elsewhere. The session cookie holds ``key``; a session whose row is ended, or missing, is
    signed out. Only the browser and system are kept of the device, not its address."""

    __tablename__ = "staff_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(43), unique=True)
    device: Mapped[str] = mapped_column(String(60), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
