"""The resident's session: who is signed in by a card, and for how long."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import current_app
from flask import g
from flask import redirect
from flask import session
from flask import url_for
from sqlalchemy.orm import joinedload

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


def start_resident_session(invitation: Invitation, now: datetime) -> None:
    """A fresh session for this resident: whatever the browser held before is dropped."""
    fresh_session()
    session[SESSION_KEY] = {"id": invitation.id, "since": now.isoformat()}
    session.permanent = True


def end_resident_session() -> None:
    session.pop(SESSION_KEY, None)


def current_invitation() -> Invitation | None:
    """The signed-in resident's invitation, while it is valid, unrevoked and within the session's lifetime."""
    if "resident_invitation" in g:
        return g.resident_invitation
    invitation = None
    data = session.get(SESSION_KEY)
    if isinstance(data, dict) and isinstance(data.get("id"), int):
        lifetime = timedelta(hours=current_app.config["RESIDENT_SESSION_HOURS"])
        try:
            since = datetime.fromisoformat(data["since"])
        except (TypeError, ValueError):
            since = None
        if since is not None and session_valid(since, utcnow(), lifetime):
            found = db.session.get(Invitation, data["id"], options=EVERY_PAGE_NEEDS)
            if found is not None and found.is_active:
                invitation = found
    if invitation is None and data is not None:
        end_resident_session()
    g.resident_invitation = invitation
    return invitation


def resident_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only for a resident signed in by a card; others go to the page where a code is typed."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_invitation() is None:
            return redirect(url_for("residents.enter_code"))
        return view(*args, **kwargs)

    return wrapped
