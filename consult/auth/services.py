"""Staff accounts: creating them, checking passwords, loading the signed-in user."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from consult import signing
from consult.audit.services import record
from consult.auth.models import RecoveryCode
from consult.auth.models import Role
from consult.auth.models import StaffSession
from consult.auth.models import User
from consult.auth.models import new_session_token
from consult.auth.rules import MIN_PASSWORD_LENGTH
from consult.auth.rules import RECOVERY_CODES
from consult.auth.rules import PasswordProblem
from consult.auth.rules import accepted_step
from consult.auth.rules import device_of
from consult.auth.rules import new_recovery_code
from consult.auth.rules import password_problem
from consult.auth.rules import recovery_digest
from consult.compounds.models import Street
from consult.db import utcnow
from consult.errors import ConsultError
from consult.extensions import db
from consult.residents.services import code_key

_hasher = PasswordHasher()
#: verified against when the e-mail is unknown, so a wrong address costs as long as a wrong password
_DUMMY_HASH = _hasher.hash("not a password")


class AccountError(ConsultError):
    pass


class WeakPassword(AccountError):
    """The password is too short, common, made of the account's own e-mail or name, or easy to guess."""


def staff_name(actor: str) -> str | None:
    """The name of the staff member an audit actor ("user:12") stands for; None for anyone else."""
    kind, _sep, ident = actor.partition(":")
    if kind != "user" or not ident.isdigit():
        return None
    user = db.session.get(User, int(ident))
    return user.name if user is not None else None


