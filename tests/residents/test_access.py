"""Residents come in by a card: QR link or short code; revoked codes, limits, privacy, public pages."""

from __future__ import annotations

import logging
import os
import random
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.extensions import db
from consult.logs import RedactSecrets
from consult.residents.models import Invitation
from consult.residents.models import PrivacyAcknowledgement
from consult.residents.models import RevokeReason
from consult.residents.rules import CODE_ALPHABET
from consult.residents.rules import format_code
from consult.residents.rules import new_short_code
from consult.residents.rules import new_token
from consult.residents.rules import read_code
from consult.residents.rules import session_valid
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.residents.services import revoke
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows

ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份,业主编号\n"
    "1,1,101,80.50,张伟,13812341234,业主,A1\n"
    "1,1,102,66.00,张伟,13812341234,业主,A1\n"
    "1,1,102,,王芳,13900001111,租户,\n"
    "2,1,201,90.25,李娜,,业主,\n"
)


@pytest.fixture
def people(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return card_people(compound)


@pytest.fixture
def cards(compound, people):
    issued = issue_cards(people, compound, "test", datetime.now(UTC))
    db.session.commit()
    return {(c.person.name, c.person.occupant is not None): c for c in issued}


def test_tokens_and_codes_are_long_and_unambiguous():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", t) for t in tokens)  # 16 random bytes = 128 bits
    codes = {new_short_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1IL") & set(CODE_ALPHABET)


def test_typed_codes_are_read_leniently():
    assert read_code("k7mp9-qxr2t") == "K7MP9QXR2T"
    assert read_code(" Ｋ７ＭＰ９ ＱＸＲ２Ｔ ") == "K7MP9QXR2T"  # full-width, spaces
    assert format_code("K7MP9QXR2T") == "K7MP9-QXR2T"
    assert read_code("K7MP9-QXR2") is None  # too short
    assert read_code("K7MP9-QXR20") is None  # 0 is not in the alphabet


def test_cards_go_to_each_owner_once_and_each_occupant(people):
    assert [(p.name, p.occupant is not None, len(p.dwellings)) for p in people] == [
        ("张伟", False, 2),
        ("王芳", True, 1),
        ("李娜", False, 1),
    ]
    assert people[0].place("zh_CN") == "1栋1单元101室 等2户"
    assert people[2].place("en") == "Bldg 2, Unit 1, Room 201"


def test_the_database_holds_no_plain_code(cards):
    secrets = [s for c in cards.values() for s in (c.token, c.code, c.printed_code)]
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            dumped = " ".join(str(v) for v in row)
            assert not any(s in dumped for s in secrets), table.name
    assert db.session.scalar(select(db.func.count(Invitation.id))) == 3


def test_qr_link_opens_the_owners_home_and_leaves_the_address_bar(client, cards):
    card = cards[("张伟", False)]
    response = client.get(f"/r/{card.token}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    home = client.get("/me")
    page = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "浣花小区" in page
    assert "101" in page
    assert "102" in page
    assert "张*" in page
    assert "张伟" not in page
    assert home.headers["Cache-Control"] == "no-store"
    assert home.headers["Referrer-Policy"] == "no-referrer"


def test_short_code_works_typed_loosely(client, cards):
    card = cards[("李娜", False)]
    typed = card.printed_code.lower().replace("-", " ")
    response = client.post("/code", data={"code": typed})
    assert response.status_code == 302
    assert "201" in client.get("/me").get_data(as_text=True)


def test_wrong_code_is_refused_plainly(client, cards):
    response = client.post("/code", data={"code": "ABCDE-FGHJK"})
    assert response.status_code == 404
    assert "Check it against your card" in response.get_data(as_text=True) or "核对" in response.get_data(
        as_text=True
    )
    assert client.get("/me").status_code == 302


def test_revoked_and_reprinted_codes_get_the_clear_page(client, compound, people, cards):
    lost = cards[("李娜", False)]
    invitation = db.session.get(Invitation, lost.invitation.id)
    revoke(invitation, RevokeReason.LOST, "test", datetime.now(UTC))
    db.session.commit()
    response = client.get(f"/r/{lost.token}")
    assert response.status_code == 410
    assert compound.street.name in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302

    old = cards[("张伟", False)]
    reissued = issue_cards([people[0]], compound, "test", datetime.now(UTC))[0]
    db.session.commit()
    assert client.post("/code", data={"code": old.code}).status_code == 410
    assert client.get(f"/r/{reissued.token}").status_code == 302


def test_a_revoked_code_ends_a_session_already_open(client, cards):
    card = cards[("张伟", False)]
    client.get(f"/r/{card.token}")
    assert client.get("/me").status_code == 200
    revoke(db.session.get(Invitation, card.invitation.id), RevokeReason.LOST, "test", datetime.now(UTC))
    db.session.commit()
    assert client.get("/me").status_code == 302


def test_occupant_code_is_not_a_voting_code(client, cards):
    card = cards[("王芳", True)]
    assert not db.session.get(Invitation, card.invitation.id).may_vote
    assert db.session.get(Invitation, cards[("张伟", False)].invitation.id).may_vote
    client.get(f"/r/{card.token}")
    client.post("/lang/en", data={"next": "/me"})
    assert "Only owners vote" in client.get("/me").get_data(as_text=True)


def test_resident_session_has_an_absolute_lifetime(client, cards):
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert session_valid(now, now + timedelta(hours=11), timedelta(hours=12))
    assert not session_valid(now, now + timedelta(hours=12), timedelta(hours=12))
    client.get(f"/r/{cards[('张伟', False)].token}")
    with client.session_transaction() as session:
        session["resident"] = {
            **session["resident"],
            "since": (datetime.now(UTC) - timedelta(hours=13)).isoformat(),
        }
    assert client.get("/me").status_code == 302


def test_privacy_notice_is_acknowledged_once(client, cards):
    client.get(f"/r/{cards[('张伟', False)].token}")
    client.post("/lang/en", data={"next": "/me"})
    first = client.get("/me").get_data(as_text=True)
    assert "how we use your information" in first
    assert "Open for you now" not in first
    client.post("/me/privacy")
    client.post("/me/privacy")
    after = client.get("/me").get_data(as_text=True)
    assert "how we use your information" not in after
    assert "Open for you now" in after
    assert db.session.scalar(select(db.func.count(PrivacyAcknowledgement.id))) == 1
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("privacy.acknowledged") == 1


@pytest.mark.options(RETENTION_DAYS=730)
def test_the_privacy_notice_states_the_retention_period_and_a_new_notice_is_read_again(client, cards):
    client.get(f"/r/{cards[('张伟', False)].token}")
    client.post("/lang/en", data={"next": "/me"})
    assert "How long: 2 years after the consultation" in client.get("/me").get_data(as_text=True)
    client.post("/me/privacy")
    ack = db.session.scalars(select(PrivacyAcknowledgement)).one()
    ack.notice_version = "2026-11"  # read before the notice said how long data is kept
    db.session.commit()
    assert "how we use your information" in client.get("/me").get_data(as_text=True)


@pytest.mark.options(RESIDENT_CODE_LIMIT="3 per minute")
def test_guessing_codes_is_cut_off_per_client(client, cards):
    good = cards[("张伟", False)].code
    for _attempt in range(3):
        assert client.post("/code", data={"code": "ABCDE-FGHJK"}).status_code == 404
    assert client.post("/code", data={"code": good}).status_code == 429
    assert client.get("/r/" + "x" * 22).status_code == 429  # the link and the form share the count
    other = client.post("/code", data={"code": good}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 302  # another client is not blocked


@pytest.mark.options(RESIDENT_CODE_LIMIT="100 per minute", RESIDENT_COMPOUND_LIMIT="2 per hour")
def test_guessing_codes_is_cut_off_per_compound(client, compound, cards):
    url = f"/p/{compound.id}/code"
    for n in range(2):
        wrong = client.post(url, data={"code": "ABCDE-FGHJK"}, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert wrong.status_code == 404
    blocked = client.post(
        url, data={"code": cards[("张伟", False)].code}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert blocked.status_code == 429
    assert client.post("/code", data={"code": cards[("张伟", False)].code}).status_code == 302


def test_compound_code_page_takes_only_that_compounds_codes(client, create_compound, cards):
    other = create_compound("芳邻路2号小区")
    assert client.post(f"/p/{other.id}/code", data={"code": cards[("张伟", False)].code}).status_code == 404


def test_public_page_shows_no_name_or_phone(client, compound, cards):
    page = client.get(f"/p/{compound.id}").get_data(as_text=True)
    assert "浣花小区" in page
    for secret in ("张伟", "王芳", "李娜", "13812341234", "1381", "13900001111"):
        assert secret not in page
    assert "236.75" in page  # total floor area, an aggregate


def test_tokens_never_reach_the_request_log(cards):
    token = cards[("张伟", False)].token
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - [%s] "%s" %s %s',
        ("127.0.0.1", "27/Nov/2026", f"GET /r/{token} HTTP/1.1", "302", "-"),
        None,
    )
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert token not in line
    assert "/r/[redacted]" in line
    assert any(isinstance(f, RedactSecrets) for f in logging.getLogger("werkzeug").filters)


def decode_pdf(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    urls = []
    for page in document:
        urls += [r.text for r in zxingcpp.read_barcodes(page.render(scale=2).to_pil())]
    return urls


def card_form(client, compound, **fields):
    """The card form as its page gives it (with the moment the page was made), filled in."""
    page = client.get(f"/compounds/{compound.id}/cards").get_data(as_text=True)
    [shown_at] = re.findall(r'name="shown_at" type="hidden" value="([^"]+)"', page)
    return {"building": "", "unit": "", "output": "pdf", "confirm": "y", "shown_at": shown_at, **fields}


def test_printed_card_qr_opens_that_owners_home(client, auth, worker, compound, people):
    auth.login(worker)
    response = client.post(f"/compounds/{compound.id}/cards", data=card_form(client, compound))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    urls = decode_pdf(response.data)
    assert len(urls) == 3
    auth.logout()
    by_room = {}
    for url in urls:
        path = url.removeprefix("http://127.0.0.1:5000")
        assert path.startswith("/r/")
        assert client.get(path).status_code == 302
        by_room[url] = client.get("/me").get_data(as_text=True)
        client.post("/me/leave")
    assert sum("201" in page for page in by_room.values()) == 1
    assert sum("101" in page and "102" in page for page in by_room.values()) == 1


def test_reprinting_a_building_revokes_only_its_cards(client, auth, worker, compound, cards):
    auth.login(worker)
    response = client.post(
        f"/compounds/{compound.id}/cards", data=card_form(client, compound, building="2", output="html")
    )
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    auth.logout()
    assert client.get(f"/r/{cards[('李娜', False)].token}").status_code == 410
    assert client.get(f"/r/{cards[('张伟', False)].token}").status_code == 302


def test_the_printed_sheet_reloaded_prints_nothing_again(client, auth, worker, compound, people):
    """A reload sends the same form again: the cards just printed keep working, and the page says so."""
    auth.login(worker)
    form = card_form(client, compound, output="html")
    first = client.post(f"/compounds/{compound.id}/cards", data=form)
    assert first.mimetype == "text/html"
    issued = db.session.scalar(select(db.func.count(Invitation.id)))
    again = client.post(f"/compounds/{compound.id}/cards", data=form)
    assert again.status_code == 200
    assert "本页不会再打印一次" in again.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Invitation.id))) == issued
    assert (
        db.session.scalar(select(db.func.count(Invitation.id)).where(Invitation.revoked_at.is_not(None))) == 0
    )
    # the page shown again carries a new moment: ticked again, it prints new cards
    new = client.post(f"/compounds/{compound.id}/cards", data=card_form(client, compound, output="html"))
    assert new.mimetype == "text/html"
    assert db.session.scalar(select(db.func.count(Invitation.id))) == 2 * issued


def test_a_unit_where_nobody_lives_is_named_as_the_problem(client, auth, worker, compound, people):
    auth.login(worker)
    response = client.post(
        f"/compounds/{compound.id}/cards", data=card_form(client, compound, building="1", unit="9")
    )
    assert response.status_code == 200
    assert "这栋楼的这个单元还没有登记的住户。" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Invitation.id))) == 0


