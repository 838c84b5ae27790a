"""Staff sessions listed to their owner (V7.5.2): each browser signed in is a row; its owner ends any of
the others, or all of them, from the sessions page; signing out ends only the session signed out of."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.auth.models import StaffSession
from consult.auth.rules import device_of
from consult.auth.services import ENDED_SESSIONS_KEPT
from consult.auth.services import open_staff_session
from consult.db import utcnow
from consult.extensions import db
from tests.conftest import PASSWORD

PHONE = (
    "Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
    "Mobile Safari/537.36"
)
WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.42"
)
DESK = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36 Edg/120.0"
)


def test_a_device_is_named_by_its_browser_and_system():
    assert device_of(PHONE) == "Chrome, Android"
    assert device_of(WECHAT) == "WeChat, iOS"
    assert device_of(DESK) == "Edge, Windows"
    assert device_of("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Version/17.1 Safari/605.1.15") == (
        "Safari, macOS"
    )
    assert device_of("curl/8.4.0") == ""


def signed_in(app, worker, user_agent):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert client.post("/auth/login", data={"email": worker.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_sessions_page_lists_each_browser_and_ends_another(app, worker):
    phone, desk = signed_in(app, worker, PHONE), signed_in(app, worker, DESK)
    page = desk.get("/auth/sessions").get_data(as_text=True)
    assert "Chrome, Android" in page
    assert "Edge, Windows" in page
    assert page.count('/end"') == 1  # a button for the other session only, not for this one
    rows = db.session.scalars(select(StaffSession).order_by(StaffSession.id)).all()
    assert [row.device for row in rows] == ["Chrome, Android", "Edge, Windows"]

    assert desk.post(f"/auth/sessions/{rows[1].id}/end").status_code == 404  # this one: sign out instead
    assert desk.get("/compounds/").status_code == 200
    assert desk.post(f"/auth/sessions/{rows[0].id}/end").status_code == 302
    assert phone.get("/compounds/").headers["Location"].startswith("/auth/login")
    assert desk.get("/compounds/").status_code == 200
    assert "Chrome, Android" not in desk.get("/auth/sessions").get_data(as_text=True)
    ended = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.session_ended")).one()
    assert ended.actor == f"user:{worker.id}"
    assert desk.post(f"/auth/sessions/{rows[0].id}/end").status_code == 404  # ended already


def test_nobody_ends_a_session_of_another_account(app, worker, create_user):
    admin = create_user("admin@example.test", Role.ADMIN)
    theirs = signed_in(app, worker, PHONE)
    mine = signed_in(app, admin, DESK)
    row = db.session.scalars(select(StaffSession).where(StaffSession.user_id == worker.id)).one()
    assert mine.post(f"/auth/sessions/{row.id}/end").status_code == 404
    assert theirs.get("/compounds/").status_code == 200


def test_ending_all_the_others_keeps_this_one(app, worker):
    others = [signed_in(app, worker, PHONE), signed_in(app, worker, WECHAT)]
    desk = signed_in(app, worker, DESK)
    assert desk.post("/auth/sessions/end-others").status_code == 302
    assert all(other.get("/compounds/").status_code == 302 for other in others)
    assert desk.get("/compounds/").status_code == 200
    open_rows = db.session.scalars(select(StaffSession.device).where(StaffSession.ended_at.is_(None)))
    assert list(open_rows) == ["Edge, Windows"]


def test_a_password_change_ends_every_other_row_and_opens_a_new_one(app, worker):
    phone, desk = signed_in(app, worker, PHONE), signed_in(app, worker, DESK)
    new = "a password of my own"
    desk.post("/auth/password", data={"current": PASSWORD, "new": new, "again": new})
    assert phone.get("/compounds/").status_code == 302
    assert desk.get("/compounds/").status_code == 200
    open_rows = db.session.scalars(select(StaffSession).where(StaffSession.ended_at.is_(None))).all()
    assert [row.device for row in open_rows] == ["Edge, Windows"]
    assert db.session.scalar(select(db.func.count()).select_from(StaffSession)) == 3  # 2 ended, 1 new


def test_sessions_ended_long_ago_are_forgotten_at_the_next_sign_in(app, worker):
    now = utcnow()
    old = open_staff_session(worker, PHONE, now - ENDED_SESSIONS_KEPT - timedelta(days=2))
    recent = open_staff_session(worker, DESK, now - timedelta(days=3))
    for key, ended in (
        (old, now - ENDED_SESSIONS_KEPT - timedelta(days=1)),
        (recent, now - timedelta(days=2)),
    ):
        db.session.scalars(select(StaffSession).where(StaffSession.key == key)).one().ended_at = ended
    db.session.commit()
    signed_in(app, worker, WECHAT)
    kept = db.session.scalars(select(StaffSession.key).order_by(StaffSession.id)).all()
    assert kept[0] == recent
    assert len(kept) == 2


def test_last_used_moves_at_most_once_a_minute(app, client, auth, worker, monkeypatch):
    auth.login(worker)
    row = db.session.scalars(select(StaffSession)).one()
    first = row.seen_at
    assert client.get("/compounds/").status_code == 200
    db.session.refresh(row)
    assert row.seen_at == first  # within the minute: no write
    with client.session_transaction() as session:
        session["staff_seen"] -= 5 * 60
    assert client.get("/compounds/").status_code == 200
    db.session.refresh(row)
    assert row.seen_at > first


@pytest.mark.parametrize("cookie", ["without a session key", "with a key of no session"])
def test_a_cookie_without_an_open_session_row_is_signed_out(app, client, auth, worker, cookie):
    auth.login(worker)
    with client.session_transaction() as session:
        if cookie == "without a session key":
            del session["staff_session"]
        else:
            session["staff_session"] = "not-a-key"
    assert client.get("/compounds/").status_code == 302
