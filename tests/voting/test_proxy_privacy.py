"""A proxy votes for the owner who gave the authority, and sees the ballots they cast; how the owner voted
themselves stays the owner's own (DESIGN.md, "Privacy")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.voting import services
from consult.voting.models import Ballot
from tests.voting.conftest import close_round
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round


@pytest.fixture
def own_vote(client, resident, vote, owners):
    """李娜 gave 张伟 a written authority, then voted herself: no on every yes/no question."""
    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    li = owners["李娜"]
    services.record_proxy(
        vote,
        li,
        proxy_owner=owners["张伟"],
        proxy_name="",
        photo=jpeg_with_exif(),
        actor="u",
        now=vote.opens_at,
    )
    db.session.commit()
    resident("李娜", "en")
    data = {
        f"q{q.id}": ("no" if q.kind.value == "yes_no" else "company")
        for q in services.owner_questions(vote, li.id)
    }
    assert client.post(f"/me/vote/{vote.id}", data=data).status_code == 302
    client.post("/me/leave")
    db.session.rollback()
    return db.session.scalars(select(Ballot).where(Ballot.owner_id == li.id)).first().receipt.code


def test_the_proxys_ballot_page_does_not_show_the_owners_own_choices(
    client, resident, vote, owners, own_vote
):
    resident("张伟", "en")
    page = client.get(f"/me/vote/{vote.id}/for/{owners['李娜'].id}").get_data(as_text=True)
    assert "You vote for 李*" in page
    assert not re.search(r'value="no"[^>]*checked|checked[^>]*value="no"', page)
    assert own_vote not in page


def test_the_proxy_cannot_open_the_owners_own_receipt(client, resident, vote, owners, own_vote):
    close_round(vote)
    resident("张伟", "en")
    assert client.get(f"/me/vote/{vote.id}/receipt/{own_vote}").status_code == 404
    closed = client.get(f"/me/vote/{vote.id}/for/{owners['李娜'].id}").get_data(as_text=True)
    assert own_vote not in closed


def test_the_proxy_sees_the_ballot_they_cast(client, resident, vote, owners, own_vote):
    resident("张伟", "en")
    li = owners["李娜"]
    data = {
        f"q{q.id}": ("yes" if q.kind.value == "yes_no" else "company")
        for q in services.owner_questions(vote, li.id)
    }
    response = client.post(f"/me/vote/{vote.id}/for/{li.id}", data=data)
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    again = client.get(f"/me/vote/{vote.id}/for/{li.id}").get_data(as_text=True)
    assert re.search(r'value="yes"[^>]*checked|checked[^>]*value="yes"', again)
