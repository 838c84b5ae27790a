"""Who must have answered before a worker may close a round early, and who a reminder goes to.

Surveys are answered by owners and occupants, one answer per dwelling; the vote is cast by owners only,
one owner counting once whatever the dwellings they hold, and only owners in the scope of its questions
(a lift vote is per 单元)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.compounds.models import StairUnit
from consult.district.participation import participation_of
from consult.extensions import db
from consult.residents.models import Invitation
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import participation
from consult.rounds.services import plan_default_rounds
from consult.voting import services as voting
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.rules import PRESETS

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
# 张伟 owns two dwellings (one owner key); 1-102 has a tenant too; 2-202 has a tenant and no known
# owner; 2-201 is held by co-owners who name one voter; the developer holds two unsold units.
ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,邮箱,身份,业主编号,共有人\n"
    "1,1,101,80.50,张伟,zhang@example.test,业主,A1,\n"
    "1,1,102,66.00,张伟,zhang@example.test,业主,A1,\n"
    "1,1,102,,王芳,wang@example.test,租户,,\n"
    "1,2,201,90.25,李娜,li@example.test,业主,,\n"
    "2,1,101,75.00,,,开发商,,\n"
    "2,1,102,75.00,,,开发商,,\n"
    "2,1,201,60.00,周建国,zhou@example.test,业主,,周敏\n"
    "2,1,202,55.55,,,业主,,\n"
    "2,1,202,,赵六,zhao@example.test,租户,,\n"
)


@pytest.fixture
def roster(compound):
    voting.register_with_engine()
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return compound


@pytest.fixture
def owners(roster) -> dict[str, Owner]:
    found = db.session.scalars(select(Owner).where(Owner.compound_id == roster.id)).all()
    return {("开发商" if o.kind is OwnerKind.DEVELOPER else o.name): o for o in found}


@pytest.fixture
def invitations(roster) -> dict[str, Invitation]:
    issued = issue_cards(card_people(roster), roster, "test", NOW)
    db.session.commit()
    return {
        (
            "开发商" if c.person.owner and c.person.owner.kind is OwnerKind.DEVELOPER else c.person.name
        ): c.invitation
        for c in issued
    }


@pytest.fixture
def vote(roster):
    rounds = plan_default_rounds(roster, NOW - timedelta(days=90), "test")
    for earlier in rounds[:2]:
        earlier.state = RoundState.DONE
    third = rounds[2]
    third.opens_at, third.closes_at = NOW, NOW + timedelta(days=14)
    db.session.commit()
    return third


def _yes(round_, owner_id):
    return {
        q.id: ("yes" if q.kind is QuestionKind.YES_NO else "self_management")
        for q in voting.owner_questions(round_, owner_id)
    }


def test_the_roster_has_what_the_tests_need(roster, owners):
    assert sorted(owners) == ["周建国", "开发商", "张伟", "李娜"]
    assert owners["周建国"].co_owners == "周敏"
    assert len(owners["张伟"].dwellings) == 2


def test_a_vote_closes_early_once_every_owner_voted_whatever_the_tenants(vote, owners, invitations):
    voting.add_standard_questions(vote, "test", NOW)
    apply(vote, Action.OPEN, "test", NOW + timedelta(hours=1))
    db.session.commit()
    during = NOW + timedelta(hours=2)
    for name in ("张伟", "李娜", "周建国"):
        voting.cast_online(vote, invitations[name], _yes(vote, owners[name].id), during)
    db.session.commit()
    with pytest.raises(TransitionRefused):  # the developer has not voted yet
        apply(vote, Action.CLOSE, "test", during)
    voting.cast_online(vote, invitations["开发商"], _yes(vote, owners["开发商"].id), during)
    db.session.commit()
    part = participation(vote)
    # owned dwellings only: the tenants' home without an owner cannot vote, so it is not waited for
    assert (part.answered, part.eligible) == (6, 6)
    assert participation_of([(vote.id, vote.compound_id, vote.kind)]) == {vote.id: (6, 6)}  # district
    apply(vote, Action.CLOSE, "test", during + timedelta(minutes=1))
    assert vote.state is RoundState.CLOSED


def test_a_lift_vote_of_one_unit_waits_only_for_that_units_owners(vote, owners, invitations, roster):
    unit = db.session.scalars(
        select(StairUnit).where(StairUnit.id == owners["张伟"].dwellings[0].unit_id)
    ).one()
    voting.add_question(
        vote,
        topic=Topic.LIFT,
        prompt_zh="加装电梯",
        prompt_en=None,
        rule=PRESETS["civil_code_major"],
        actor="test",
        now=NOW,
        scope=Scope.UNIT,
        unit_id=unit.id,
    )
    apply(vote, Action.OPEN, "test", NOW + timedelta(hours=1))
    db.session.commit()
    during = NOW + timedelta(hours=2)
    voting.cast_online(vote, invitations["张伟"], _yes(vote, owners["张伟"].id), during)
    db.session.commit()
    part = participation(vote)
    assert (part.answered, part.eligible) == (2, 2)
    assert part.by_unit == {unit.id: (2, 2)}
    apply(vote, Action.CLOSE, "test", during + timedelta(minutes=1))
    assert vote.state is RoundState.CLOSED
