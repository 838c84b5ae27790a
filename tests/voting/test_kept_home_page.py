"""The resident's home page kept as rendered: served again from the same session without touching the
database beyond the card's check, and never once anything it shows has changed: a vote, a round opening
by the clock, another device, another language, a message shown once."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from consult.extensions import db
from consult.residents import page_cache
from consult.residents import views as resident_views
from consult.residents.models import RevokeReason
from consult.residents.services import revoke
from consult.voting import services
from tests.district.conftest import count_queries  # noqa: F401  the fixture
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round

OPEN_NOW = ("Open for you now", "Vote on the renovation plan (round 3)")


@pytest.fixture
def opened(vote):
    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    return vote


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def open_section(html: str) -> str:
    return html.split("Open for you now", 1)[1].split("What you have answered", 1)[0]


def test_the_page_is_served_again_with_only_the_cards_check(client, resident, opened, count_queries):  # noqa: F811
    resident("张伟", "en")
    client.get("/me")  # with the message of the privacy notice read, shown once
    first = client.get("/me").get_data(as_text=True)
    db.session.expunge_all()  # as in a new request of the server: nothing is known before it asks
    count_queries.reset()
    again = client.get("/me")
    assert again.status_code == 200
    assert again.get_data(as_text=True) == first
    assert count_queries.count == 1  # the card, its compound and its owner or occupant: one query


def test_a_vote_changes_the_page_at_once(client, resident, opened, owners):
    resident("张伟", "en")
    assert "Vote on the renovation plan (round 3)" in open_section(client.get("/me").get_data(as_text=True))
    choices = {
        f"q{q.id}": ("yes" if q.kind.value == "yes_no" else "company")
        for q in services.owner_questions(opened, owners["张伟"].id)
    }
    assert client.post(f"/me/vote/{opened.id}", data=choices).status_code == 302
    client.get("/me")  # shows the "vote saved" message: a page with a message is not kept
    after = client.get("/me").get_data(as_text=True)
    assert "Vote on the renovation plan (round 3)" not in open_section(after)
    assert "Vote on the renovation plan (round 3)" in after.split("What you have answered", 1)[1]
    assert "You have answered everything open to you now" in open_section(after)  # and may change it
    assert "Nothing is open right now" not in after


def test_a_change_by_staff_in_the_compound_changes_the_page(client, resident, opened):
    resident("张伟", "en")
    assert "Vote on the renovation plan" in open_section(client.get("/me").get_data(as_text=True))
    opened.closes_at = datetime.now(UTC) - timedelta(minutes=1)  # the worker closes it early
    db.session.commit()
    assert "Nothing is open right now" in client.get("/me").get_data(as_text=True)


def test_a_change_in_another_compound_keeps_the_page(client, resident, opened, create_compound):
    resident("张伟", "en")
    client.get("/me")
    first = client.get("/me").get_data(as_text=True)
    version = opened.compound.content_version
    other = create_compound("另一个小区")
    other.committee = "另一个院委会"
    db.session.commit()
    assert opened.compound.content_version == version
    assert client.get("/me").get_data(as_text=True) == first


def test_a_round_opening_by_the_clock_shows_at_that_moment(app, client, resident, opened, monkeypatch):
    app.config["RESIDENT_PAGE_SECONDS"] = 24 * 3600  # only the round's own moment can end the kept page
    now = datetime.now(UTC)
    opened.opens_at = now + timedelta(minutes=10)
    db.session.commit()
    resident("张伟", "en")
    for module in (resident_views, page_cache):
        monkeypatch.setattr(module, "utcnow", lambda: now)
    assert "Nothing is open right now" in client.get("/me").get_data(as_text=True)
    assert "Nothing is open right now" in client.get("/me").get_data(as_text=True)
    later = now + timedelta(minutes=11)
    for module in (resident_views, page_cache):
        monkeypatch.setattr(module, "utcnow", lambda: later)
    assert "Vote on the renovation plan" in open_section(client.get("/me").get_data(as_text=True))


def test_each_device_and_language_gets_its_own_page(app, client, resident, opened, cards):
    resident("张伟", "en")
    mine = client.get("/me").get_data(as_text=True)
    other_device = app.test_client()
    other_device.get(f"/r/{cards['张伟'].token}")
    theirs = other_device.get("/me").get_data(as_text=True)
    assert form_token(theirs) != form_token(mine)  # each page carries its own session's form token
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    assert 'lang="zh-CN"' in client.get("/me").get_data(as_text=True)


def test_a_message_is_shown_once(client, cards, opened):
    client.get(f"/r/{cards['张伟'].token}")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post("/me/privacy")
    assert "Thank you. You can now take part." in client.get("/me").get_data(as_text=True)
    assert "Thank you. You can now take part." not in client.get("/me").get_data(as_text=True)


def test_off_when_the_size_is_zero(app, client, resident, opened):
    app.config["RESIDENT_PAGE_CACHE"] = 0
    resident("张伟", "en")
    client.get("/me")
    assert "resident_pages" not in app.extensions


def vote_as(client, round_, owner, path: str = "") -> None:
    choices = {
        f"q{q.id}": ("yes" if q.kind.value == "yes_no" else "company")
        for q in services.owner_questions(round_, owner.id)
    }
    response = client.post(f"/me/vote/{round_.id}{path}", data=choices)
    assert response.status_code == 302
    assert "/receipt/" in response.headers["Location"]  # the vote was saved


def test_another_owners_vote_keeps_the_page(app, client, resident, opened, owners, cards, count_queries):  # noqa: F811
    resident("张伟", "en")
    client.get("/me")
    first = client.get("/me").get_data(as_text=True)
    neighbour = app.test_client()
    neighbour.get(f"/r/{cards['李娜'].token}")
    neighbour.post("/me/privacy")
    vote_as(neighbour, opened, owners["李娜"])
    db.session.expunge_all()
    count_queries.reset()
    assert client.get("/me").get_data(as_text=True) == first
    assert count_queries.count == 1


def test_the_proxy_holders_page_follows_the_owner_who_gave_the_authority(
    app, client, resident, opened, owners, cards
):
    services.record_proxy(
        opened,
        owners["李娜"],
        proxy_owner=owners["张伟"],
        proxy_name="",
        photo=jpeg_with_exif(),
        actor="u",
        now=opened.opens_at,
    )
    db.session.commit()
    resident("张伟", "en")
    client.get("/me")
    assert "李*" in open_section(client.get("/me").get_data(as_text=True))
    principal = app.test_client()
    principal.get(f"/r/{cards['李娜'].token}")
    principal.post("/me/privacy")
    vote_as(principal, opened, owners["李娜"])  # she votes herself: her proxy's page shows it done
    assert "李*" not in open_section(client.get("/me").get_data(as_text=True))


def test_a_kept_page_is_not_served_once_the_card_has_left(client, resident, opened):
    resident("张伟", "en")
    client.get("/me")
    assert client.get("/me").status_code == 200  # kept now
    copied = client.get_cookie("session")
    assert copied is not None
    client.post("/me/leave")
    client.set_cookie("session", copied.value)  # the same cookie, replayed
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/code")


def test_a_kept_page_is_not_served_once_the_card_is_revoked(client, resident, opened, cards):
    invitation = resident("张伟", "en")
    client.get("/me")
    assert client.get("/me").status_code == 200
    revoke(invitation, RevokeReason.LOST, "worker", datetime.now(UTC))
    db.session.commit()
    assert client.get("/me").status_code == 302


def test_an_address_with_a_query_is_not_kept(app, client, resident, opened):
    resident("张伟", "en")
    client.get("/me")  # with a message
    client.get("/me")  # kept
    for n in range(3):
        assert client.get(f"/me?n={n}").status_code == 200
    assert len(app.extensions["resident_pages"]) == 1  # /me alone