def check_password(password: str, email: str, name: str) -> None:
    problem = password_problem(password, email, name)
    if problem == PasswordProblem.TOO_SHORT:
        raise WeakPassword(_l("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if problem == PasswordProblem.COMMON:
        raise WeakPassword(_l("This password is one of the most common ones. Choose another."))
    if problem == PasswordProblem.PERSONAL:
        raise WeakPassword(_l("The password may not contain the e-mail address or the name of the account."))
    if problem == PasswordProblem.GUESSABLE:
        raise WeakPassword(
            _l(
                "This password is easy to guess (a keyboard row, a sequence, a date or a common word). A few "
                "unrelated words make a good one."
            )
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def load_user(session_id: str, key: object) -> User | None:
    """Flask-Login loader: the id is ``"<user id>.<session token>"`` and ``key`` the session cookie's
    staff session; a changed token, or an ended staff session, signs the session out."""
    user_id, _sep, token = session_id.partition(".")
    if not user_id.isdigit() or not token or not isinstance(key, str):
        return None
    query = (
        select(User)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(User.id == int(user_id), StaffSession.key == key, StaffSession.ended_at.is_(None))
    )
    user = db.session.scalars(query).first()
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    if not password_matches(user, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def first_password_expired(user: User, now: datetime) -> bool:
    """Whether the account still has the first password an administrator gave, and has had it longer
    than ``FIRST_PASSWORD_DAYS``: it no longer signs in (its owner asks for a new-password link)."""
    days = timedelta(days=current_app.config["FIRST_PASSWORD_DAYS"])
    return user.password_change_due and now - user.created_at > days


def end_sessions(user: User) -> None:
    """Sign this user out everywhere: every session bound to the old token stops working."""
    user.session_token = new_session_token()
    _end_staff_sessions(utcnow(), StaffSession.user_id == user.id)


def _end_staff_sessions(now: datetime, *which: Any) -> int:
    """End the open staff sessions that match ``which``; returns how many."""
    ended = db.session.execute(
        update(StaffSession)
        .where(*which, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount


# --- staff sessions, each listed to its owner

#: how long an ended session's row is kept (it is never shown again) before a sign-in forgets it
ENDED_SESSIONS_KEPT = timedelta(days=30)


def open_staff_session(user: User, user_agent: str, now: datetime) -> str:
    """A new session of ``user`` on the device ``user_agent`` names; returns its key for the cookie.
    The account's sessions ended long ago are forgotten."""
    db.session.execute(
        delete(StaffSession).where(
            StaffSession.user_id == user.id, StaffSession.ended_at < now - ENDED_SESSIONS_KEPT
        )
    )
    key = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(user_id=user.id, key=key, device=device_of(user_agent), started_at=now, seen_at=now)
    )
    return key


def staff_sessions(user: User) -> list[StaffSession]:
    """The account's sessions still open, the one used last first."""
    query = (
        select(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .order_by(StaffSession.seen_at.desc(), StaffSession.id.desc())
    )
    return list(db.session.scalars(query))


def session_seen(key: str, now: datetime) -> None:
    """The session of ``key`` was used now (the caller does this at most once a minute)."""
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.key == key)
        .values(seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end_staff_session(user: User, session_id: int, this_key: str, actor: str, now: datetime) -> bool:
    """End one open session of ``user`` (their own phone, left signed in somewhere) other than this one
    (``this_key``, which ends by signing out); False when it is no such session."""
    which = (StaffSession.id == session_id, StaffSession.user_id == user.id, StaffSession.key != this_key)
    if _end_staff_sessions(now, *which) != 1:
        return False
    record(actor, "user.session_ended", user_id=user.id, session=session_id)
    return True


def end_other_sessions(user: User, key: str, now: datetime) -> int:
    """End every open session of ``user`` but this one (``key``); returns how many ended."""
    count = _end_staff_sessions(now, StaffSession.user_id == user.id, StaffSession.key != key)
    record(f"user:{user.id}", "user.other_sessions_ended", user_id=user.id, sessions=count)
    return count


def sign_out(user: User, key: object) -> None:
    """Sign out of this session only; the account's other sessions go on."""
    if isinstance(key, str):
        _end_staff_sessions(utcnow(), StaffSession.key == key, StaffSession.user_id == user.id)
    record(f"user:{user.id}", "user.logout")


def create_user(
    email: str,
    name: str,
    password: str,
    role: Role,
    street: Street | None = None,
    actor: str = "cli",
    *,
    change_due: bool = False,
) -> User:
    """A new staff account. A community worker must belong to a street; others must not. ``change_due``:
    the password is one an administrator gave, which its owner must change at their first sign-in."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("an e-mail address is needed")
    check_password(password, email, name)
    if role is Role.WORKER and street is None:
        raise AccountError("a community worker belongs to a street")
    if role is not Role.WORKER and street is not None:
        raise AccountError("only community workers belong to a street")
    if db.session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        street=street,
        password_change_due=change_due,
    )
    db.session.add(user)
    db.session.flush()
    record(
        actor,
        "user.created",
        user_id=user.id,
        email=email,
        role=role.value,
        street=street.name if street else None,
    )
    return user


def change_password(user: User, current: str, new: str, actor: str) -> None:
    """A new password; every other session of this user ends (the caller signs the user in again)."""
    if not password_matches(user, current):
        raise AccountError(_l("The current password is wrong."))
    check_password(new, user.email, user.name)
    user.password_hash = hash_password(new)
    user.password_change_due = False
    end_sessions(user)
    record(actor, "user.password_changed", user_id=user.id)


# --- a forgotten password: a link by e-mail that sets a new one

RESET_SALT = "consult.auth.reset"


def _reset_serializer() -> URLSafeTimedSerializer:
    return signing.serializer(current_app.config["SECRET_KEY"], RESET_SALT)


def _reset_stamp(user: User) -> str:
    """What a new-password link is bound to: the password and the sessions as they are now. A new
    password (by this link or any other way), a sign-out everywhere, a role change or disabling the
    account changes it, so a link works once and no longer after any of those."""
    return hashlib.sha256(f"{user.password_hash}\n{user.session_token}".encode()).hexdigest()[:32]


def reset_token(user: User) -> str:
    return _reset_serializer().dumps([user.id, _reset_stamp(user)])


def user_for_reset(token: str) -> User | None:
    """The active account a new-password link was sent to, while it still works; else None."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["RESET_LINK_MINUTES"] * 60)
    except BadSignature:  # forged, altered or expired (SignatureExpired is a BadSignature)
        return None
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        return None
    user = db.session.get(User, data[0])
    if user is None or not user.active or _reset_stamp(user) != data[1]:
        return None
    return user


def send_reset_link(user: User, actor: str, now: datetime) -> bool:
    """Queue an e-mail with a link that sets a new password (to an active account); flushes. False when
    the account is disabled or has no usable address."""
    from consult.notify.emails import site_path
    from consult.notify.services import enqueue_to

    if not user.active:
        return False
    path = site_path("auth.reset", token=reset_token(user))
    context = {"path": path, "minutes": current_app.config["RESET_LINK_MINUTES"]}
    if enqueue_to(user, "password_reset", context, now=now) is None:
        return False
    record(actor, "user.reset_link_sent", user_id=user.id)
    return True


def request_reset(email: str, now: datetime) -> None:
    """Someone asked for a new-password link for this address: it goes to the account's own address, if
    an active account has it. Nothing says whether one does, and the request takes about as long either
    way: without such an account the same e-mail is made and an audit entry written, but nothing is
    queued (``bench/reset_timing.py``)."""
    address = email.strip().lower()
    user = db.session.scalars(select(User).where(User.email == address)).first()
    if user is not None and send_reset_link(user, "anonymous", now):
        return
    _as_if_sent(address, now)


def _as_if_sent(address: str, now: datetime) -> None:
    from consult.notify.emails import site_path
    from consult.notify.services import InvalidAddress
    from consult.notify.services import prepare

    token = _reset_serializer().dumps([0, hashlib.sha256(address.encode()).hexdigest()])
    context = {
        "path": site_path("auth.reset", token=token),
        "minutes": current_app.config["RESET_LINK_MINUTES"],
    }
    with contextlib.suppress(InvalidAddress):
        prepare("password_reset", address, None, context, now=now)  # made as for an account, never queued
    record("anonymous", "user.reset_requested", email=address[:200])


def reset_password(user: User, new: str) -> None:
    """The new password from a link; every session of the account ends (and with it the link)."""
    check_password(new, user.email, user.name)
    user.password_hash = hash_password(new)
    user.password_change_due = False
    end_sessions(user)
    record(f"user:{user.id}", "user.password_reset", user_id=user.id)


# --- two-step sign-in (an authenticator app's code after the password)


class WrongCode(AccountError):
    """The code is not the app's code for now, or it has been used already."""


def _take_code(user: User, secret: str, code: str, now: float) -> None:
    step = accepted_step(secret, code, now, user.totp_last_step)
    if step is None:
        raise WrongCode(_l("That code is not right, or it has been used. Type the code your app shows now."))
    user.totp_last_step = step


def turn_on_two_step(user: User, secret: str, code: str, now: float) -> list[str]:
    """Two-step sign-in from now on, once the app shows the code of ``secret``; every other session of
    the account ends (they were opened with the password alone). Returns the person's recovery codes,
    to be shown this once."""
    user.totp_last_step = None
    _take_code(user, secret, code, now)
    user.totp_secret = secret
    end_sessions(user)
    record(f"user:{user.id}", "user.two_step_on", user_id=user.id)
    return _new_recovery_codes(user)


def turn_off_two_step(user: User, code: str, now: float) -> None:
    """The password alone again, confirmed by a code of the app."""
    if user.totp_secret is None:
        raise AccountError(_l("Two-step sign-in is not on."))
    _take_code(user, user.totp_secret, code, now)
    _two_step_gone(user)
    record(f"user:{user.id}", "user.two_step_off", user_id=user.id)


def second_step(user: User, code: str, now: float) -> int | None:
    """The code that completes a sign-in: the app's code, or one of the person's recovery codes, which is
    then spent. Returns how many recovery codes are left when one was used (else None). A wrong code is
    audited (the caller commits either way)."""
    secret = user.totp_secret
    assert secret is not None
    digest = recovery_digest(code_key(), code)
    try:
        if digest is None:
            _take_code(user, secret, code, now)
            return None
        return _spend_recovery_code(user, digest)
    except WrongCode:
        record("anonymous", "user.two_step_failed", user_id=user.id)
        raise


def renew_recovery_codes(user: User, code: str, now: float) -> list[str]:
    """New recovery codes for old ones (used up, or perhaps seen), confirmed by a code of the app; the
    old ones stop working."""
    if user.totp_secret is None:
        raise AccountError(_l("Two-step sign-in is not on."))
    _take_code(user, user.totp_secret, code, now)
    record(f"user:{user.id}", "user.recovery_codes_renewed", user_id=user.id)
    return _new_recovery_codes(user)


def recovery_codes_left(user: User) -> int:
    query = select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return db.session.scalar(query) or 0


def _new_recovery_codes(user: User) -> list[str]:
    _drop_recovery_codes(user)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODES:  # distinct (a repeat is all but impossible, but is not kept)
        code = new_recovery_code()
        if code not in codes:
            codes.append(code)
    key = code_key()
    db.session.add_all(RecoveryCode(user_id=user.id, digest=recovery_digest(key, code)) for code in codes)
    return codes


def _spend_recovery_code(user: User, digest: str) -> int:
    """Spend the unused recovery code of this digest and return how many are left. One conditional update
    does it, so a code works once even when two sign-ins race with it."""
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.digest == digest, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise WrongCode(_l("That recovery code is not right, or it has been used."))
    left = recovery_codes_left(user)
    record(f"user:{user.id}", "user.recovery_code_used", user_id=user.id, left=left)
    return left


def _drop_recovery_codes(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _two_step_gone(user: User) -> None:
    user.totp_secret = user.totp_last_step = None
    _drop_recovery_codes(user)


def reset_two_step(user: User, actor: str) -> None:
    """An administrator turns a person's two-step sign-in off (a lost phone and no recovery code left);
    their sessions end. They sign in with the password and may turn it on again with a new app."""
    _two_step_gone(user)
    end_sessions(user)
    record(actor, "user.two_step_reset", user_id=user.id)


def set_active(user: User, active: bool, actor: str) -> None:
    """Disable (or enable again) an account; a disabled user's sessions end at once."""
    user.active = active
    end_sessions(user)
    record(actor, "user.enabled" if active else "user.disabled", user_id=user.id)


def sign_out_everywhere(user: User, actor: str) -> None:
    end_sessions(user)
    record(actor, "user.signed_out_everywhere", user_id=user.id)


def sign_out_everyone(actor: str) -> int:
    """End every session of every staff account (e.g. after a suspected leak); returns how many accounts."""
    users = db.session.scalars(select(User)).all()
    for user in users:
        end_sessions(user)
    db.session.flush()
    record(actor, "user.signed_out_everyone", accounts=len(users))
    return len(users)


def set_role(user: User, role: Role, street: Street | None, actor: str) -> None:
    """A new role (and street for a worker); the user's sessions end so that no page keeps old rights."""
    if role is Role.WORKER and street is None:
        raise AccountError(_l("A community worker belongs to a street."))
    if role is not Role.WORKER:
        street = None
    user.role, user.street = role, street
    end_sessions(user)
    record(
        actor, "user.role_changed", user_id=user.id, role=role.value, street=street.name if street else None
    )