def test_worker_revokes_a_lost_card_and_prints_one_new(client, auth, worker, compound, cards):
    card = cards[("李娜", False)]
    auth.login(worker)
    response = client.post(f"/compounds/{compound.id}/invitations/{card.invitation.id}/revoke")
    assert response.status_code == 302
    new = client.post(f"/compounds/{compound.id}/cards/one", data={"owner_id": card.person.owner.id})
    assert new.mimetype == "application/pdf"
    [url] = decode_pdf(new.data)
    auth.logout()
    assert client.get(f"/r/{card.token}").status_code == 410
    assert client.get(url.removeprefix("http://127.0.0.1:5000")).status_code == 302


def test_a_worker_of_another_street_cannot_print(client, auth, create_user, other_street, compound, people):
    outsider = create_user("w2@example.test", Role.WORKER, other_street)
    auth.login(outsider)
    assert client.get(f"/compounds/{compound.id}/cards").status_code == 404
    assert client.post(f"/compounds/{compound.id}/cards/one", data={"owner_id": 1}).status_code == 404
    auth.logout()


def test_a_card_form_without_its_moment_prints_nothing(client, auth, worker, compound, people):
    auth.login(worker)
    form = {k: v for k, v in card_form(client, compound).items() if k != "shown_at"}
    response = client.post(f"/compounds/{compound.id}/cards", data=form)
    assert response.mimetype == "text/html"
    assert "这张表已经过时" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Invitation.id))) == 0


