"""The roster freezes when the vote opens: ballots are counted against the roster as it stood then."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func
from sqlalchemy import select

from consult.compounds.models import Dwelling
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import RosterFrozen
from consult.roster.services import apply_rows
from consult.roster.services import plan_rows
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.voting.services import count_round
from tests.voting.conftest import ROSTER
from tests.voting.conftest import open_round

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
