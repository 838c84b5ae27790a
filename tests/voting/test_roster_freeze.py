"""The roster freezes when the vote opens: ballots are counted against the roster as it stood then."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func
from sqlalchemy import select

from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import RosterFrozen
from consult.roster.services import apply_rows
from consult.roster.services import plan_rows
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.voting import services
from consult.voting.models import Ballot
from consult.voting.models import Proxy
from consult.voting.services import count_round
from tests.voting.conftest import ROSTER
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round
from tests.voting.test_services import invitation
from tests.voting.test_services import yes_to_all

#: the same roster with one more dwelling and a bigger flat for 李娜
CHANGED = ROSTER.replace("1,2,201,90.25,李娜", "1,2,201,190.25,李娜") + "2,1,301,88.00,赵敏,,,业主,\n"


def dwellings(compound_id: int) -> int:
    from consult.compounds.models import Building
    from consult.compounds.models import StairUnit

    return db.session.scalar(
        select(func.count(Dwelling.id))
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound_id)
    )


def test_a_draft_vote_leaves_the_roster_open(vote):
    before = dwellings(vote.compound_id)
    apply_rows(vote.compound, parse_roster(CHANGED.encode()), "test")
    db.session.commit()
    assert dwellings(vote.compound_id) == before + 1


def test_an_open_vote_freezes_the_roster_and_the_count_stays(vote, english_messages):
    open_round(vote)
    before = dwellings(vote.compound_id)
    totals = [(r.question.id, r.outcome) for r in count_round(vote)]
    with pytest.raises(RosterFrozen, match="round 3"):
        plan_rows(vote.compound, parse_roster(CHANGED.encode()))
    with pytest.raises(RosterFrozen):
        apply_rows(vote.compound, parse_roster(CHANGED.encode()), "test")
    db.session.rollback()
    assert dwellings(vote.compound_id) == before
    assert [(r.question.id, r.outcome) for r in count_round(vote)] == totals


def test_a_failed_vote_lets_a_corrected_roster_in_for_its_repeat(vote):
    open_round(vote)
    apply(vote, Action.CLOSE, "test", vote.closes_at)
    apply(vote, Action.FAIL, "test", vote.closes_at + timedelta(hours=1), reason="quorum not reached")
    db.session.commit()
    before = dwellings(vote.compound_id)
    apply_rows(vote.compound, parse_roster(CHANGED.encode()), "test")
    db.session.commit()
    assert dwellings(vote.compound_id) == before + 1


def test_the_upload_page_says_the_roster_is_frozen_and_refuses_a_file(vote, client, auth, workers):
    open_round(vote)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login(workers["a"])
    page = client.get(f"/compounds/{vote.compound_id}/roster")
    assert "The roster is frozen since the vote of round 3 opened" in page.get_data(as_text=True)
    before = dwellings(vote.compound_id)
    response = client.post(
        f"/compounds/{vote.compound_id}/roster",
        data={"file": (BytesIO(CHANGED.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert "The roster is frozen" in response.get_data(as_text=True)
    assert dwellings(vote.compound_id) == before


#: the roster with 李娜's flat now in the name of her son: a different key-less owner
RENAMED = ROSTER.replace("1,2,201,90.25,李娜", "1,2,201,90.25,李强")


def test_a_corrected_roster_after_a_failed_vote_keeps_the_owners_who_voted_in_it(vote, cards):

    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    li = invitation(cards, "李娜").owner
    services.cast_online(
        vote, invitation(cards, "李娜"), yes_to_all(vote, li.id), vote.opens_at + timedelta(hours=2)
    )
    db.session.commit()
    apply(vote, Action.CLOSE, "test", vote.closes_at)
    apply(vote, Action.FAIL, "test", vote.closes_at + timedelta(hours=1), reason="quorum not reached")
    db.session.commit()

    li_id = li.id
    apply_rows(vote.compound, parse_roster(RENAMED.encode()), "test")
    db.session.commit()

    # the failed vote's history still names the owner who cast its ballots
    ballots = db.session.scalars(select(Ballot).where(Ballot.round_id == vote.id)).all()
    assert ballots
    assert {b.owner_id for b in ballots} == {li_id}
    kept = db.session.get(Owner, li_id)
    assert kept is not None
    assert kept.name == "李娜"
    assert not kept.dwellings  # she holds nothing now: she counts in no later vote
    new = db.session.scalars(select(Owner).where(Owner.name == "李强")).one()
    assert [d.room for d in new.dwellings] == ["201"]


def test_a_corrected_roster_keeps_an_owner_who_gave_an_authority_in_a_draft_vote(vote, uploads):

    owners = {o.name: o for o in db.session.scalars(select(Owner)).all()}
    proxy = services.record_proxy(
        vote,
        owners["李娜"],
        proxy_owner=owners["陈秀英"],
        proxy_name="",
        photo=jpeg_with_exif(),
        actor="user:1",
        now=vote.opens_at,
    )
    db.session.commit()
    apply_rows(vote.compound, parse_roster(RENAMED.encode()), "test")
    db.session.commit()
    assert db.session.get(Proxy, proxy.id).owner.name == "李娜"