def test_printing_without_confirmation_issues_nothing(client, auth, worker, compound, people):
    auth.login(worker)
    response = client.post(f"/compounds/{compound.id}/cards", data={"building": "", "output": "pdf"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert db.session.scalar(select(db.func.count(Invitation.id))) == 0


def test_poster_qr_opens_the_public_page(client, compound):
    response = client.get(f"/p/{compound.id}/poster.pdf")
    assert response.mimetype == "application/pdf"
    assert decode_pdf(response.data) == [f"http://127.0.0.1:5000/p/{compound.id}"]
    assert client.get(f"/p/{compound.id}/poster").status_code == 200
    assert client.get("/p/99999").status_code == 404


def test_an_invitation_belongs_to_exactly_one_person(compound, people):
    nobody = text(
        "INSERT INTO invitation (compound_id, token_hash, code_hash, issued_at, issued_by)"
        " VALUES (:c, 'a', 'b', CURRENT_TIMESTAMP, 'x')"
    )
    with pytest.raises(IntegrityError):
        db.session.execute(nobody, {"c": compound.id})
    db.session.rollback()


REDIS_URL = os.environ.get("REDIS_URL")


@pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true",
    reason="REDIS_URL is not set: the Redis storage of attempt counters is not exercised",
)
@pytest.mark.options(
    RATELIMIT_STORAGE_URI=REDIS_URL or "redis://127.0.0.1:6379/0", RESIDENT_CODE_LIMIT="2 per minute"
)
def test_attempt_counters_can_live_in_redis(app, client, cards):
    import redis

    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    address = (
        f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # a fresh counter
    )
    for _attempt in range(2):
        wrong = client.post("/code", data={"code": "ABCDE-FGHJK"}, environ_base={"REMOTE_ADDR": address})
        assert wrong.status_code == 404
    blocked = client.post(
        "/code", data={"code": cards[("张伟", False)].code}, environ_base={"REMOTE_ADDR": address}
    )
    assert blocked.status_code == 429
    keys = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"]).keys(f"*{address}*")
    assert keys, "the counter is kept in Redis"


def test_cards_command_writes_the_same_sheets(app, runner, compound, people, tmp_path):
    out = tmp_path / "cards.pdf"
    result = runner.invoke(args=["cards", compound.name, "--building", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 cards" in result.output
    urls = decode_pdf(out.read_bytes())
    assert len(urls) == 2
    assert all(u.startswith("http://127.0.0.1:5000/r/") for u in urls)
    assert db.session.scalar(select(db.func.count(Invitation.id)).where(Invitation.revoked_at.is_(None))) == 2
    refused = runner.invoke(args=["cards", compound.name, "--unit", "1", "--out", str(out)])
    assert refused.exit_code == 1


def test_leaving_ends_the_session_on_the_server_even_for_a_copied_cookie(client, cards, compound):
    card = cards[("张伟", False)]
    client.get(f"/r/{card.token}")
    copied = client.get_cookie("session").value
    assert client.get("/me").status_code == 200
    client.post("/me/leave")
    assert client.get("/me").status_code == 302
    client.set_cookie("session", copied)  # someone kept a copy of the cookie
    assert client.get("/me").status_code == 302
    left = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "resident.left")).one()
    assert left.actor == f"resident:{card.invitation.id}"
    # the card still works: scanning it again starts a new session
    client.get(f"/r/{card.token}")
    assert client.get("/me").status_code == 200


def test_leave_is_offered_on_every_resident_page(client, cards, compound):
    assert 'action="/me/leave"' not in client.get(f"/p/{compound.id}").get_data(as_text=True)
    client.get(f"/r/{cards[('张伟', False)].token}")
    for path in ("/me", f"/p/{compound.id}"):
        assert 'action="/me/leave"' in client.get(path).get_data(as_text=True), path


def test_an_idle_resident_session_ends(app, client, cards):
    client.get(f"/r/{cards[('张伟', False)].token}")
    with client.session_transaction() as session:
        session["resident"] = {
            **session["resident"],
            "seen": (datetime.now(UTC) - timedelta(minutes=20)).isoformat(),
        }
    assert client.get("/me").status_code == 200  # and the request counts as activity
    with client.session_transaction() as session:
        assert datetime.fromisoformat(session["resident"]["seen"]) > datetime.now(UTC) - timedelta(minutes=1)
        session["resident"] = {
            **session["resident"],
            "seen": (datetime.now(UTC) - timedelta(minutes=31)).isoformat(),
        }
    assert client.get("/me").status_code == 302
    assert app.config["RESIDENT_IDLE_MINUTES"] == 30


def test_card_use_and_wrong_codes_are_audited_without_the_code(client, cards, compound):
    card = cards[("李娜", False)]
    client.post("/code", data={"code": "K7MP9QXR2T"})
    client.post(f"/p/{compound.id}/code", data={"code": "K7MP9QXR2T"})
    client.get(f"/r/{card.token}")
    revoke(
        db.session.get(Invitation, cards[("张伟", False)].invitation.id),
        RevokeReason.LOST,
        "t",
        datetime.now(UTC),
    )
    db.session.commit()
    client.get(f"/r/{cards[('张伟', False)].token}")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [(e.action, e.compound_id) for e in entries if e.action.startswith("code.")]
    assert ("code.wrong", None) in actions
    assert ("code.wrong", compound.id) in actions
    assert ("code.used", compound.id) in actions
    assert ("code.revoked_used", compound.id) in actions
    logged = " ".join(e.actor + e.detail for e in entries)
    for secret in ("K7MP9QXR2T", card.token, card.code):
        assert secret not in logged


def test_the_start_page_of_a_resident_is_their_home(client, cards):
    assert client.get("/").headers["Location"].endswith("/auth/login")  # nobody signed in yet
    client.get(f"/r/{cards[('张伟', False)].token}")
    assert client.get("/").headers["Location"].endswith("/me")  # the logo and the error pages' link
    assert 'class="brand" href="/"' in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize(("days", "said"), [(365, "365 days"), (1095, "3 years"), (400, "400 days")])
def test_the_retention_period_reads_in_whole_years_only_from_two(app, days, said):
    """ "1 years" would read wrong: a single year is said in days, as any period not of whole years."""
    from flask import render_template_string

    app.config["RETENTION_DAYS"] = days
    with app.test_request_context(headers={"Accept-Language": "en"}):
        text = render_template_string(
            '{% from "residents/_privacy.html" import privacy_points %}{{ privacy_points(days) }}', days=days
        )
    assert f"How long: {said} after the consultation" in text
