"""The resident's session: who is signed in by a card, and for how long.

A session is bound on the server to its invitation's ``session_token``: "leave" replaces the token, so a
copy of the cookie stops working too (on every device where the card was used). A session ends
``RESIDENT_IDLE_MINUTES`` after its last request and ``RESIDENT_SESSION_HOURS`` after the code exchange.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from functools import cache
from functools import wraps
from typing import Any

from flask import current_app
from flask import g
from flask import redirect
from flask import session
from flask import url_for
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult.compounds.models import Compound
from consult.compounds.models import Owner
from consult.db import utcnow
from consult.extensions import db
from consult.i18n import fresh_session
from consult.residents.models import Invitation
from consult.residents.rules import session_valid

SESSION_KEY = "resident"
#: what every resident page reads of the card: its compound and its owner or occupant, in one query
EVERY_PAGE_NEEDS = (
    joinedload(Invitation.compound),
    joinedload(Invitation.owner),
    joinedload(Invitation.occupant),
)


#: a session's last request is written back to the cookie at most this often
SEEN_REFRESH = timedelta(minutes=1)


def start_resident_session(invitation: Invitation, now: datetime) -> None:
    """A fresh session for this resident: whatever the browser held before is dropped. The card's
    server-side token is made when it has none (the caller commits)."""
    fresh_session()
    if invitation.session_token is None:
        invitation.session_token = secrets.token_urlsafe(16)
    session[SESSION_KEY] = {
        "id": invitation.id,
        "since": now.isoformat(),
        "seen": now.isoformat(),
        "token": invitation.session_token,
    }
    session.permanent = True


def end_resident_session() -> None:
    session.pop(SESSION_KEY, None)


def leave_everywhere(invitation: Invitation) -> None:
    """End every session of this card on the server (the caller commits and ends the browser's)."""
    invitation.session_token = secrets.token_urlsafe(16)


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _still_valid(data: dict[str, object], active: bool, card_token: str | None, now: datetime) -> bool:
    config = current_app.config
    since, seen, token = _time(data.get("since")), _time(data.get("seen")), data.get("token")
    if not active or since is None or seen is None:
        return False
    if not isinstance(token, str) or card_token is None:
        return False
    if not hmac.compare_digest(token, card_token):
        return False
    idle = timedelta(minutes=config["RESIDENT_IDLE_MINUTES"])
    return session_valid(since, now, timedelta(hours=config["RESIDENT_SESSION_HOURS"])) and now - seen < idle


def _note_seen(data: dict[str, object], now: datetime) -> None:
    seen = _time(data.get("seen"))
    if seen is not None and now - seen >= SEEN_REFRESH:
        session[SESSION_KEY] = {**data, "seen": now.isoformat()}


def _session_data() -> dict[str, Any] | None:
    data = session.get(SESSION_KEY)
    return data if isinstance(data, dict) and isinstance(data.get("id"), int) else None


def current_invitation() -> Invitation | None:
    """The signed-in resident's invitation, while it is unrevoked, the session's token is the card's, and
    the session is within its idle and absolute limits."""
    if "resident_invitation" in g:
        return g.resident_invitation
    invitation = None
    data = _session_data()
    if data is not None:
        now = utcnow()
        found = db.session.get(Invitation, data["id"], options=EVERY_PAGE_NEEDS)
        if found is not None and _still_valid(data, found.is_active, found.session_token, now):
            invitation = found
            _note_seen(data, now)
    if invitation is None and session.get(SESSION_KEY) is not None:
        end_resident_session()
    g.resident_invitation = invitation
    return invitation


@dataclass(frozen=True)
class SignedInCard:
    """What a kept page needs to know of the signed-in card: who, and the versions of what it shows."""

    invitation_id: int
    session_token: str
    compound_version: int
    owner_version: int | None


@cache
def _card_query() -> Select[Any]:
    """The card's check and versions, built once (it runs on every kept page)."""
    return (
        select(
            Invitation.revoked_at, Invitation.session_token, Compound.content_version, Owner.content_version
        )
        .join(Compound, Invitation.compound_id == Compound.id)
        .outerjoin(Owner, Invitation.owner_id == Owner.id)
        .where(Invitation.id == bindparam("invitation_id"))
    )


def signed_in_card() -> SignedInCard | None:
    """``current_invitation``'s check in one light query (no model loaded): the card, when the session
    is valid, with the content versions of its compound and owner. Ends an invalid session."""
    data = _session_data()
    if data is None:
        return None
    now = utcnow()
    given = {"invitation_id": data["id"]}
    if db.engine.dialect.name == "postgresql":
        # one committed read needs no transaction: one round trip to the server instead of three
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(_card_query(), given).first()
    else:
        row = db.session.execute(_card_query(), given).first()
    if row is None or not _still_valid(data, row[0] is None, row[1], now):
        end_resident_session()
        return None
    _note_seen(data, now)
    return SignedInCard(data["id"], row[1], row[2], row[3])


def resident_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only for a resident signed in by a card; others go to the page where a code is typed."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_invitation() is None:
            return redirect(url_for("residents.enter_code"))
        return view(*args, **kwargs)

    return wrapped


def inject_resident() -> dict[str, Any]:
    """Templates show "Leave" on every page while a resident is signed in."""
    if SESSION_KEY not in session:
        return {"resident_signed_in": False}
    return {"resident_signed_in": current_invitation() is not None}
